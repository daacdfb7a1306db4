// The node's HTTP API (FG DLT "Interface"): a thin translation between HTTP and an ApiBackend.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { toHex } from "@cairn/crypto";
import { MAX_TX_BYTES } from "@cairn/messaging";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import { type Reader, ReadGuard } from "./access.ts";
import type { ApiBackend, CommittedBlockEvent } from "./backend.ts";
import { ApiError, ERROR_STATUS, RETRYABLE_CODES } from "./errors.ts";
import type { StreamRegistry } from "./events.ts";
import { type ApiGuards, defaultApiGuards, limitConnections, rawError, WriteLimiter } from "./guards.ts";
import { BinaryBody, type ConsoleAssets, errorBody, type Limits, type RouteContext, send } from "./http.ts";
import { type ApiTelemetry, noopApiTelemetry } from "./metrics.ts";
import { MSGPACK } from "./negotiate.ts";
import { registerConsoleRoutes } from "./routes/console.ts";
import { registerContractRoutes } from "./routes/contracts.ts";
import { registerEvidenceRoutes } from "./routes/evidence.ts";
import { registerGovRoutes } from "./routes/gov.ts";
import { registerLedgerRoutes } from "./routes/ledger.ts";
import { registerNodeRoutes } from "./routes/node.ts";
import { registerPrivateRoutes } from "./routes/private.ts";
import { registerTxRoutes } from "./routes/txs.ts";

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
   * Request metrics (`request`: every answered request with its route pattern, `/txs/:hash`, or
   * "unmatched") and trace points (received, streamed); a no-op when absent.
   */
  readonly telemetry?: ApiTelemetry;
  /** Timeouts, connection caps and the write rate limit (guards.ts); each field defaults. */
  readonly guards?: Partial<ApiGuards>;
  /** The console's files (GET /console); without them GET /console answers 404 with the reason. */
  readonly console?: ConsoleAssets;
}

export interface ApiServer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:26657. */
  readonly address: string;
  /** The underlying fastify instance (for embedding and tests). */
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
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

  const telemetry = opts.telemetry ?? noopApiTelemetry;
  app.addHook("onResponse", async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, "request");
    const route = req.routeOptions.url ?? "unmatched";
    telemetry.request({ method: req.method, route, status: reply.statusCode, seconds: reply.elapsedTime / 1000 });
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
  const rawBodies = installBodyParsers(app);

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

  // The routes, one module per resource (routes/).
  const ctx: RouteContext = {
    app,
    backend,
    limits,
    guard,
    readers,
    telemetry,
    closing: () => closing,
    closed,
    streams,
    console: opts.console,
    events: {
      keepAliveMs: opts.keepAliveMs ?? 15_000,
      maxBufferedBytes: opts.maxEventBufferBytes ?? 8 * MiB,
      headers: corsHeaders,
      onSent: onStreamed,
    },
  };
  registerTxRoutes(ctx);
  registerPrivateRoutes(ctx);
  registerLedgerRoutes(ctx);
  registerContractRoutes(ctx);
  registerNodeRoutes(ctx);
  registerEvidenceRoutes(ctx);
  // GET /gov/*: proposals, organisations and identities, validators, the node registry.
  registerGovRoutes(ctx);
  registerConsoleRoutes(ctx);

  const idle = closeIdleOnShutdown(app, () => closing);

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
      idle();
      await done;
    },
  };
}

/** JSON, msgpack and raw envelopes, each body kept as received (a signed read covers its hash). */
function installBodyParsers(app: FastifyInstance): WeakMap<FastifyRequest, Uint8Array> {
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

  return rawBodies;
}

/**
 * Connections with no request in flight, idle keep-alive ones and ones a client opened ahead of
 * time alike, are closed at shutdown rather than waited for. Returns what closes the idle ones now.
 */
function closeIdleOnShutdown(app: FastifyInstance, closing: () => boolean): () => void {
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
      if (n === 0 && closing()) socket.destroy();
    });
  });

  return () => {
    for (const [socket, n] of active) if (n === 0) socket.destroy();
  };
}
