// GET /events as a subscription: blocks delivered one at a time in height order, reconnecting
// after the last block seen when the stream drops; and the signed URL a browser's EventSource needs.
import { READ_KEY_PARAM, READ_SIGNATURE_PARAM, READ_TIME_PARAM } from "@cairn/messaging";
import { CairnClientError } from "./errors.ts";
import { SseParser } from "./sse.ts";
import type { Transport } from "./transport.ts";
import type { BlockEvent } from "./types.ts";

export interface SubscribeOptions {
  /** Aborting ends the subscription; the returned promise then resolves. */
  readonly signal?: AbortSignal;
  /** First height to deliver (blocks before now are replayed). Default: only new blocks. */
  readonly from?: number;
  /** Reconnect, resuming after the last block seen, when the stream drops. Default true. */
  readonly reconnect?: boolean;
  /** Pause before reconnecting, ms. Default 1000. */
  readonly retryMs?: number;
  /** Told about each dropped connection before a reconnect. */
  readonly onError?: (err: unknown) => void;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new CairnClientError("ABORTED", "aborted");
}

/** Resolves after `ms`, or rejects with the abort reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export async function subscribeEvents(
  t: Transport,
  onBlock: (b: BlockEvent) => void | Promise<void>,
  o: SubscribeOptions = {},
): Promise<void> {
  const { base, readHeaders, toApiError } = t;
  const doFetch = t.fetch;
  const opts = { headers: t.headers };
  const { signal } = o;
  let next = o.from;
  for (;;) {
    if (signal?.aborted) return;
    let res: Response;
    try {
      // Signed anew for each connection: a signature is good for 60 s, a stream for as long as it lasts.
      const path = `/events${next === undefined ? "" : `?from=${next}`}`;
      res = await doFetch(`${base}${path}`, {
        headers: { accept: "text/event-stream", ...opts.headers, ...(await readHeaders("GET", path, undefined)) },
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) return;
      if (o.reconnect === false) throw new CairnClientError("NETWORK", `cannot reach ${base}`, { cause: err });
      o.onError?.(err);
      await sleep(o.retryMs ?? 1000, signal).catch(() => {});
      continue;
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => "");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw toApiError(res, body);
    }
    // Callbacks run one at a time, in height order; a throwing callback ends the subscription.
    let chain = Promise.resolve();
    let failed: unknown;
    const parser = new SseParser((m) => {
      if (m.event !== "block" || failed !== undefined) return;
      let block: BlockEvent;
      try {
        block = JSON.parse(m.data) as BlockEvent;
      } catch {
        failed = new CairnClientError("BAD_RESPONSE", "an event's data is not JSON");
        return;
      }
      next = block.height + 1;
      chain = chain
        .then(() => onBlock(block))
        .catch((err) => {
          failed ??= err;
        });
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let dropped: unknown;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
        await chain;
        if (failed !== undefined) break;
      }
    } catch (err) {
      dropped = err;
    } finally {
      await reader.cancel().catch(() => {});
    }
    await chain;
    if (failed !== undefined) throw failed;
    if (signal?.aborted) return;
    if (o.reconnect === false) {
      if (dropped !== undefined) throw new CairnClientError("NETWORK", "event stream broke", { cause: dropped });
      return;
    }
    o.onError?.(dropped ?? new CairnClientError("NETWORK", "event stream ended"));
    await sleep(o.retryMs ?? 1000, signal).catch(() => {});
  }
}

export async function eventsUrl(t: Transport, o: { from?: number } = {}): Promise<string> {
  const { base, signRead } = t;
  const path = `/events${o.from === undefined ? "" : `?from=${o.from}`}`;
  const s = await signRead("GET", path, undefined);
  if (s === undefined) return `${base}${path}`;
  const sep = o.from === undefined ? "?" : "&";
  return `${base}${path}${sep}${READ_KEY_PARAM}=${s.key}&${READ_TIME_PARAM}=${s.time}&${READ_SIGNATURE_PARAM}=${s.signature}`;
}
