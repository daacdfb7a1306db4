// The node's HTTP API (FG DLT "Interface"): a thin translation between HTTP and an ApiBackend.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { fromHex, toHex, utf8 } from "@cairn/crypto";
import { decode, encode, MAX_NAME_BYTES, MAX_TX_BYTES, MessagingError, type Value } from "@cairn/messaging";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { type Reader, ReadGuard, routeLevel } from "./access.ts";
import type {
  ApiBackend,
  CommittedBlockEvent,
  EvidenceQuery,
  QueryRequest,
  QueryResult,
  SubmitResult,
  TxLookup,
} from "./backend.ts";
import { ApiError, ERROR_STATUS, RETRYABLE_CODES, statusForCode } from "./errors.ts";
import { type StreamRegistry, serveEvents } from "./events.ts";
import { registerGovRoutes } from "./gov.ts";
import { type ApiGuards, defaultApiGuards, limitConnections, rawError, WriteLimiter } from "./guards.ts";
import { type ApiTelemetry, noopApiTelemetry } from "./metrics.ts";
import { MSGPACK, packResponse, wantsMsgpack } from "./negotiate.ts";
import {
  blockToJson,
  contractToJson,
  evidenceToJson,
  proofToJson,
  queryResultToJson,
  receiptToJson,
  stateToJson,
  statusToJson,
  txToJson,
} from "./render.ts";

export interface ApiServerOptions {
  readonly backend: ApiBackend;
  /** A pino-compatible logger; without one the server logs nothing. */
  readonly logger?: FastifyBaseLogger;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port (see `address`). */
  readonly port?: number;
  /** Largest request body, bytes. Default 16 MiB. */
  readonly bodyLimit?: number;
  /** Most transactions in one POST /txs. Default 10000. */
  readonly maxBatch?: number;
  /** Largest encoded args of one POST /query, bytes. Default MAX_TX_BYTES (1 MiB), as for a transaction. */
  readonly maxQueryBytes?: number;
  /** `?wait=commit` without `timeout`, ms. Default 10000. */
  readonly defaultWaitMs?: number;
  /** Upper bound on `?timeout=`, ms. Default 60000. */
  readonly maxWaitMs?: number;
  /** Retry-After for MEMPOOL_FULL and NOT_READY, seconds. Default 1. */
  readonly retryAfterSeconds?: number;
  /** Interval of the event stream's keep-alive comments, ms. Default 15000. */
  readonly keepAliveMs?: number;
  /** Bytes an event stream client may fall behind before it is disconnected. Default 8 MiB. */
  readonly maxEventBufferBytes?: number;
  /** Access-Control-Allow-Origin for browser clients; false sends no CORS headers. Default "*". */
  readonly corsOrigin?: string | false;
  /**
   * Told of every answered request, e.g. to count it in metrics. `route` is the route pattern
   * (`/txs/:hash`), or "unmatched" for a request no route took.
   */
  readonly onRequestDone?: (r: { method: string; route: string; status: number; seconds: number }) => void;
  /** Request metrics and trace points (received, streamed); a no-op when absent. */
  readonly telemetry?: ApiTelemetry;
  /** Timeouts, connection caps and the write rate limit (guards.ts); each field defaults. */
  readonly guards?: Partial<ApiGuards>;
}

export interface ApiServer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:26657. */
  readonly address: string;
  /** The underlying fastify instance (for embedding and tests). */
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const DEFAULT_EVIDENCE_PAGE = 100;
const MAX_EVIDENCE_PAGE = 1000;
const EVIDENCE_KINDS = ["duplicate-vote", "conflicting-proposal", "invalid-proposal"];

/** A whole-number query parameter within [min, max], or `fallback` when absent. */
function pageNumber(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ApiError("BAD_REQUEST", `${name} must be a whole number from ${min} to ${max}`);
  }
  return n;
}
const HASH_HEX = /^[0-9a-fA-F]{64}$/;
/** The chain's rule for contract names (native ones included): a name outside it names no contract. */
const CONTRACT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** A binary request body, marked so it cannot be confused with a parsed JSON object. */
class BinaryBody {
  readonly bytes: Uint8Array;
  /** True for application/octet-stream: the body is one raw envelope, not msgpack-wrapped. */
  readonly raw: boolean;
  constructor(bytes: Uint8Array, raw: boolean) {
    this.bytes = bytes;
    this.raw = raw;
  }
}

interface Limits {
  readonly maxBatch: number;
  readonly maxQueryBytes: number;
  readonly defaultWaitMs: number;
  readonly maxWaitMs: number;
  readonly retryAfter: string;
}

/** One POST /txs item: the envelope bytes, or why it never reached the backend. */
type Item = Uint8Array | ApiError;

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function send(req: FastifyRequest, reply: FastifyReply, status: number, body: unknown): FastifyReply {
  reply.code(status).header("vary", "accept");
  if (wantsMsgpack(req.headers.accept)) return reply.type(MSGPACK).send(packResponse(body));
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(body));
}

function hexItem(v: unknown, what: string): Item {
  if (typeof v !== "string") return new ApiError("BAD_HEX", `${what} must be a hex string`);
  try {
    return fromHex(v);
  } catch {
    return new ApiError("BAD_HEX", `${what} is not valid hex`);
  }
}

function parseHash(s: string): Uint8Array {
  if (!HASH_HEX.test(s)) throw new ApiError("BAD_HEX", "a transaction hash is 64 hex digits");
  return fromHex(s);
}

function readItems(body: unknown, maxBatch: number): { items: Item[]; batch: boolean } {
  const checkBatch = (n: number): void => {
    if (n === 0) throw new ApiError("BAD_REQUEST", "the batch is empty");
    if (n > maxBatch) throw new ApiError("BATCH_TOO_LARGE", `a batch holds at most ${maxBatch} transactions, got ${n}`);
  };
  if (body instanceof BinaryBody) {
    if (body.raw) return { items: [body.bytes], batch: false };
    let v: unknown;
    try {
      v = decode(body.bytes);
    } catch (err) {
      if (err instanceof MessagingError) throw new ApiError(err.code, err.message);
      throw err;
    }
    if (v instanceof Uint8Array) return { items: [v], batch: false };
    if (Array.isArray(v)) {
      checkBatch(v.length);
      const items = v.map(
        (t, i): Item => (t instanceof Uint8Array ? t : new ApiError("BAD_FIELD", `txs[${i}] must be binary`)),
      );
      return { items, batch: true };
    }
    throw new ApiError("BAD_REQUEST", "a msgpack body is one binary (an envelope) or an array of binaries");
  }
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError("BAD_REQUEST", 'expected {"tx": "<hex>"} or {"txs": ["<hex>", ...]}');
  }
  const o = body as Record<string, unknown>;
  if (o.tx !== undefined && o.txs !== undefined)
    throw new ApiError("BAD_REQUEST", 'give either "tx" or "txs", not both');
  if (o.tx !== undefined) {
    const item = hexItem(o.tx, "tx");
    if (item instanceof ApiError) throw item;
    return { items: [item], batch: false };
  }
  if (Array.isArray(o.txs)) {
    checkBatch(o.txs.length);
    return { items: o.txs.map((t, i) => hexItem(t, `txs[${i}]`)), batch: true };
  }
  throw new ApiError("BAD_REQUEST", 'expected {"tx": "<hex>"} or {"txs": ["<hex>", ...]}');
}

function readWait(query: Record<string, unknown>, limits: Limits): number | undefined {
  const { wait, timeout } = query;
  if (wait === undefined) return undefined;
  if (wait !== "commit") throw new ApiError("BAD_REQUEST", 'wait must be "commit"');
  if (timeout === undefined) return Math.min(limits.defaultWaitMs, limits.maxWaitMs);
  if (typeof timeout !== "string" || !/^\d{1,9}$/.test(timeout)) {
    throw new ApiError("BAD_REQUEST", "timeout must be a whole number of milliseconds");
  }
  return Math.min(Number(timeout), limits.maxWaitMs);
}

/** The outcome of an accepted transaction after waiting for it. */
function waitedView(hash: Uint8Array, l: TxLookup | undefined): Record<string, unknown> {
  const h = toHex(hash);
  if (l === undefined || l.status === "pending") return { hash: h, status: "pending" };
  if (l.status === "unknown") return { hash: h, status: "unknown" };
  if (l.status === "rejected") return { hash: h, status: "rejected", ...errorBody(l.code, l.message) };
  return {
    hash: h,
    status: "committed",
    height: l.height,
    index: l.index,
    blockHash: toHex(l.blockHash),
    receipt: receiptToJson(l.receipt),
    proof: proofToJson(l.proof),
  };
}

function lookupView(hash: Uint8Array, l: TxLookup): Record<string, unknown> {
  const h = toHex(hash);
  switch (l.status) {
    case "unknown":
      return { hash: h, status: "unknown", ...errorBody("TX_NOT_FOUND", "no such transaction") };
    case "pending":
      return { hash: h, status: "pending", tx: txToJson(l.tx) };
    case "rejected":
      return { hash: h, status: "rejected", ...errorBody(l.code, l.message) };
    case "committed":
      return {
        hash: h,
        status: "committed",
        tx: txToJson(l.tx),
        height: l.height,
        index: l.index,
        blockHash: toHex(l.blockHash),
        receipt: receiptToJson(l.receipt),
        proof: proofToJson(l.proof),
      };
  }
}

function checkContractName(name: string): void {
  if (!CONTRACT_NAME.test(name)) {
    throw new ApiError(
      "BAD_NAME",
      `a contract name matches ${CONTRACT_NAME.source}, got ${JSON.stringify(name.slice(0, 80))}`,
    );
  }
}

function checkMethodName(method: string): void {
  if (method.length === 0 || utf8.encode(method).length > MAX_NAME_BYTES) {
    throw new ApiError("BAD_NAME", `a method name is 1 to ${MAX_NAME_BYTES} bytes`);
  }
}

/** A decoded value of a request body, with the messaging layer's codes (MALFORMED, NON_CANONICAL, TOO_DEEP). */
function decodeBody(bytes: Uint8Array): Value {
  try {
    return decode(bytes);
  } catch (err) {
    if (err instanceof MessagingError) throw new ApiError(err.code, err.message);
    throw err;
  }
}

const QUERY_SHAPE =
  'expected {"contract": "<name>", "method": "<method>", "args": "<hex of the canonical args array>"} ' +
  "or an application/msgpack body [contract, method, [args...]]";

/** A POST /query body as the backend takes it: names checked, args canonical, an array, within the limit. */
function readQuery(body: unknown, maxBytes: number): QueryRequest {
  let contract: unknown;
  let method: unknown;
  let args: Uint8Array;
  if (body instanceof BinaryBody) {
    if (body.raw)
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "send the query as application/json or application/msgpack");
    // [contract, method, args]: the args plus two names and a few header bytes.
    if (body.bytes.length > maxBytes + 2 * MAX_NAME_BYTES + 16) {
      throw new ApiError("QUERY_TOO_LARGE", `a query's args take at most ${maxBytes} bytes`);
    }
    const v = decodeBody(body.bytes);
    if (!Array.isArray(v) || v.length !== 3 || !Array.isArray(v[2])) throw new ApiError("BAD_REQUEST", QUERY_SHAPE);
    [contract, method] = v;
    args = encode(v[2] as Value[]);
  } else {
    if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ApiError("BAD_REQUEST", QUERY_SHAPE);
    }
    const o = body as Record<string, unknown>;
    ({ contract, method } = o);
    if (o.args === undefined) args = encode([]);
    else if (typeof o.args !== "string") {
      throw new ApiError("BAD_REQUEST", `args must be a hex string; ${QUERY_SHAPE}`);
    } else {
      if (o.args.length > 2 * maxBytes + 2) {
        throw new ApiError("QUERY_TOO_LARGE", `a query's args take at most ${maxBytes} bytes`);
      }
      const item = hexItem(o.args, "args");
      if (item instanceof ApiError) throw item;
      if (!Array.isArray(decodeBody(item))) {
        throw new ApiError("BAD_REQUEST", "args must be the canonical encoding of an array (encode([...]))");
      }
      args = item;
    }
  }
  if (typeof contract !== "string" || typeof method !== "string") {
    throw new ApiError("BAD_REQUEST", `contract and method must be strings; ${QUERY_SHAPE}`);
  }
  checkContractName(contract);
  checkMethodName(method);
  if (args.length > maxBytes) throw new ApiError("QUERY_TOO_LARGE", `a query's args take at most ${maxBytes} bytes`);
  return { contract, method, args };
}

function unknownContract(name: string, message?: string): ApiError {
  return new ApiError("UNKNOWN_CONTRACT", message || `no contract named ${name}`, 404);
}

/** Any error, as the ApiError the client sees. Only faults of the node become 500 INTERNAL. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  switch (e?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError("BODY_TOO_LARGE", "request body is too large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError(
        "UNSUPPORTED_MEDIA_TYPE",
        "send application/json, application/msgpack or application/octet-stream",
      );
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new ApiError("MALFORMED", "body is not valid JSON");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError("BAD_REQUEST", "body is empty");
  }
  // Typed errors of the lower layers (and of the backend) carry codes from the same table.
  if (typeof e?.code === "string" && Object.hasOwn(ERROR_STATUS, e.code) && e.code !== "INTERNAL") {
    return new ApiError(e.code, String(e.message));
  }
  if (typeof e?.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError("BAD_REQUEST", String(e.message ?? "bad request"), e.statusCode);
  }
  return new ApiError("INTERNAL", "internal error");
}

function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // The connection broke or the request could not even be parsed as HTTP: answer in the
  // API's error format if the socket still takes writes.
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    // Headers or body did not arrive in time (a trickling or stalled client).
    socket.end(rawError("408 Request Timeout", "REQUEST_TIMEOUT", "the request did not arrive in time"));
    return;
  }
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const body = JSON.stringify(
    tooLarge
      ? errorBody("HEADERS_TOO_LARGE", "request headers too large (16 KiB at most)")
      : errorBody("BAD_REQUEST", "malformed HTTP request"),
  );
  socket.end(
    `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

export async function createApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { backend } = opts;
  const limits: Limits = {
    maxBatch: opts.maxBatch ?? 10_000,
    maxQueryBytes: opts.maxQueryBytes ?? MAX_TX_BYTES,
    defaultWaitMs: opts.defaultWaitMs ?? 10_000,
    maxWaitMs: opts.maxWaitMs ?? 60_000,
    retryAfter: String(opts.retryAfterSeconds ?? 1),
  };
  const corsOrigin = opts.corsOrigin ?? "*";
  const corsHeaders: Record<string, string> =
    corsOrigin === false
      ? {}
      : { "access-control-allow-origin": corsOrigin, "access-control-expose-headers": "Retry-After" };

  const guards: ApiGuards = { ...defaultApiGuards, ...opts.guards };
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // Node's own timeouts, which Fastify turns off by default: without them a client that sends
    // its headers and then trickles (or never sends) its body holds the connection forever.
    requestTimeout: guards.requestTimeoutMs,
    keepAliveTimeout: guards.keepAliveTimeoutMs,
    // Node checks those timeouts every 30 s by default; check often enough to honour them.
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: guards.requestTimeoutMs,
          headersTimeout: guards.headersTimeoutMs,
          keepAliveTimeout: guards.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.min(1_000, guards.requestTimeoutMs),
        },
        handler,
      ),
    // Fastify logs two info lines per request; a loaded node serves thousands a second, so
    // requests are logged once, at debug (see the onResponse hook).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 16 * MiB,
    // Hex state keys travel in the path.
    routerOptions: { maxParamLength: 16_384 },
    clientErrorHandler,
    frameworkErrors: (err, req, reply) => {
      send(req, reply, 400, errorBody("BAD_REQUEST", err.message));
    },
  });

  limitConnections(app.server, guards);
  const writes = new WriteLimiter(guards);
  app.addHook("onRequest", async (req, reply) => {
    if (req.method !== "POST") return;
    const wait = writes.take(req.socket.remoteAddress ?? "unknown");
    if (wait === 0) return;
    reply.header("retry-after", String(wait));
    return send(
      req,
      reply,
      429,
      errorBody("RATE_LIMITED", `too many writes from this client (more than ${guards.writesPerSecond} a second)`),
    );
  });

  const streams: StreamRegistry = new Set();
  let closing = false;
  let signalClosing: () => void = () => {};
  const closed = new Promise<null>((resolve) => {
    signalClosing = () => resolve(null);
  });
  app.addHook("preClose", async () => {
    closing = true;
    signalClosing();
    for (const end of [...streams]) end();
  });

  const onRequestDone = opts.onRequestDone;
  const telemetry = opts.telemetry ?? noopApiTelemetry;
  app.addHook("onResponse", async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, "request");
    const route = req.routeOptions.url ?? "unmatched";
    const done = { method: req.method, route, status: reply.statusCode, seconds: reply.elapsedTime / 1000 };
    onRequestDone?.(done);
    telemetry.request(done);
  });
  // A block is "streamed" for its transactions' journeys when the first stream sends it.
  let streamedHeight = 0;
  const onStreamed = (e: CommittedBlockEvent): void => {
    const height = e.view.block.header.height;
    if (height <= streamedHeight) return;
    streamedHeight = height;
    telemetry.trace(
      "streamed",
      e.view.receipts.map((r) => toHex(r.txHash)),
    );
  };

  // Bodies as received, for the body hash a signed read covers.
  const rawBodies = new WeakMap<FastifyRequest, Uint8Array>();
  app.removeAllContentTypeParsers();
  const jsonParser = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    rawBodies.set(req, body as Buffer);
    jsonParser(req, (body as Buffer).toString("utf8"), done);
  });
  app.addContentTypeParser([MSGPACK, "application/x-msgpack"], { parseAs: "buffer" }, (req, body, done) => {
    rawBodies.set(req, body as Buffer);
    done(null, new BinaryBody(body as Buffer, false));
  });
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (req, body, done) => {
    rawBodies.set(req, body as Buffer);
    done(null, new BinaryBody(body as Buffer, true));
  });

  // Signed reads (access.ts): on a "members" chain, every route but the public ones needs a read
  // signed by an active identity with the route's role. One hook, after the body is parsed (the
  // signature covers its hash); the handlers see the reader through `readers`.
  const guard = new ReadGuard(backend);
  const readers = new WeakMap<FastifyRequest, Reader>();
  app.addHook("preHandler", async (req, reply) => {
    try {
      const reader = guard.check({
        method: req.method,
        url: req.url,
        route: req.routeOptions.url,
        headers: req.headers,
        body: rawBodies.get(req),
      });
      if (reader === undefined) return;
      readers.set(req, reader);
      // What one identity may read is not for shared caches to hand to another.
      reply.header("cache-control", "private, no-store");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) reply.header("www-authenticate", "Cairn-Read-V1");
      throw err;
    }
  });

  if (corsOrigin !== false) {
    app.addHook("onRequest", async (_req, reply) => {
      reply.headers(corsHeaders);
    });
    app.options("*", async (_req, reply) =>
      reply
        .code(204)
        .header("access-control-allow-methods", "GET, POST, OPTIONS")
        .header(
          "access-control-allow-headers",
          "Content-Type, Accept, Last-Event-ID, X-Cairn-Key, X-Cairn-Time, X-Cairn-Signature",
        )
        .header("access-control-max-age", "86400")
        .send(),
    );
  }

  app.setErrorHandler((err, req, reply) => {
    const e = toApiError(err);
    if (e.code === "INTERNAL") req.log.error({ err }, "request failed");
    if (RETRYABLE_CODES.has(e.code)) reply.header("retry-after", limits.retryAfter);
    return send(req, reply, e.status, errorBody(e.code, e.message));
  });
  app.setNotFoundHandler((req, reply) =>
    send(req, reply, 404, errorBody("NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`)),
  );

  app.post("/txs", async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const waitMs = readWait(query, limits);
    const { items, batch } = readItems(req.body, limits.maxBatch);

    const valid: Uint8Array[] = [];
    for (const it of items) if (!(it instanceof ApiError)) valid.push(it);
    const results = valid.length > 0 ? await backend.submit(valid) : [];
    if (results.length !== valid.length)
      throw new ApiError("INTERNAL", "backend.submit returned the wrong number of results");

    // Line admission results back up with the items they belong to.
    let next = 0;
    const outcomes: (SubmitResult | ApiError)[] = items.map((it) =>
      it instanceof ApiError ? it : (results[next++] as SubmitResult),
    );
    const acceptedHashes = outcomes.flatMap((o) => (o instanceof ApiError || !o.ok ? [] : [o.hash]));
    if (acceptedHashes.length > 0) {
      telemetry.trace(
        "received",
        acceptedHashes.map((h) => toHex(h)),
        performance.now() - reply.elapsedTime,
      );
    }

    let waited: (TxLookup | undefined)[] = [];
    if (waitMs !== undefined && acceptedHashes.length > 0 && !closing) {
      // Shutting down answers with what is known so far rather than holding the server open.
      const lookups = await Promise.race([backend.waitForCommit(acceptedHashes, waitMs), closed]);
      waited = lookups ?? [];
    }

    let retry = false;
    let w = 0;
    const views = outcomes.map((o, index): Record<string, unknown> => {
      if (o instanceof ApiError) return { index, ...errorBody(o.code, o.message) };
      if (!o.ok) {
        if (RETRYABLE_CODES.has(o.code)) retry = true;
        return { index, ...(o.hash ? { hash: toHex(o.hash) } : {}), ...errorBody(o.code, o.message) };
      }
      // Results are in request order; only errors repeat their position, as `index`
      // (a committed result's `index` is its position in the block, as in GET /txs/:hash).
      if (waitMs === undefined) return { hash: toHex(o.hash), status: "pending" };
      return waitedView(o.hash, waited[w++]);
    });
    if (retry) reply.header("retry-after", limits.retryAfter);

    if (!batch) {
      const o = outcomes[0] as SubmitResult;
      if (!o.ok) {
        const { index: _position, ...view } = views[0] as Record<string, unknown>;
        return send(req, reply, statusForCode(o.code), view);
      }
      const view = views[0] as Record<string, unknown>;
      return send(req, reply, view.status === "pending" ? 202 : 200, view);
    }
    const accepted = acceptedHashes.length;
    const summary: Record<string, unknown> = { results: views, accepted, rejected: items.length - accepted };
    if (waitMs !== undefined) summary.committed = views.filter((v) => v.status === "committed").length;
    return send(req, reply, 200, summary);
  });

  app.get("/txs/:hash", async (req, reply) => {
    const hash = parseHash((req.params as { hash: string }).hash);
    const lookup = await backend.getTx(hash);
    if ("tx" in lookup && !guard.readsTx(readers.get(req), lookup.tx.tx.sender)) {
      throw new ApiError("ROLE_REQUIRED", "another identity's transaction needs the role auditor or admin");
    }
    return send(req, reply, lookup.status === "unknown" ? 404 : 200, lookupView(hash, lookup));
  });

  const blockRoute = async (req: FastifyRequest, reply: FastifyReply, height: number | "latest") => {
    const { txs } = req.query as Record<string, unknown>;
    if (txs !== undefined && txs !== "full" && txs !== "hashes") {
      throw new ApiError("BAD_REQUEST", 'txs must be "hashes" or "full"');
    }
    const view = await backend.getBlock(height);
    if (!view) throw new ApiError("BLOCK_NOT_FOUND", `no block at height ${height}`);
    return send(req, reply, 200, blockToJson(view, txs === "full"));
  };
  app.get("/blocks/latest", (req, reply) => blockRoute(req, reply, "latest"));
  app.get("/blocks/:height", (req, reply) => {
    const h = (req.params as { height: string }).height;
    if (!/^\d{1,15}$/.test(h)) throw new ApiError("BAD_REQUEST", "height must be a non-negative integer or latest");
    return blockRoute(req, reply, Number(h));
  });

  app.get("/state/:contract/:key", async (req, reply) => {
    const { contract, key } = req.params as { contract: string; key: string };
    const { encoding } = req.query as Record<string, unknown>;
    let keyBytes: Uint8Array;
    if (encoding === undefined || encoding === "utf8") keyBytes = utf8.encode(key);
    else if (encoding === "hex") {
      const item = hexItem(key, "key");
      if (item instanceof ApiError) throw item;
      keyBytes = item;
    } else throw new ApiError("BAD_REQUEST", 'encoding must be "utf8" or "hex"');
    const view = await backend.getState(contract, keyBytes);
    const body = stateToJson(contract, keyBytes, view);
    if (view.value === undefined) {
      return send(req, reply, 404, { ...errorBody("KEY_NOT_FOUND", "no value under this key"), ...body });
    }
    return send(req, reply, 200, body);
  });

  app.post("/query", async (req, reply) => {
    const q = readQuery(req.body, limits.maxQueryBytes);
    let r: QueryResult;
    try {
      r = await backend.query(q);
    } catch (err) {
      if ((err as { code?: unknown })?.code === "UNKNOWN_CONTRACT") throw unknownContract(q.contract);
      throw err;
    }
    // Unknown contract is the one failure about the request rather than the call: 404, like a missing resource.
    if (!r.ok && r.code === "UNKNOWN_CONTRACT") throw unknownContract(q.contract, r.message);
    return send(req, reply, 200, queryResultToJson(r));
  });

  app.get("/contracts/:name", async (req, reply) => {
    const { name } = req.params as { name: string };
    checkContractName(name);
    const view = await backend.getContract(name);
    if (!view) throw unknownContract(name);
    return send(req, reply, 200, contractToJson(view));
  });

  app.get("/status", async (req, reply) => send(req, reply, 200, statusToJson(backend.status())));

  // GET /gov/*: proposals, organisations and identities, validators, the node registry (gov.ts).
  registerGovRoutes(app, backend, send);

  // Paged: a Byzantine validator's evidence is bounded per kind and height, and answers are bounded too.
  app.get("/evidence", async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const offset = pageNumber(q.offset, "offset", 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = pageNumber(q.limit, "limit", 1, MAX_EVIDENCE_PAGE, DEFAULT_EVIDENCE_PAGE);
    const validator = q.validator;
    if (validator !== undefined && (typeof validator !== "string" || !/^[0-9a-fA-F]{64}$/.test(validator))) {
      throw new ApiError("BAD_REQUEST", "validator must be a 64-character hex public key");
    }
    const kind = q.kind;
    if (kind !== undefined && !EVIDENCE_KINDS.includes(kind as string)) {
      throw new ApiError("BAD_REQUEST", `kind must be one of ${EVIDENCE_KINDS.join(", ")}`);
    }
    const page = backend.evidence({
      offset,
      limit,
      ...(validator === undefined ? {} : { validator: (validator as string).toLowerCase() }),
      ...(kind === undefined ? {} : { kind: kind as EvidenceQuery["kind"] }),
    });
    return send(req, reply, 200, { evidence: page.items.map(evidenceToJson), total: page.total, offset, limit });
  });

  app.get("/evidence/:id", async (req, reply) => {
    const { id } = req.params as { id: string };
    const e = await backend.evidenceById?.(id);
    if (e === undefined) return send(req, reply, 404, errorBody("EVIDENCE_NOT_FOUND", `no evidence ${id}`));
    return send(req, reply, 200, evidenceToJson(e));
  });

  app.get("/health", async (req, reply) => {
    if (backend.healthy() && !closing) return send(req, reply, 200, { ok: true });
    reply.header("retry-after", limits.retryAfter);
    return send(req, reply, 503, { ok: false, ...errorBody("NOT_READY", "the node is not ready to serve") });
  });

  // Whether to send this node traffic (load balancers, orchestrators): /health says it is alive,
  // /ready that it also takes part in the chain (consensus running, enough peers, not catching up).
  app.get("/ready", async (req, reply) => {
    const r = backend.readiness?.() ?? {
      ready: backend.healthy(),
      reasons: backend.healthy() ? [] : ["NOT_HEALTHY"],
    };
    const reasons = closing && !r.reasons.includes("SHUTTING_DOWN") ? [...r.reasons, "SHUTTING_DOWN"] : [...r.reasons];
    if (r.ready && reasons.length === 0) return send(req, reply, 200, { ...r.details, ready: true, reasons });
    reply.header("retry-after", limits.retryAfter);
    return send(req, reply, 503, {
      ...r.details,
      ready: false,
      code: "NOT_READY",
      reasons,
      ...errorBody("NOT_READY", `the node is not ready: ${reasons.join(", ") || "unknown"}`),
    });
  });

  // Prometheus scrapes: the text exposition format, with the content type the backend's registry gives.
  app.get("/metrics", async (_req, reply) => {
    if (backend.metrics === undefined) throw new ApiError("NOT_FOUND", "this node exports no metrics");
    const m = await backend.metrics();
    return reply.code(200).type(m.contentType).send(m.body);
  });

  app.get("/events", { exposeHeadRoute: false }, (req, reply) =>
    serveEvents(
      req,
      reply,
      backend,
      {
        keepAliveMs: opts.keepAliveMs ?? 15_000,
        maxBufferedBytes: opts.maxEventBufferBytes ?? 8 * MiB,
        headers: corsHeaders,
        // Rechecked at each block: a revoked identity's stream (or one a policy change closed) ends.
        allowed: () => guard.stillAllowed(readers.get(req), routeLevel(req.method, req.routeOptions.url) ?? "auditor"),
        onSent: onStreamed,
      },
      streams,
    ),
  );

  // Connections with no request in flight, idle keep-alive ones and ones a client opened
  // ahead of time alike, are closed at shutdown rather than waited for.
  const active = new Map<Socket, number>();
  app.server.on("connection", (socket: Socket) => {
    active.set(socket, 0);
    socket.on("close", () => active.delete(socket));
  });
  app.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.on("close", () => {
      const n = (active.get(socket) ?? 1) - 1;
      active.set(socket, n);
      if (n === 0 && closing) socket.destroy();
    });
  });

  let address: string;
  try {
    address = await app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port ?? 0 });
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    address,
    app,
    close: async () => {
      const done = app.close();
      for (const [socket, n] of active) if (n === 0) socket.destroy();
      await done;
    },
  };
}
