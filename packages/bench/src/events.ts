// Following a node's committed blocks on GET /events (server-sent events).

export interface BlockEvent {
  height: number;
  hash?: string;
  time: number;
  txCount: number;
  receipts: { txHash: string; code: string }[];
}

/**
 * Follows GET /events (from height `from` when given: the node first replays the committed blocks
 * from there); resolves `ready` once the stream is open (subscribed).
 */
export function followEvents(
  url: string,
  onBlock: (e: BlockEvent, at: number) => void,
  signal: AbortSignal,
  from?: number,
) {
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  const done = (async () => {
    const res = await fetch(`${url}/events${from === undefined ? "" : `?from=${from}`}`, {
      signal,
      headers: { accept: "text/event-stream" },
    });
    if (!res.ok || res.body === null) throw new Error(`GET /events answered ${res.status}`);
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body) {
        markReady();
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
          const ev = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const at = performance.now();
          let data: string | undefined;
          let type = "message";
          for (const line of ev.split("\n")) {
            if (line.startsWith("data: ")) data = line.slice(6);
            else if (line.startsWith("event: ")) type = line.slice(7);
          }
          if (type === "block" && data !== undefined) onBlock(JSON.parse(data) as BlockEvent, at);
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    }
  })();
  return { ready, done };
}
