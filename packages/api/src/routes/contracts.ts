// POST /query (a read-only contract call) and GET /contracts/:name (docs/api.md).
import { utf8 } from "@cairn/crypto";
import { CONTRACT_NAME, decode, encode, MAX_NAME_BYTES, MessagingError, type Value } from "@cairn/messaging";
import type { QueryRequest, QueryResult } from "../backend.ts";
import { ApiError } from "../errors.ts";
import { BinaryBody, hexItem, type RouteContext, send } from "../http.ts";
import { contractToJson, queryResultToJson } from "../render.ts";

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

export function registerContractRoutes(ctx: RouteContext): void {
  const { backend, limits } = ctx;
  ctx.app.post("/query", async (req, reply) => {
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

  ctx.app.get("/contracts/:name", async (req, reply) => {
    const { name } = req.params as { name: string };
    checkContractName(name);
    const view = await backend.getContract(name);
    if (!view) throw unknownContract(name);
    return send(req, reply, 200, contractToJson(view));
  });
}
