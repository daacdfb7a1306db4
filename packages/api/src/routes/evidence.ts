// GET /evidence (paged) and GET /evidence/:id (docs/api.md).
import type { EvidenceQuery } from "../backend.ts";
import { ApiError } from "../errors.ts";
import { errorBody, queryNumber, type RouteContext, send } from "../http.ts";
import { evidenceToJson } from "../render.ts";

const DEFAULT_EVIDENCE_PAGE = 100;
const MAX_EVIDENCE_PAGE = 1000;
const EVIDENCE_KINDS = ["duplicate-vote", "conflicting-proposal", "invalid-proposal"];

export function registerEvidenceRoutes(ctx: RouteContext): void {
  const { backend } = ctx;
  // Paged: a Byzantine validator's evidence is bounded per kind and height, and answers are bounded too.
  ctx.app.get("/evidence", async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const offset = queryNumber(q.offset, "offset", 0, Number.MAX_SAFE_INTEGER, 0);
    const limit = queryNumber(q.limit, "limit", 1, MAX_EVIDENCE_PAGE, DEFAULT_EVIDENCE_PAGE);
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

  ctx.app.get("/evidence/:id", async (req, reply) => {
    const { id } = req.params as { id: string };
    const e = await backend.evidenceById?.(id);
    if (e === undefined) return send(req, reply, 404, errorBody("EVIDENCE_NOT_FOUND", `no evidence ${id}`));
    return send(req, reply, 200, evidenceToJson(e));
  });
}
