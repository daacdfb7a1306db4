// Signed reads: the access table on a "members" chain, each level allowed and denied.
import { generateKeyPair, type KeyPair, sign, toHex, utf8 } from "@cairn/crypto";
import { encode, READ_MAX_SKEW_MS, readBodyHash, readSigningBytes } from "@cairn/messaging";
import type { MemoryBackendOptions } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { DEFAULT_READ_LEVEL, routeLevel, splitReadParams } from "../../src/access.ts";
import { type Harness, type Json, start } from "./helpers.ts";

interface SignOpts {
  method?: string;
  body?: Uint8Array;
  time?: number;
  chainId?: string;
}

/** The three x-cairn-* headers of a read of `target` signed by `key`. */
function signed(h: Harness, key: KeyPair, target: string, o: SignOpts = {}): Record<string, string> {
  const time = o.time ?? Date.now();
  const message = readSigningBytes({
    chainId: o.chainId ?? h.backend.chainId,
    method: o.method ?? "GET",
    target,
    time,
    bodyHash: readBodyHash(o.body),
  });
  return {
    "x-cairn-key": toHex(key.publicKey),
    "x-cairn-time": String(time),
    "x-cairn-signature": toHex(sign(message, key.secretKey)),
  };
}

async function get(h: Harness, target: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}${target}`, { headers });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? undefined : JSON.parse(text)) as Json, res };
}

async function getAs(h: Harness, key: KeyPair, target: string, o: SignOpts = {}) {
  return get(h, target, signed(h, key, target, o));
}

function expectError(r: { status: number; body: Json }, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe("string");
}

/** A members-only chain with a client, an auditor, an admin, a revoked client and a block holding one tx of each live key. */
async function membersChain(extra: MemoryBackendOptions = {}) {
  const client = generateKeyPair();
  const other = generateKeyPair();
  const auditor = generateKeyPair();
  const admin = generateKeyPair();
  const revoked = generateKeyPair();
  const h = await start(
    {},
    {
      readAccess: "members",
      identities: [
        { publicKey: client.publicKey, roles: ["client"] },
        { publicKey: other.publicKey, org: "org2", roles: ["client"] },
        { publicKey: auditor.publicKey, org: "regulator", roles: ["auditor"] },
        { publicKey: admin.publicKey, roles: ["admin"] },
        { publicKey: revoked.publicKey, roles: ["client", "auditor"], active: false },
      ],
      contracts: [{ name: "counter", methods: ["get"], handler: (c) => (c.readOnly ? 7 : undefined) }],
      ...extra,
    },
  );
  return { h, client, other, auditor, admin, revoked };
}

describe("the access table", () => {
  it("gives each route its level; unknown routes default to auditor, /gov/* to member", () => {
    expect(routeLevel("GET", "/health")).toBe("public");
    expect(routeLevel("GET", "/status")).toBe("public");
    expect(routeLevel("POST", "/txs")).toBe("public");
    expect(routeLevel("OPTIONS", "*")).toBe("public");
    expect(routeLevel("GET", "/state/:contract/:key")).toBe("member");
    expect(routeLevel("HEAD", "/state/:contract/:key")).toBe("member");
    expect(routeLevel("POST", "/query")).toBe("member");
    expect(routeLevel("GET", "/contracts/:name")).toBe("member");
    expect(routeLevel("GET", "/txs/:hash")).toBe("member");
    expect(routeLevel("GET", "/gov/proposals/:id")).toBe("member");
    expect(routeLevel("POST", "/gov/proposals")).toBe(DEFAULT_READ_LEVEL);
    expect(routeLevel("GET", "/blocks/:height")).toBe("auditor");
    expect(routeLevel("GET", "/blocks/latest")).toBe("auditor");
    expect(routeLevel("GET", "/events")).toBe("auditor");
    expect(routeLevel("GET", "/evidence")).toBe("auditor");
    expect(routeLevel("GET", "/some/new/route")).toBe("auditor");
    expect(routeLevel("POST", "/txs/private")).toBe("public");
    expect(routeLevel("GET", "/private/:collection/:key")).toBe("signed");
    expect(routeLevel("GET", "/private/:collection/:key/hash")).toBe("member");
    expect(routeLevel("GET", "/gov/collections")).toBe("member");
    expect(routeLevel("GET", undefined)).toBeUndefined();
  });

  it("strips only the cairn-* parameters from the signed target", () => {
    expect(splitReadParams("/events").target).toBe("/events");
    expect(splitReadParams("/events?cairn-key=aa&cairn-time=1&cairn-sig=bb").target).toBe("/events");
    const s = splitReadParams("/events?from=3&cairn-key=aa&x=%20&cairn-time=1&cairn-sig=bb");
    expect(s.target).toBe("/events?from=3&x=%20");
    expect(s.params.get("cairn-key")).toEqual(["aa"]);
  });
});

describe("an open chain", () => {
  it("serves every read without a signature, as before", async () => {
    const h = await start();
    expect(h.backend.readAccess()).toBe("open");
    const s = h.tx();
    await h.backend.submit([s.bytes]);
    await h.backend.produceBlock();
    expect((await get(h, "/blocks/latest")).status).toBe(200);
    expect((await get(h, "/evidence")).status).toBe(200);
    expect((await get(h, `/txs/${toHex(s.hash)}`)).status).toBe(200);
    expect((await get(h, "/contracts/kv")).status).toBe(200);
    const r = await get(h, "/blocks/latest");
    expect(r.res.headers.get("cache-control")).toBeNull();
    // A signature, even a bad one, is ignored.
    const bad = await get(h, "/blocks/latest", { "x-cairn-key": "00", "x-cairn-time": "1", "x-cairn-signature": "x" });
    expect(bad.status).toBe(200);
  });
});

describe("private data reads", () => {
  it("need a signed read on an open chain too, and a registered identity", async () => {
    const h = await start();
    expectError(await get(h, "/private/ab/6b6579"), 401, "READ_SIGNATURE_REQUIRED");
    expectError(await getAs(h, generateKeyPair(), "/private/ab/6b6579"), 403, "UNKNOWN_IDENTITY");
    // The hash is an ordinary read.
    expect((await get(h, "/private/ab/6b6579/hash")).status).not.toBe(401);
  });
});

describe("a members chain", () => {
  it("keeps the public routes public", async () => {
    const { h } = await membersChain();
    expect((await get(h, "/health")).status).toBe(200);
    expect((await get(h, "/status")).status).toBe(200);
    const res = await fetch(`${h.url}/txs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tx: toHex(h.tx().bytes) }),
    });
    expect(res.status).toBe(202);
    // An unmatched path is still a plain 404.
    expectError(await get(h, "/nope"), 404, "NOT_FOUND");
    // Preflights pass, and allow the signature headers.
    const pre = await fetch(`${h.url}/blocks/latest`, { method: "OPTIONS" });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/X-Cairn-Key, X-Cairn-Time, X-Cairn-Signature/);
  });

  it("answers a read without a signature with 401 READ_SIGNATURE_REQUIRED", async () => {
    const { h } = await membersChain();
    for (const target of [
      "/state/kv/k",
      "/contracts/kv",
      "/blocks/latest",
      "/events",
      "/evidence",
      `/txs/${"ab".repeat(32)}`,
    ]) {
      const r = await get(h, target);
      expectError(r, 401, "READ_SIGNATURE_REQUIRED");
      expect(r.res.headers.get("www-authenticate")).toBe("Cairn-Read-V1");
    }
    const q = await fetch(`${h.url}/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contract: "counter", method: "get" }),
    });
    expectError({ status: q.status, body: await q.json() }, 401, "READ_SIGNATURE_REQUIRED");
  });

  it("answers a bad or malformed signature with 401 BAD_READ_SIGNATURE", async () => {
    const { h, client, other } = await membersChain();
    const good = signed(h, client, "/state/kv/k");
    // Signed by another key, for another path, another chain, another method.
    expectError(
      await get(h, "/state/kv/k", { ...good, "x-cairn-key": toHex(other.publicKey) }),
      401,
      "BAD_READ_SIGNATURE",
    );
    expectError(await get(h, "/state/kv/other", good), 401, "BAD_READ_SIGNATURE");
    expectError(await get(h, "/state/kv/k?encoding=utf8", good), 401, "BAD_READ_SIGNATURE");
    expectError(await getAs(h, client, "/state/kv/k", { chainId: "other-chain" }), 401, "BAD_READ_SIGNATURE");
    expectError(await getAs(h, client, "/state/kv/k", { method: "POST" }), 401, "BAD_READ_SIGNATURE");
    // A time other than the signed one.
    expectError(
      await get(h, "/state/kv/k", { ...good, "x-cairn-time": String(Number(good["x-cairn-time"]) + 1) }),
      401,
      "BAD_READ_SIGNATURE",
    );
    // Malformed or missing pieces: never a 500.
    const broken: Record<string, string>[] = [
      { ...good, "x-cairn-key": "zz" },
      { ...good, "x-cairn-key": "ab" },
      { ...good, "x-cairn-time": "-5" },
      { ...good, "x-cairn-time": "1.5" },
      { ...good, "x-cairn-signature": "00" },
      { ...good, "x-cairn-signature": "zz".repeat(64) },
      { "x-cairn-key": good["x-cairn-key"] as string },
      { "x-cairn-signature": good["x-cairn-signature"] as string, "x-cairn-time": good["x-cairn-time"] as string },
    ];
    for (const headers of broken) expectError(await get(h, "/state/kv/k", headers), 401, "BAD_READ_SIGNATURE");
    // A key that is not a curve point verifies nothing.
    expectError(await get(h, "/state/kv/k", { ...good, "x-cairn-key": "ff".repeat(32) }), 401, "BAD_READ_SIGNATURE");
  });

  it("answers a time off the node's clock by more than 60 s with 401 READ_SIGNATURE_EXPIRED", async () => {
    const { h, client } = await membersChain();
    const now = Date.now();
    expectError(
      await getAs(h, client, "/contracts/kv", { time: now - READ_MAX_SKEW_MS - 5000 }),
      401,
      "READ_SIGNATURE_EXPIRED",
    );
    expectError(
      await getAs(h, client, "/contracts/kv", { time: now + READ_MAX_SKEW_MS + 5000 }),
      401,
      "READ_SIGNATURE_EXPIRED",
    );
    expect((await getAs(h, client, "/contracts/kv", { time: now - 30_000 })).status).toBe(200);
    expect((await getAs(h, client, "/contracts/kv", { time: now + 30_000 })).status).toBe(200);
  });

  it("answers an unknown key with 403 UNKNOWN_IDENTITY and a revoked one with 403 IDENTITY_REVOKED", async () => {
    const { h, revoked } = await membersChain();
    expectError(await getAs(h, generateKeyPair(), "/contracts/kv"), 403, "UNKNOWN_IDENTITY");
    expectError(await getAs(h, revoked, "/contracts/kv"), 403, "IDENTITY_REVOKED");
    expectError(await getAs(h, revoked, "/blocks/latest"), 403, "IDENTITY_REVOKED");
  });

  it("lets any active identity read state, contracts and queries", async () => {
    const { h, client } = await membersChain();
    const r = await getAs(h, client, "/contracts/counter");
    expect(r.status).toBe(200);
    expect(r.res.headers.get("cache-control")).toBe("private, no-store");
    expectError(await getAs(h, client, "/state/kv/k?encoding=utf8"), 404, "KEY_NOT_FOUND");
    expectError(await getAs(h, client, `/state/kv/${toHex(utf8.encode("k"))}?encoding=hex`), 404, "KEY_NOT_FOUND");

    // POST /query: the signature covers the body's hash, JSON or msgpack.
    const json = utf8.encode(JSON.stringify({ contract: "counter", method: "get" }));
    const post = (body: Uint8Array, type: string, headers: Record<string, string>) =>
      fetch(`${h.url}/query`, {
        method: "POST",
        headers: { "content-type": type, ...headers },
        body: body as Uint8Array<ArrayBuffer>,
      });
    const q1 = await post(json, "application/json", signed(h, client, "/query", { method: "POST", body: json }));
    expect(q1.status).toBe(200);
    expect(((await q1.json()) as Json).output).toBe(7);
    const packed = encode(["counter", "get", []]);
    const q2 = await post(packed, "application/msgpack", signed(h, client, "/query", { method: "POST", body: packed }));
    expect(q2.status).toBe(200);
    // The body changed after signing.
    const q3 = await post(
      utf8.encode(JSON.stringify({ contract: "counter", method: "get", args: "90" })),
      "application/json",
      signed(h, client, "/query", { method: "POST", body: json }),
    );
    expectError({ status: q3.status, body: await q3.json() }, 401, "BAD_READ_SIGNATURE");
  });

  it("keeps blocks, events and evidence to auditors and admins (403 ROLE_REQUIRED for a client)", async () => {
    const { h, client, auditor, admin } = await membersChain();
    await h.backend.submit([h.tx().bytes]);
    await h.backend.produceBlock();
    for (const target of ["/blocks/latest", "/blocks/1", "/blocks/1?txs=full", "/evidence"]) {
      const denied = await getAs(h, client, target);
      expectError(denied, 403, "ROLE_REQUIRED");
      expect(denied.body.error.message).toMatch(/auditor/);
      expect((await getAs(h, auditor, target)).status).toBe(200);
      expect((await getAs(h, admin, target)).status).toBe(200);
    }
    const block = await getAs(h, auditor, "/blocks/1");
    expect(block.body.height).toBe(1);
  });

  it("shows a client its own transactions only; auditors and admins any", async () => {
    const { h, client, other, auditor, admin } = await membersChain();
    const mine = h.tx({ sender: client });
    const theirs = h.tx({ sender: other });
    await h.backend.submit([mine.bytes, theirs.bytes]);
    const own = `/txs/${toHex(mine.hash)}`;
    const foreign = `/txs/${toHex(theirs.hash)}`;
    // Pending and committed alike.
    expect((await getAs(h, client, own)).body.status).toBe("pending");
    expectError(await getAs(h, client, foreign), 403, "ROLE_REQUIRED");
    await h.backend.produceBlock();
    const r = await getAs(h, client, own);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("committed");
    expectError(await getAs(h, client, foreign), 403, "ROLE_REQUIRED");
    expect((await getAs(h, other, foreign)).status).toBe(200);
    expect((await getAs(h, auditor, foreign)).status).toBe(200);
    expect((await getAs(h, admin, own)).status).toBe(200);
    // An unknown hash is a 404 for any member.
    const unknown = await getAs(h, client, `/txs/${"ab".repeat(32)}`);
    expect(unknown.status).toBe(404);
  });

  it("takes the event stream's signature as query parameters, and ends the stream when the reader is revoked", async () => {
    const { h, client, auditor } = await membersChain();
    const paramsFor = (key: KeyPair, target: string, time = Date.now()): string => {
      const s = signed(h, key, target, { time });
      const sep = target.includes("?") ? "&" : "?";
      return `${target}${sep}cairn-key=${s["x-cairn-key"]}&cairn-time=${s["x-cairn-time"]}&cairn-sig=${s["x-cairn-signature"]}`;
    };
    expectError(await get(h, paramsFor(client, "/events")), 403, "ROLE_REQUIRED");
    expectError(
      await get(h, paramsFor(auditor, "/events", Date.now() - 2 * READ_MAX_SKEW_MS)),
      401,
      "READ_SIGNATURE_EXPIRED",
    );
    // The signed target is /events?from=1: tampering with `from` breaks it.
    expectError(
      await get(h, paramsFor(auditor, "/events?from=1").replace("from=1", "from=2")),
      401,
      "BAD_READ_SIGNATURE",
    );
    // Query parameters are only for GET /events.
    const st = signed(h, client, "/contracts/kv");
    const viaParams = await get(
      h,
      `/contracts/kv?cairn-key=${st["x-cairn-key"]}&cairn-time=${st["x-cairn-time"]}&cairn-sig=${st["x-cairn-signature"]}`,
    );
    expectError(viaParams, 401, "READ_SIGNATURE_REQUIRED");

    const ac = new AbortController();
    const res = await fetch(`${h.url}${paramsFor(auditor, "/events?from=1")}`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (pred: () => boolean): Promise<boolean> => {
      while (!pred()) {
        const { value, done } = await reader.read();
        if (done) return false;
        text += decoder.decode(value, { stream: true });
      }
      return true;
    };
    await h.backend.produceBlock();
    expect(await readUntil(() => text.includes("id: 1\n"))).toBe(true);
    // Headers work on the stream too.
    const ac2 = new AbortController();
    const withHeaders = await fetch(`${h.url}/events`, { headers: signed(h, auditor, "/events"), signal: ac2.signal });
    expect(withHeaders.status).toBe(200);
    ac2.abort();

    h.backend.revokeIdentity(auditor.publicKey);
    await h.backend.produceBlock();
    // The node ends the stream instead of sending block 2.
    expect(await readUntil(() => text.includes("id: 2\n"))).toBe(false);
    ac.abort();
  });

  it("follows a policy change from open to members", async () => {
    const { h, client } = await membersChain({ readAccess: "open" });
    expect((await get(h, "/contracts/kv")).status).toBe(200);
    h.backend.readPolicy = "members";
    expectError(await get(h, "/contracts/kv"), 401, "READ_SIGNATURE_REQUIRED");
    expect((await getAs(h, client, "/contracts/kv")).status).toBe(200);
  });
});
