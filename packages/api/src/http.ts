// What every route shares: the error body, answering in the client's format (JSON or msgpack),
// binary bodies, hex parameters, and the context a route module is registered with.
import { fromHex } from "@cairn/crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Reader, ReadGuard } from "./access.ts";
import type { ApiBackend, CommittedBlockEvent } from "./backend.ts";
import { ApiError } from "./errors.ts";
import type { StreamRegistry } from "./events.ts";
import type { ApiTelemetry } from "./metrics.ts";
import { MSGPACK, packResponse, wantsMsgpack } from "./negotiate.ts";

/** A binary request body, marked so it cannot be confused with a parsed JSON object. */
export class BinaryBody {
  readonly bytes: Uint8Array;
  /** True for application/octet-stream: the body is one raw envelope, not msgpack-wrapped. */
  readonly raw: boolean;
  constructor(bytes: Uint8Array, raw: boolean) {
    this.bytes = bytes;
    this.raw = raw;
  }
}

export interface Limits {
  readonly maxBatch: number;
  readonly maxQueryBytes: number;
  readonly defaultWaitMs: number;
  readonly maxWaitMs: number;
  readonly retryAfter: string;
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export type Send = (req: FastifyRequest, reply: FastifyReply, status: number, body: unknown) => FastifyReply;

export const send: Send = (req, reply, status, body) => {
  reply.code(status).header("vary", "accept");
  if (wantsMsgpack(req.headers.accept)) return reply.type(MSGPACK).send(packResponse(body));
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(body));
};

/** A hex parameter's bytes, or the error to answer with (POST /txs reports bad items one by one). */
export function hexItem(v: unknown, what: string): Uint8Array | ApiError {
  if (typeof v !== "string") return new ApiError("BAD_HEX", `${what} must be a hex string`);
  try {
    return fromHex(v);
  } catch {
    return new ApiError("BAD_HEX", `${what} is not valid hex`);
  }
}

/** A whole-number query parameter from `min` to `max` (`fallback` when absent), or BAD_REQUEST. */
export function queryNumber(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ApiError("BAD_REQUEST", `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** The console's files (GET /console/...), loaded by the node from @cairn/console's build. */
export interface ConsoleAssets {
  /** File name (e.g. "index.html", "console.js") to its content type and bytes. */
  readonly files: ReadonlyMap<string, { readonly type: string; readonly body: Uint8Array }>;
  /** Why there are no files, when there are none (shown instead of the page). */
  readonly missing?: string;
}

/** What a route module needs from the server: the backend, the limits, readers, telemetry, shutdown. */
export interface RouteContext {
  readonly app: FastifyInstance;
  readonly backend: ApiBackend;
  readonly limits: Limits;
  readonly guard: ReadGuard;
  /** The signed reader of a request (on a "members" chain), set by the access hook. */
  readonly readers: WeakMap<FastifyRequest, Reader>;
  readonly telemetry: ApiTelemetry;
  /** True once the server is closing. */
  closing(): boolean;
  /** Resolves (to null) when the server starts closing: long waits end with it. */
  readonly closed: Promise<null>;
  readonly streams: StreamRegistry;
  readonly console: ConsoleAssets | undefined;
  readonly events: {
    readonly keepAliveMs: number;
    readonly maxBufferedBytes: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly onSent: (e: CommittedBlockEvent) => void;
  };
}
