// Waiting in tests: poll a condition until it holds, bounded in time. The one implementation every
// test uses (test/helpers/wait.ts re-exports it).

/** Polls `cond` every `everyMs` until it is true; returns the ms it took; throws naming `what` after `ms`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = "a condition",
  everyMs = 10,
): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - t0;
}

/** `until` for clusters of processes: named first, a minute by default, polled every 250 ms. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  await until(cond, ms, what, 250);
}
