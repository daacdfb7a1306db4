// The node itself: GET /status, /health, /ready, /metrics and the block event stream GET /events
// (docs/api.md, docs/metrics.md).
import { routeLevel } from "../access.ts";
import { ApiError } from "../errors.ts";
import { serveEvents } from "../events.ts";
import { errorBody, type RouteContext, send } from "../http.ts";
import { statusToJson } from "../render.ts";

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
