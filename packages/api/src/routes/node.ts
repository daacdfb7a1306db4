// The node itself: GET /status, /health, /ready, /metrics and the block event stream GET /events
// (docs/api.md, docs/metrics.md).
import { type ConsensusEventsJson, LOG_LINE_LEVELS, type LogLineLevel, type LogsJson } from "@cairn/messaging";
import { routeLevel } from "../access.ts";
import { ApiError } from "../errors.ts";
import { serveEvents } from "../events.ts";
import { errorBody, queryNumber, type RouteContext, send } from "../http.ts";
import { statusToJson } from "../render.ts";

/** Most entries one GET /consensus/events or GET /logs returns. */
const MAX_RECENT = 1000;

export function registerNodeRoutes(ctx: RouteContext): void {
  const { backend, limits, guard, readers } = ctx;
  ctx.app.get("/status", async (req, reply) => send(req, reply, 200, statusToJson(backend.status())));

  ctx.app.get("/health", async (req, reply) => {
    if (backend.healthy() && !ctx.closing()) return send(req, reply, 200, { ok: true });
    reply.header("retry-after", limits.retryAfter);
    return send(req, reply, 503, { ok: false, ...errorBody("NOT_READY", "the node is not ready to serve") });
  });

  // Whether to send this node traffic (load balancers, orchestrators): /health says it is alive,
  // /ready that it also takes part in the chain (consensus running, enough peers, not catching up).
  ctx.app.get("/ready", async (req, reply) => {
    const r = backend.readiness?.() ?? {
      ready: backend.healthy(),
      reasons: backend.healthy() ? [] : ["NOT_HEALTHY"],
    };
    const reasons =
      ctx.closing() && !r.reasons.includes("SHUTTING_DOWN") ? [...r.reasons, "SHUTTING_DOWN"] : [...r.reasons];
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
  ctx.app.get("/metrics", async (_req, reply) => {
    if (backend.metrics === undefined) throw new ApiError("NOT_FOUND", "this node exports no metrics");
    const m = await backend.metrics();
    return reply.code(200).type(m.contentType).send(m.body);
  });

  // What the consensus engine saw and did, newest last: the console's consensus view polls it with
  // `after` = the last sequence number it saw.
  ctx.app.get("/consensus/events", async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const after = queryNumber(q.after, "after", 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = queryNumber(q.limit, "limit", 1, MAX_RECENT, MAX_RECENT);
    const r = backend.consensusEvents?.(after, limit) ?? { last: 0, events: [] };
    const body: ConsensusEventsJson = {
      last: r.last,
      events: r.events.map((e) => ({ seq: e.seq, timeUs: e.timeUs, ...e.data })),
    };
    return send(req, reply, 200, body);
  });

  ctx.app.get("/logs", async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const after = queryNumber(q.after, "after", 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = queryNumber(q.limit, "limit", 1, MAX_RECENT, MAX_RECENT);
    const layer = q.layer;
    if (layer !== undefined && (typeof layer !== "string" || !/^[a-z]{1,20}$/.test(layer))) {
      throw new ApiError("BAD_REQUEST", "layer must be a layer name such as consensus or api");
    }
    const level = q.level;
    if (level !== undefined && !(LOG_LINE_LEVELS as readonly unknown[]).includes(level)) {
      throw new ApiError("BAD_REQUEST", `level must be one of ${LOG_LINE_LEVELS.join(", ")}`);
    }
    const r = backend.logs?.(after, limit, {
      ...(layer === undefined ? {} : { layer: layer as string }),
      ...(level === undefined ? {} : { level: level as LogLineLevel }),
    }) ?? { last: 0, lines: [] };
    const body: LogsJson = { last: r.last, lines: r.lines.map((l) => ({ seq: l.seq, timeUs: l.timeUs, ...l.data })) };
    return send(req, reply, 200, body);
  });

  ctx.app.get("/events", { exposeHeadRoute: false }, (req, reply) =>
    serveEvents(
      req,
      reply,
      backend,
      {
        ...ctx.events,
        // Rechecked at each block: a revoked identity's stream (or one a policy change closed) ends.
        allowed: () => guard.stillAllowed(readers.get(req), routeLevel(req.method, req.routeOptions.url) ?? "auditor"),
      },
      ctx.streams,
    ),
  );
}
