// Private data (docs/privacy.md, docs/api.md "Private data"): submit a transaction with the
// plaintext of its private writes, read a private key (members only, signed), read the hash every
// node holds (the collections are listed with governance: GET /gov/collections).
import { fromHex, toHex } from "@cairn/crypto";
import {
  COLLECTION_NAME,
  checkPrivateWrite,
  decode,
  MessagingError,
  type PrivateDataJson,
  type PrivateHashJson,
  type PrivateWrite,
  privateWriteFromValue,
  type Value,
} from "@cairn/messaging";
import { ApiError } from "../errors.ts";
import { BinaryBody, hexItem, type RouteContext, send } from "../http.ts";
import { answerSubmit, readWait } from "./txs.ts";

const KEY_HEX = /^(?:[0-9a-fA-F]{2}){1,256}$/;

function asApiError(e: unknown): never {
  if (e instanceof MessagingError) throw new ApiError(e.code, e.message);
  throw e;
}

function hexField(o: Record<string, unknown>, name: string, at: string): Uint8Array {
  const v = hexItem(o[name], `${at}.${name}`);
  if (v instanceof ApiError) throw v;
  return v;
}

/** {"tx": hex, "private": [{collection, key, value, salt}]} or msgpack [envelope, [[collection, key, value, salt], ...]]. */
function readPrivateSubmission(body: unknown): { envelope: Uint8Array; writes: PrivateWrite[] } {
  try {
    if (body instanceof BinaryBody) {
      if (body.raw) throw new ApiError("BAD_REQUEST", "POST /txs/private takes JSON or msgpack, not a raw envelope");
      const v = decode(body.bytes);
      if (!Array.isArray(v) || v.length !== 2 || !(v[0] instanceof Uint8Array) || !Array.isArray(v[1])) {
        throw new ApiError("BAD_REQUEST", "a msgpack body is [envelope, [[collection, key, value, salt], ...]]");
      }
      const writes = (v[1] as Value[]).map((w, i) => privateWriteFromValue(w, `private[${i}]`));
      return { envelope: v[0], writes };
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ApiError(
        "BAD_REQUEST",
        'expected {"tx": "<hex>", "private": [{"collection", "key", "value", "salt"}]}',
      );
    }
    const o = body as Record<string, unknown>;
    const tx = hexItem(o.tx, "tx");
    if (tx instanceof ApiError) throw tx;
    if (!Array.isArray(o.private) || o.private.length === 0) {
      throw new ApiError("BAD_REQUEST", '"private" must list the plaintext of the transaction\'s private writes');
    }
    const writes = o.private.map((item, i): PrivateWrite => {
      const at = `private[${i}]`;
      if (item === null || typeof item !== "object") throw new ApiError("BAD_FIELD", `${at} must be an object`);
      const w = item as Record<string, unknown>;
      if (typeof w.collection !== "string") throw new ApiError("BAD_FIELD", `${at}.collection must be a string`);
      const write: PrivateWrite = {
        collection: w.collection,
        key: hexField(w, "key", at),
        value: hexField(w, "value", at),
        salt: hexField(w, "salt", at),
      };
      checkPrivateWrite(write, at);
      return write;
    });
    return { envelope: tx, writes };
  } catch (e) {
    return asApiError(e);
  }
}

function params(req: { params: unknown }): { collection: string; key: Uint8Array } {
  const p = req.params as { collection: string; key: string };
  if (!COLLECTION_NAME.test(p.collection))
    throw new ApiError("BAD_NAME", "a collection name is 1-64 letters, digits, '.', '_' or '-'");
  if (!KEY_HEX.test(p.key)) throw new ApiError("BAD_HEX", "a private key is 1 to 256 bytes, as hex");
  return { collection: p.collection, key: fromHex(p.key) };
}

export function registerPrivateRoutes(ctx: RouteContext): void {
  const { backend, limits, readers } = ctx;

  ctx.app.post("/txs/private", async (req, reply) => {
    const waitMs = readWait(req.query as Record<string, unknown>, limits);
    const { envelope, writes } = readPrivateSubmission(req.body);
    if (backend.submitPrivate === undefined) {
      throw new ApiError("NOT_FOUND", "this node does not take private data");
    }
    const result = await backend.submitPrivate(envelope, writes);
    return answerSubmit(ctx, req, reply, { items: [envelope], batch: false, waitMs }, [result]);
  });

  ctx.app.get("/private/:collection/:key", async (req, reply) => {
    const { collection, key } = params(req);
    const reader = readers.get(req);
    // The access table makes this a signed read on every chain; no reader means no route matched.
    if (reader === undefined) throw new ApiError("READ_SIGNATURE_REQUIRED", "private data needs a signed read");
    if (backend.privateData === undefined) throw new ApiError("NOT_FOUND", "this node holds no private data");
    const r = await backend.privateData(collection, key, reader.publicKey);
    if (!r.ok) throw new ApiError(r.code, r.message);
    const body: PrivateDataJson = {
      collection: r.collection,
      key: toHex(r.key),
      keyHash: toHex(r.keyHash),
      value: toHex(r.value),
      salt: toHex(r.salt),
      valueHash: toHex(r.valueHash),
      height: r.height,
      txHash: toHex(r.txHash),
      ...(r.expiresAt === undefined ? {} : { expiresAt: r.expiresAt }),
    };
    return send(req, reply, 200, body);
  });

  ctx.app.get("/private/:collection/:key/hash", async (req, reply) => {
    const { collection, key } = params(req);
    if (backend.privateHash === undefined) throw new ApiError("NOT_FOUND", "this node has no private data collections");
    const r = await backend.privateHash(collection, key);
    if ("ok" in r) throw new ApiError(r.code, r.message);
    const body: PrivateHashJson = {
      collection: r.collection,
      keyHash: toHex(r.keyHash),
      ...(r.valueHash === undefined ? {} : { valueHash: toHex(r.valueHash) }),
      height: r.height,
    };
    return send(req, reply, r.valueHash === undefined ? 404 : 200, body);
  });
}
