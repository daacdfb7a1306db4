import { fromHex, sha256, toHex, utf8, verify, verifyMerkleProof } from "@cairn/crypto";
import { decodeTransaction, VoteType, voteSigningBytes } from "@cairn/messaging";
import { Unpackr, unpack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { type Json, start } from "./helpers.ts";

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; res: Response }> {
  const res = await fetch(url, { headers });
  const body = res.headers.get("content-type")?.startsWith("application/msgpack")
    ? reader.unpack(new Uint8Array(await res.arrayBuffer()))
    : await res.json();
  return { status: res.status, body, res };
}

// As a client should read Cairn's msgpack: 64-bit integers (millisecond times) as numbers.
const reader = new Unpackr({ int64AsType: "number", mapsAsObjects: true });

describe("GET /txs/:hash", () => {
  it("tracks a transaction from pending to committed with an inclusion proof", async () => {
    const h = await start();
    const txs = [h.tx(), h.tx(), h.tx()];
    await h.backend.submit(txs.map((t) => t.bytes));

    const pending = await get(`${h.url}/txs/${toHex(txs[1]!.hash)}`);
    expect(pending.status).toBe(200);
    expect(pending.body.status).toBe("pending");
    expect(pending.body.tx).toMatchObject({
      chainId: h.backend.chainId,
      sender: toHex(h.key.publicKey),
      contract: "kv",
      method: "put",
      envelope: toHex(txs[1]!.bytes),
      signature: toHex(txs[1]!.signature),
    });
    expect(pending.body.tx.args[0]).toMatch(/^0x[0-9a-f]+$/);

    const block = await h.backend.produceBlock();
    const { status, body } = await get(`${h.url}/txs/${toHex(txs[1]!.hash).toUpperCase()}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "committed", height: 1, index: 1, blockHash: toHex(block.hash) });
    expect(body.receipt).toEqual({
      txHash: toHex(txs[1]!.hash),
      code: "OK",
      message: "",
      // The native kv contract's own event (the memory backend runs the node's contract code).
      events: [{ contract: "kv", name: "put", data: [body.tx.args[0]] }],
      gasUsed: expect.any(Number),
    });
    const proof = { index: body.proof.index, size: body.proof.size, path: body.proof.path.map(fromHex) };
    const envelope = fromHex(body.tx.envelope);
    expect(decodeTransaction(envelope).hash).toEqual(txs[1]!.hash);
    expect(verifyMerkleProof(envelope, proof, block.block.header.txRoot)).toBe(true);
  });

  it("reports rejected transactions", async () => {
    const h = await start();
    const s = h.tx();
    await h.backend.submit([s.bytes]);
    h.backend.reject(s.hash, "EXPIRED", "gone");
    const { status, body } = await get(`${h.url}/txs/${toHex(s.hash)}`);
    expect(status).toBe(200);
    expect(body).toEqual({ hash: toHex(s.hash), status: "rejected", error: { code: "EXPIRED", message: "gone" } });
  });

  it("answers unknown hashes with 404 TX_NOT_FOUND and status unknown", async () => {
    const h = await start();
    const hash = "ab".repeat(32);
    const { status, body } = await get(`${h.url}/txs/${hash}`);
    expect(status).toBe(404);
    expect(body).toEqual({ hash, status: "unknown", error: { code: "TX_NOT_FOUND", message: expect.any(String) } });
  });

  it("rejects a malformed hash", async () => {
    const h = await start();
    for (const bad of ["xyz", "ab".repeat(31), "zz".repeat(32)]) {
      const { status, body } = await get(`${h.url}/txs/${bad}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe("BAD_HEX");
    }
  });
});

describe("GET /blocks", () => {
  it("404s before the first block", async () => {
    const h = await start();
    for (const path of ["latest", "1", "0"]) {
      const { status, body } = await get(`${h.url}/blocks/${path}`);
      expect(status).toBe(404);
      expect(body.error.code).toBe("BLOCK_NOT_FOUND");
    }
  });

  it("renders header, tx hashes, receipts and the commit certificate", async () => {
    const h = await start();
    const txs = [h.tx(), h.tx({ contract: "token", method: "mint", args: [h.key.publicKey, 5] })];
    await h.backend.submit(txs.map((t) => t.bytes));
    const view = await h.backend.produceBlock();
    await h.backend.produceBlock();

    const { status, body } = await get(`${h.url}/blocks/1`);
    expect(status).toBe(200);
    expect(body.height).toBe(1);
    expect(body.hash).toBe(toHex(view.hash));
    expect(body.header).toMatchObject({
      version: 1,
      chainId: h.backend.chainId,
      height: 1,
      txCount: 2,
      txRoot: toHex(view.block.header.txRoot),
      prevHash: toHex(h.backend.genesisHash),
      proposer: toHex(h.backend.validator.publicKey),
    });
    expect(body.txs).toEqual(txs.map((t) => toHex(sha256(t.bytes))));
    expect(body.envelopes).toBeUndefined();
    expect(body.receipts[1].events[0]).toEqual({
      contract: "token",
      name: "mint",
      data: [`0x${toHex(h.key.publicKey)}`, 5],
    });
    expect(body.lastCommit).toBeNull();
    const sig = body.commit.signatures[0];
    expect(body.commit).toMatchObject({ height: 1, round: 0, blockHash: toHex(view.hash) });
    const signed = voteSigningBytes({
      chainId: h.backend.chainId,
      height: 1,
      round: 0,
      type: VoteType.precommit,
      blockHash: view.hash,
    });
    expect(verify(fromHex(sig.signature), signed, fromHex(sig.validator))).toBe(true);

    const latest = await get(`${h.url}/blocks/latest?txs=full`);
    expect(latest.body.height).toBe(2);
    expect(latest.body.envelopes).toEqual([]);
    expect(latest.body.lastCommit.blockHash).toBe(toHex(view.hash));
    const full = await get(`${h.url}/blocks/1?txs=full`);
    expect(full.body.envelopes).toEqual(txs.map((t) => toHex(t.bytes)));
  });

  it("rejects bad heights and options", async () => {
    const h = await start();
    for (const path of ["-1", "abc", "1.5", "99999999999999999999", "1?txs=all"]) {
      const { status, body } = await get(`${h.url}/blocks/${path}`);
      expect(status, path).toBe(400);
      expect(body.error.code).toBe("BAD_REQUEST");
    }
  });

  it("serves msgpack on request", async () => {
    const h = await start();
    await h.backend.produceBlock();
    const { res, body } = await get(`${h.url}/blocks/latest`, { accept: "application/msgpack" });
    expect(res.headers.get("content-type")).toBe("application/msgpack");
    expect(body.height).toBe(1);
    expect(body.commit.height).toBe(1);
    // Millisecond times are integers on the wire (msgpack int64), not float64.
    const raw = new Uint8Array(
      await (await fetch(`${h.url}/status`, { headers: { accept: "application/msgpack" } })).arrayBuffer(),
    );
    const decoded = unpack(raw) as { blockTime: unknown };
    expect(typeof decoded.blockTime === "bigint" || Number.isInteger(decoded.blockTime)).toBe(true);
    const t = BigInt(decoded.blockTime as number);
    expect(t).toBeGreaterThan(1_000_000_000_000n);
    // No float64 (0xcb) holds it: find the key "blockTime" and check the type byte after it.
    const at = Buffer.from(raw).indexOf(Buffer.from("blockTime")) + "blockTime".length;
    expect(raw[at]).toBe(0xd3);
  });
});

describe("GET /state/:contract/:key", () => {
  it("reads a value by utf-8 or hex key", async () => {
    const h = await start();
    const key = "greeting/en";
    await h.backend.submit([h.tx({ args: [utf8.encode(key), utf8.encode("hello")] }).bytes]);
    await h.backend.produceBlock();
    const byText = await get(`${h.url}/state/kv/${encodeURIComponent(key)}`);
    expect(byText.status).toBe(200);
    expect(byText.body).toEqual({
      contract: "kv",
      key: toHex(utf8.encode(key)),
      value: toHex(utf8.encode("hello")),
      utf8: "hello",
      height: 1,
      stateRoot: toHex(h.backend.status().stateRoot),
      proof: { siblings: [], leaf: null },
    });
    const byHex = await get(`${h.url}/state/kv/${toHex(utf8.encode(key))}?encoding=hex`);
    expect(byHex.body).toEqual(byText.body);
  });

  it("omits utf8 for binary values", async () => {
    const h = await start();
    await h.backend.submit([h.tx({ args: [utf8.encode("b"), new Uint8Array([0xff, 0xfe])] }).bytes]);
    await h.backend.produceBlock();
    const { body } = await get(`${h.url}/state/kv/b`);
    expect(body.value).toBe("fffe");
    expect(body.utf8).toBeUndefined();
  });

  it("answers an absent key with 404 KEY_NOT_FOUND and the proof of absence", async () => {
    const h = await start();
    const { status, body } = await get(`${h.url}/state/kv/missing`);
    expect(status).toBe(404);
    expect(body).toMatchObject({
      error: { code: "KEY_NOT_FOUND" },
      contract: "kv",
      key: toHex(utf8.encode("missing")),
      value: null,
      height: 0,
      proof: { siblings: [], leaf: null },
    });
  });

  it("rejects bad keys, encodings and contracts", async () => {
    const h = await start();
    const cases: [string, number, string][] = [
      ["/state/kv/xyz?encoding=hex", 400, "BAD_HEX"],
      ["/state/kv/abc?encoding=base64", 400, "BAD_REQUEST"],
      ["/state/nope/abc", 400, "UNKNOWN_CONTRACT"],
    ];
    for (const [path, st, code] of cases) {
      const { status, body } = await get(`${h.url}${path}`);
      expect(status, path).toBe(st);
      expect(body.error.code).toBe(code);
    }
  });
});

describe("GET /status and /health", () => {
  it("renders the node status with hex hashes", async () => {
    const h = await start();
    await h.backend.produceBlock();
    const { status, body } = await get(`${h.url}/status`);
    expect(status).toBe(200);
    const s = h.backend.status();
    expect(body).toEqual({
      chainId: s.chainId,
      nodeId: s.nodeId,
      moniker: "memory",
      version: s.version,
      height: 1,
      blockHash: toHex(s.blockHash),
      stateRoot: toHex(s.stateRoot),
      blockTime: s.blockTime,
      genesisHash: toHex(s.genesisHash),
      validators: [{ publicKey: toHex(h.backend.validator.publicKey), power: 1, name: "memory" }],
      mempool: { size: 0, bytes: 0, maxSize: 10_000 },
      consensus: { engine: "memory", height: 2, round: 0, step: "idle" },
      maxTxTtl: s.maxTxTtl,
      peers: [],
      network: { peers: 0, members: 0 },
      sync: { catchingUp: false },
      role: "validator",
    });
    const mp = await get(`${h.url}/status`, { accept: "application/msgpack" });
    expect(mp.body).toEqual(body);
  });

  it("renders the operator fields: network counts, block sync and role", async () => {
    const h = await start();
    const base = h.backend.status.bind(h.backend);
    const peers = ["12D3KooWA", "12D3KooWB"];
    h.backend.status = () => ({
      ...base(),
      consensus: { engine: "tendermint", height: 8, round: 2, step: "prevote" },
      peers,
      network: { peers: 2, members: 4 },
      sync: { catchingUp: true, lastCaughtUpAt: 1_767_225_600_000 },
      role: "observer",
    });
    for (const accept of ["application/json", "application/msgpack"]) {
      const { status, body } = await get(`${h.url}/status`, { accept });
      expect(status).toBe(200);
      expect(body).toMatchObject({
        consensus: { engine: "tendermint", height: 8, round: 2, step: "prevote" },
        peers,
        network: { peers: 2, members: 4 },
        sync: { catchingUp: true, lastCaughtUpAt: 1_767_225_600_000 },
        role: "observer",
      });
    }
    // No sync yet: the field is left out rather than sent as null.
    h.backend.status = () => ({ ...base(), sync: { catchingUp: false } });
    const { body } = await get(`${h.url}/status`);
    expect(body.sync).toEqual({ catchingUp: false });
    expect("lastCaughtUpAt" in body.sync).toBe(false);
  });

  it("lists evidence a page at a time (none from the memory backend)", async () => {
    const h = await start();
    const { status, body } = await get(`${h.url}/evidence`);
    expect(status).toBe(200);
    // The route is paged since evidence could be flooded: the page's bounds come with it.
    expect(body).toEqual({ evidence: [], total: 0, offset: 0, limit: 100 });
    expect((await get(`${h.url}/evidence?offset=5&limit=2`)).body).toEqual({
      evidence: [],
      total: 0,
      offset: 5,
      limit: 2,
    });
    for (const q of ["limit=0", "limit=1001", "offset=-1", "limit=x", "kind=other", "validator=zz"]) {
      const r = await get(`${h.url}/evidence?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe("BAD_REQUEST");
    }
    const missing = await get(`${h.url}/evidence/duplicate-vote:1:00`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("EVIDENCE_NOT_FOUND");
  });

  it("reports health", async () => {
    const h = await start();
    const ok = await get(`${h.url}/health`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true });
    h.backend.ready = false;
    const down = await get(`${h.url}/health`);
    expect(down.status).toBe(503);
    expect(down.body.ok).toBe(false);
    expect(down.body.error.code).toBe("NOT_READY");
    expect(down.res.headers.get("retry-after")).toBe("1");
  });
});

describe("CORS", () => {
  it("answers preflight requests and tags responses", async () => {
    const h = await start();
    const pre = await fetch(`${h.url}/txs`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/Content-Type/);
    const res = await fetch(`${h.url}/status`);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("can be turned off", async () => {
    const h = await start({ corsOrigin: false });
    const res = await fetch(`${h.url}/status`);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("GET /txs/:hash/trace", () => {
  it("answers 404 TRACE_NOT_FOUND from a backend that traces nothing, and 400 for a bad hash", async () => {
    const h = await start();
    const none = await get(`${h.url}/txs/${"ab".repeat(32)}/trace`);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe("TRACE_NOT_FOUND");
    const bad = await get(`${h.url}/txs/xyz/trace`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("BAD_HEX");
  });
});
