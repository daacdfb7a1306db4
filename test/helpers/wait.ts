// Waiting in tests: poll a condition until it holds, bounded in time.

/** Polls `f` every `everyMs` until it is true; returns the ms it took; throws naming `what` after `ms`. */
export async function until(
  f: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  everyMs = 25,
): Promise<number> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - t0;
}
