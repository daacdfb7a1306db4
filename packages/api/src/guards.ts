import type { Server } from "node:http";
import type { Socket } from "node:net";

// What keeps one client from tying up the node: timeouts on receiving a request, caps on open
// connections (per node and per client address), and a token bucket on writes per client address.
// Reads are not rate limited (they are cheap, and event streams stay open by design).

export interface ApiGuards {
  /** Time to receive a whole request, headers and body; a trickled body is cut off with 408 (ms). */
  readonly requestTimeoutMs: number;
  /** Time to receive a request's headers (ms). */
  readonly headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (ms). */
  readonly keepAliveTimeoutMs: number;
  /** Open connections the node accepts; more are answered 503 SERVER_BUSY and closed. */
  readonly maxConnections: number;
  /** Open connections one client address may hold; more are answered 429 TOO_MANY_CONNECTIONS. */
  readonly maxConnectionsPerClient: number;
  /** Write requests (POST) per second one client address may send on average... */
  readonly writesPerSecond: number;
  /** ...and in a burst; beyond it, 429 RATE_LIMITED with Retry-After. */
  readonly writeBurst: number;
}

export const defaultApiGuards: ApiGuards = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_024,
  maxConnectionsPerClient: 256,
  writesPerSecond: 1_000,
  writeBurst: 2_000,
};

/** A raw HTTP error response in the API's format, for a socket no request handler will see. */
export function rawError(status: string, code: string, message: string, retryAfter?: number): string {
  const body = JSON.stringify({ error: { code, message } });
  return (
    `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    (retryAfter === undefined ? "" : `retry-after: ${retryAfter}\r\n`) +
    `connection: close\r\n\r\n${body}`
  );
}

/** Counts open connections per node and per client address, and turns away those over the caps. */
export function limitConnections(server: Server, g: ApiGuards): { open(): number } {
  const perClient = new Map<string, number>();
  let open = 0;
  server.prependListener("connection", (socket: Socket) => {
    const client = socket.remoteAddress ?? "unknown";
    const mine = perClient.get(client) ?? 0;
    const refuse =
      open >= g.maxConnections
        ? rawError("503 Service Unavailable", "SERVER_BUSY", "the node has too many open connections", 1)
        : mine >= g.maxConnectionsPerClient
          ? rawError(
              "429 Too Many Requests",
              "TOO_MANY_CONNECTIONS",
              `this client already has ${mine} open connections (the limit is ${g.maxConnectionsPerClient})`,
              1,
            )
          : undefined;
    if (refuse !== undefined) {
      // The HTTP parser never sees this socket's request: answer and close it ourselves.
      socket.removeAllListeners("data");
      socket.pause();
      socket.end(refuse);
      socket.destroySoon?.();
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    open++;
    perClient.set(client, mine + 1);
    socket.once("close", () => {
      open--;
      const n = (perClient.get(client) ?? 1) - 1;
      if (n <= 0) perClient.delete(client);
      else perClient.set(client, n);
    });
  });
  return { open: () => open };
}

/** A token bucket per client address: `take` answers 0 when a write may go ahead, else the seconds to wait. */
export class WriteLimiter {
  private readonly g: ApiGuards;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;

  constructor(g: ApiGuards, now: () => number = () => performance.now()) {
    this.g = g;
    this.now = now;
  }

  take(client: string): number {
    const t = this.now();
    let b = this.buckets.get(client);
    if (b === undefined) {
      // Forget clients that have been quiet long enough to be full again: the map stays small.
      if (this.buckets.size > 10_000) {
        for (const [k, v] of this.buckets) {
          if ((t - v.at) / 1000 >= this.g.writeBurst / this.g.writesPerSecond) this.buckets.delete(k);
        }
      }
      b = { tokens: this.g.writeBurst, at: t };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(this.g.writeBurst, b.tokens + ((t - b.at) / 1000) * this.g.writesPerSecond);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.g.writesPerSecond));
  }
}
