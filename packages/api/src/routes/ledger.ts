// GET /blocks/:height, GET /blocks/latest and GET /state/:contract/:key (docs/api.md).
import { utf8 } from "@cairn/crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../errors.ts";
import { errorBody, hexItem, type RouteContext, send } from "../http.ts";
import { blockToJson, stateToJson } from "../render.ts";

export function registerLedgerRoutes(ctx: RouteContext): void {
  const { backend } = ctx;
  const blockRoute = async (req: FastifyRequest, reply: FastifyReply, height: number | "latest") => {
    const { txs } = req.query as Record<string, unknown>;
    if (txs !== undefined && txs !== "full" && txs !== "hashes") {
      throw new ApiError("BAD_REQUEST", 'txs must be "hashes" or "full"');
    }
    const view = await backend.getBlock(height);
    if (!view) throw new ApiError("BLOCK_NOT_FOUND", `no block at height ${height}`);
    return send(req, reply, 200, blockToJson(view, txs === "full"));
  };
  ctx.app.get("/blocks/latest", (req, reply) => blockRoute(req, reply, "latest"));
  ctx.app.get("/blocks/:height", (req, reply) => {
    const h = (req.params as { height: string }).height;
    if (!/^\d{1,15}$/.test(h)) throw new ApiError("BAD_REQUEST", "height must be a non-negative integer or latest");
    return blockRoute(req, reply, Number(h));
  });

  ctx.app.get("/state/:contract/:key", async (req, reply) => {
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
}
