import { toHex } from "@cairn/crypto";
import { encode } from "@cairn/messaging";
import { unpack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { type Json, postBytes, postJson, start } from "./helpers.ts";

describe("POST /txs", () => {
  it("accepts one JSON transaction with 202 pending", async () => {
    const h = await start();
    const s = h.tx();
    const res = await postJson(`${h.url}/txs`, { tx: toHex(s.bytes) });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ hash: toHex(s.hash), status: "pending" });
    expect(h.backend.status().mempool.size).toBe(1);
  });

  it("accepts a msgpack-wrapped envelope and answers in msgpack when asked", async () => {
    const h = await start();
    const s = h.tx();
    const res = await postBytes(`${h.url}/txs`, encode(s.bytes), "application/msgpack", {
      accept: "application/msgpack",
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toBe("application/msgpack");
    expect(unpack(new Uint8Array(await res.arrayBuffer()))).toEqual({ hash: toHex(s.hash), status: "pending" });
  });

  it("accepts a raw envelope as application/octet-stream", async () => {
    const h = await start();
    const s = h.tx();
    const res = await postBytes(`${h.url}/txs`, s.bytes, "application/octet-stream");
    expect(res.status).toBe(202);
    expect(((await res.json()) as Json).hash).toBe(toHex(s.hash));
  });

  it("answers a single rejected transaction with its error status and code", async () => {
    const h = await start();
    const s = h.tx({ chainId: "other-chain" });
    const res = await postJson(`${h.url}/txs`, { tx: toHex(s.bytes) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe("WRONG_CHAIN");
    expect(body.hash).toBe(toHex(s.hash));

    const dup = h.tx();
    expect((await postJson(`${h.url}/txs`, { tx: toHex(dup.bytes) })).status).toBe(202);
    const again = await postJson(`${h.url}/txs`, { tx: toHex(dup.bytes) });
    expect(again.status).toBe(409);
    expect(((await again.json()) as Json).error.code).toBe("DUPLICATE");
  });

  it("maps admission codes through the status table", async () => {
    const h = await start();
    const cases: [string, number][] = [
      ["BAD_SIGNATURE", 400],
      ["TX_TOO_LARGE", 413],
      ["EXPIRED", 400],
      ["SOMETHING_NEW", 400],
    ];
    for (const [code, status] of cases) {
      h.backend.admit = () => ({ ok: false, code, message: code.toLowerCase() });
      const res = await postJson(`${h.url}/txs`, { tx: toHex(h.tx().bytes) });
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ error: { code, message: code.toLowerCase() } });
    }
  });

  it("reports a batch item by item", async () => {
    const h = await start();
    const good = h.tx();
    const wrongChain = h.tx({ chainId: "nope" });
    const res = await postJson(`${h.url}/txs`, {
      txs: [toHex(good.bytes), "zz", toHex(wrongChain.bytes), 42, toHex(good.bytes)],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.accepted).toBe(1);
    expect(body.rejected).toBe(4);
    expect(body.results).toEqual([
      { hash: toHex(good.hash), status: "pending" },
      { index: 1, error: { code: "BAD_HEX", message: "txs[1] is not valid hex" } },
      { index: 2, hash: toHex(wrongChain.hash), error: { code: "WRONG_CHAIN", message: expect.any(String) } },
      { index: 3, error: { code: "BAD_HEX", message: "txs[3] must be a hex string" } },
      { index: 4, hash: toHex(good.hash), error: { code: "DUPLICATE", message: expect.any(String) } },
    ]);
    expect(res.headers.get("retry-after")).toBeNull();
  });

  it("takes a msgpack array of envelopes as a batch", async () => {
    const h = await start();
    const a = h.tx();
    const b = h.tx();
    const res = await postBytes(`${h.url}/txs`, encode([a.bytes, "not binary", b.bytes]), "application/msgpack");
    const body = (await res.json()) as Json;
    expect(res.status).toBe(200);
    expect(body.accepted).toBe(2);
    expect(body.results[1].error.code).toBe("BAD_FIELD");
    expect(body.results[2].hash).toBe(toHex(b.hash));
  });

  it("sets Retry-After when the mempool is full", async () => {
    const h = await start({ retryAfterSeconds: 3 }, { maxMempool: 1 });
    const first = await postJson(`${h.url}/txs`, { tx: toHex(h.tx().bytes) });
    expect(first.status).toBe(202);
    const full = await postJson(`${h.url}/txs`, { tx: toHex(h.tx().bytes) });
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("3");
    expect(((await full.json()) as Json).error.code).toBe("MEMPOOL_FULL");

    const batch = await postJson(`${h.url}/txs`, { txs: [toHex(h.tx().bytes)] });
    expect(batch.status).toBe(200);
    expect(batch.headers.get("retry-after")).toBe("3");
    expect(((await batch.json()) as Json).results[0].error.code).toBe("MEMPOOL_FULL");
  });

  it("rejects batches that are empty or too large", async () => {
    const h = await start({ maxBatch: 2 });
    const empty = await postJson(`${h.url}/txs`, { txs: [] });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as Json).error.code).toBe("BAD_REQUEST");
    const big = await postJson(`${h.url}/txs`, { txs: ["00", "00", "00"] });
    expect(big.status).toBe(413);
    expect(((await big.json()) as Json).error.code).toBe("BATCH_TOO_LARGE");
    const bigMp = await postBytes(
      `${h.url}/txs`,
      encode([new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)]),
      "application/msgpack",
    );
    expect(bigMp.status).toBe(413);
  });
});

describe("POST /txs?wait=commit", () => {
  it("returns the receipt once the transaction commits", async () => {
    const h = await start({}, { autoBlockMs: 5 });
    const s = h.tx();
    const res = await postJson(`${h.url}/txs?wait=commit`, { tx: toHex(s.bytes) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ hash: toHex(s.hash), status: "committed", height: 1, index: 0 });
    expect(body.blockHash).toBe(toHex(h.backend.blocks[0]!.hash));
    expect(body.receipt).toMatchObject({ txHash: toHex(s.hash), code: "OK" });
    expect(body.proof).toEqual({ index: 0, size: 1, path: [] });
  });

  it("answers 202 pending when the timeout passes first", async () => {
    const h = await start();
    const s = h.tx();
    const t0 = Date.now();
    const res = await postJson(`${h.url}/txs?wait=commit&timeout=50`, { tx: toHex(s.bytes) });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ hash: toHex(s.hash), status: "pending" });
  });

  it("bounds the timeout by maxWaitMs", async () => {
    const h = await start({ maxWaitMs: 20 });
    const t0 = Date.now();
    const res = await postJson(`${h.url}/txs?wait=commit&timeout=999999999`, { tx: toHex(h.tx().bytes) });
    expect(res.status).toBe(202);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("reports a transaction rejected after admission", async () => {
    const h = await start();
    const s = h.tx();
    setTimeout(() => h.backend.reject(s.hash, "EXPIRED", "expired in the mempool"), 20);
    const res = await postJson(`${h.url}/txs?wait=commit&timeout=5000`, { tx: toHex(s.bytes) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      hash: toHex(s.hash),
      status: "rejected",
      error: { code: "EXPIRED", message: "expired in the mempool" },
    });
  });

  it("waits for a batch and counts the committed", async () => {
    const h = await start({}, { autoBlockMs: 5 });
    const a = h.tx();
    const b = h.tx({ chainId: "nope" });
    const res = await postJson(`${h.url}/txs?wait=commit&timeout=5000`, { txs: [toHex(a.bytes), toHex(b.bytes)] });
    const body = (await res.json()) as Json;
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ accepted: 1, rejected: 1, committed: 1 });
    expect(body.results[0]).toMatchObject({ hash: toHex(a.hash), status: "committed", height: 1, index: 0 });
    expect(body.results[1].index).toBe(1);
    expect(body.results[1].error.code).toBe("WRONG_CHAIN");
  });

  it("rejects bad wait parameters", async () => {
    const h = await start();
    for (const q of ["wait=soon", "wait=commit&timeout=abc", "wait=commit&timeout=-1", "wait=commit&wait=commit"]) {
      const res = await postJson(`${h.url}/txs?${q}`, { tx: toHex(h.tx().bytes) });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as Json).error.code).toBe("BAD_REQUEST");
    }
  });

  it("lets the server close while a request is waiting", async () => {
    const h = await start({ defaultWaitMs: 60_000 });
    const pending = postJson(`${h.url}/txs?wait=commit`, { tx: toHex(h.tx().bytes) });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await h.server.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    const res = await pending;
    expect(res.status).toBe(202);
  });
});

describe("POST /txs/private: the body", () => {
  const hex = (n: number, byte = 1) => toHex(new Uint8Array(n).fill(byte));
  const write = (o: Record<string, unknown> = {}) => ({
    collection: "ab",
    key: hex(3),
    value: hex(4),
    salt: hex(32),
    ...o,
  });

  it("refuses a malformed body or plaintext with the field it is about", async () => {
    const h = await start();
    const s = h.tx();
    const cases: [unknown, number, string][] = [
      [{ tx: toHex(s.bytes) }, 400, "BAD_REQUEST"],
      [{ tx: toHex(s.bytes), private: [] }, 400, "BAD_REQUEST"],
      [{ tx: "zz", private: [write()] }, 400, "BAD_HEX"],
      [{ tx: toHex(s.bytes), private: [write({ collection: "a/b" })] }, 400, "BAD_FIELD"],
      [{ tx: toHex(s.bytes), private: [write({ salt: hex(31) })] }, 400, "BAD_FIELD"],
      [{ tx: toHex(s.bytes), private: [write({ key: "" })] }, 400, "BAD_FIELD"],
      [[1, 2], 400, "BAD_REQUEST"],
    ];
    for (const [body, status, code] of cases) {
      const res = await postJson(`${h.url}/txs/private`, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code, JSON.stringify(body)).toBe(code);
    }
  });

  it("takes a well-formed body to the backend (this one has no private data: 404)", async () => {
    const h = await start();
    const res = await postJson(`${h.url}/txs/private`, { tx: toHex(h.tx().bytes), private: [write()] });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
