// POST /txs (submit, optionally waiting for the commit), GET /txs/:hash and GET /txs/:hash/trace
// (docs/api.md).
import { fromHex, toHex } from "@cairn/crypto";
import { decode, MessagingError } from "@cairn/messaging";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SubmitResult, TxLookup } from "../backend.ts";
import { ApiError, RETRYABLE_CODES, statusForCode } from "../errors.ts";
import { BinaryBody, errorBody, hexItem, type Limits, type RouteContext, send } from "../http.ts";
import { proofToJson, receiptToJson, txToJson } from "../render.ts";

const HASH_HEX = /^[0-9a-fA-F]{64}$/;

/** One POST /txs item: the envelope bytes, or why it never reached the backend. */
export type Item = Uint8Array | ApiError;

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

export function readWait(query: Record<string, unknown>, limits: Limits): number | undefined {
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
function waitedView(h: string, l: TxLookup | undefined): Record<string, unknown> {
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

/**
 * Answers a submission from the backend's admission results (one per valid item, in order): the
 * single form with 202/200 or the error's status, the batch form with a summary; waits for commits
 * when asked. Shared by POST /txs and POST /txs/private.
 */
export async function answerSubmit(
  ctx: RouteContext,
  req: FastifyRequest,
  reply: FastifyReply,
  request: { readonly items: readonly Item[]; readonly batch: boolean; readonly waitMs: number | undefined },
  results: readonly SubmitResult[],
): Promise<FastifyReply> {
  const { backend, limits, telemetry } = ctx;
  const { items, batch, waitMs } = request;
  const valid = items.filter((it) => !(it instanceof ApiError));
  if (results.length !== valid.length)
    throw new ApiError("INTERNAL", "backend.submit returned the wrong number of results");

  // Line admission results back up with the items they belong to.
  let next = 0;
  const outcomes: (SubmitResult | ApiError)[] = items.map((it) =>
    it instanceof ApiError ? it : (results[next++] as SubmitResult),
  );
  const acceptedHashes = outcomes.flatMap((o) => (o instanceof ApiError || !o.ok ? [] : [o.hash]));
  // Hex once: for the "received" trace point and for the answer.
  const acceptedHex = acceptedHashes.map((h) => toHex(h));
  if (acceptedHex.length > 0) telemetry.trace("received", acceptedHex, performance.now() - reply.elapsedTime);

  let waited: (TxLookup | undefined)[] = [];
  if (waitMs !== undefined && acceptedHashes.length > 0 && !ctx.closing()) {
    // Shutting down answers with what is known so far rather than holding the server open.
    const lookups = await Promise.race([backend.waitForCommit(acceptedHashes, waitMs), ctx.closed]);
    waited = lookups ?? [];
  }

  let retry = false;
  let a = 0;
  const views = outcomes.map((o, index): Record<string, unknown> => {
    if (o instanceof ApiError) return { index, ...errorBody(o.code, o.message) };
    if (!o.ok) {
      if (RETRYABLE_CODES.has(o.code)) retry = true;
      return { index, ...(o.hash ? { hash: toHex(o.hash) } : {}), ...errorBody(o.code, o.message) };
    }
    // Results are in request order; only errors repeat their position, as `index`
    // (a committed result's `index` is its position in the block, as in GET /txs/:hash).
    const hash = acceptedHex[a] as string;
    const lookup = waited[a++];
    return waitMs === undefined ? { hash, status: "pending" } : waitedView(hash, lookup);
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
}

export function registerTxRoutes(ctx: RouteContext): void {
  const { backend, limits, guard, readers } = ctx;
  ctx.app.post("/txs", async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const waitMs = readWait(query, limits);
    const { items, batch } = readItems(req.body, limits.maxBatch);

    const valid: Uint8Array[] = [];
    for (const it of items) if (!(it instanceof ApiError)) valid.push(it);
    const results = valid.length > 0 ? await backend.submit(valid) : [];
    return answerSubmit(ctx, req, reply, { items, batch, waitMs }, results);
  });

  ctx.app.get("/txs/:hash", async (req, reply) => {
    const hash = parseHash((req.params as { hash: string }).hash);
    const lookup = await backend.getTx(hash);
    if ("tx" in lookup && !guard.readsTx(readers.get(req), lookup.tx.tx.sender)) {
      throw new ApiError("ROLE_REQUIRED", "another identity's transaction needs the role auditor or admin");
    }
    return send(req, reply, lookup.status === "unknown" ? 404 : 200, lookupView(hash, lookup));
  });

  // A transaction's journey through this node's layers (docs/metrics.md, "Trace points").
  ctx.app.get("/txs/:hash/trace", async (req, reply) => {
    const hash = parseHash((req.params as { hash: string }).hash);
    const lookup = await backend.getTx(hash);
    if ("tx" in lookup && !guard.readsTx(readers.get(req), lookup.tx.tx.sender)) {
      throw new ApiError("ROLE_REQUIRED", "another identity's transaction needs the role auditor or admin");
    }
    const trace = backend.txTrace?.(hash);
    if (trace === undefined) {
      throw new ApiError(
        "TRACE_NOT_FOUND",
        "this node traced no such transaction: it traces those that reached its mempool (the most recent ones)",
      );
    }
    return send(req, reply, 200, {
      hash: toHex(hash),
      ...(trace.height === undefined ? {} : { height: trace.height }),
      points: trace.points.map((p) => ({ point: p.point, timeUs: p.timeUs })),
    });
  });
}
