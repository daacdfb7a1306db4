// GET /events: committed blocks as server-sent events. A client that reconnects with
// `?from=<height>` (or the standard Last-Event-ID header) is first replayed what it missed.
import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiBackend, CommittedBlockEvent } from "./backend.ts";
import { ApiError } from "./errors.ts";
import { blockEventToJson } from "./render.ts";

export interface EventStreamOptions {
  readonly keepAliveMs: number;
  /** A client this far behind (bytes queued in its socket) is cut off rather than buffered for. */
  readonly maxBufferedBytes: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Asked before each block is sent: false ends the stream (the reader lost the right to it). */
  readonly allowed?: () => boolean;
  /** Told of each block this stream sent (for the "streamed" trace point). */
  readonly onSent?: (e: CommittedBlockEvent) => void;
}

/** The open streams, so that closing the server can end them (they would otherwise hold it open). */
export type StreamRegistry = Set<() => void>;

function parseStart(req: FastifyRequest): number | undefined {
  const q = (req.query as Record<string, unknown>).from;
  const lastId = req.headers["last-event-id"];
  const parse = (s: unknown, what: string): number => {
    if (typeof s !== "string" || !/^\d{1,15}$/.test(s)) {
      throw new ApiError("BAD_REQUEST", `${what} must be a block height`);
    }
    return Number(s);
  };
  if (q !== undefined) return parse(q, "from");
  if (lastId !== undefined) return parse(lastId, "Last-Event-ID") + 1;
  return undefined;
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

export async function serveEvents(
  req: FastifyRequest,
  reply: FastifyReply,
  backend: ApiBackend,
  opts: EventStreamOptions,
  registry: StreamRegistry,
): Promise<void> {
  const from = parseStart(req);
  const res = reply.raw;
  reply.hijack();
  res.writeHead(200, {
    ...opts.headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    // Stops reverse proxies (nginx) from buffering the stream.
    "x-accel-buffering": "no",
  });
  res.write(": cairn events\n\n");

  let closed = false;
  let replaying = from !== undefined;
  let lastSent = from === undefined ? -1 : from - 1;
  const queued: CommittedBlockEvent[] = [];

  const send = (e: CommittedBlockEvent): boolean => {
    const data = blockEventToJson(e);
    if (data.height <= lastSent) return true;
    lastSent = data.height;
    const ok = res.write(`id: ${data.height}\nevent: block\ndata: ${JSON.stringify(data)}\n\n`);
    opts.onSent?.(e);
    if (!ok && res.writableLength > opts.maxBufferedBytes) {
      req.log.warn({ height: data.height }, "event stream client too slow; disconnecting");
      res.destroy();
    }
    return ok;
  };

  const unsubscribe = backend.subscribe((e) => {
    if (closed) return;
    if (opts.allowed !== undefined && !opts.allowed()) {
      req.log.info("event stream reader no longer allowed; closing");
      end();
      return;
    }
    if (replaying) queued.push(e);
    else send(e);
  });
  const keepAlive = setInterval(() => {
    if (!closed) res.write(": keep-alive\n\n");
  }, opts.keepAliveMs);
  keepAlive.unref();

  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unsubscribe();
    registry.delete(end);
  };
  const end = (): void => {
    cleanup();
    res.end();
  };
  registry.add(end);
  res.on("close", cleanup);
  res.on("error", cleanup);

  if (from === undefined) return;
  try {
    // Subscribed before reading the height: every block past it arrives through `queued`.
    const latest = backend.status().height;
    for (let h = from; h <= latest && !closed; h++) {
      const view = await backend.getBlock(h);
      if (!view) break;
      // Replay is paced by the client: wait for its socket to drain rather than queue history.
      if (!send({ view }) && !closed) await waitDrain(res);
    }
    for (const e of queued) if (!closed) send(e);
  } catch (err) {
    req.log.error({ err }, "event replay failed");
    end();
  } finally {
    queued.length = 0;
    replaying = false;
  }
}
