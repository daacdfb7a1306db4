import { toHex, utf8 } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import {
  CairnApiError,
  CairnClientError,
  createClient,
  generateKey,
  kv,
  type SubmitResult,
  token,
} from "../../src/index.ts";
import { start } from "./helpers.ts";

describe("reads", () => {
  it("fetches the node status", async () => {
    const { client, backend } = await start({ chainId: "c-status" });
    const s = await client.status();
    expect(s.chainId).toBe("c-status");
    expect(s.height).toBe(0);
    expect(s.validators[0]!.publicKey).toBe(toHex(backend.validator.publicKey));
  });

  it("gets blocks by height and latest, and maps 404 to CairnApiError", async () => {
    const { client, backend } = await start();
    await expect(client.getBlock("latest")).rejects.toMatchObject({
      name: "CairnApiError",
      code: "BLOCK_NOT_FOUND",
      status: 404,
    });
    const view = await backend.produceBlock();
    const b = await client.getBlock(1);
    expect(b.hash).toBe(toHex(view.hash));
    expect((await client.getBlock("latest")).height).toBe(1);
    expect((await client.getBlock(1, { full: true })).envelopes).toEqual([]);
  });

  it("reads state by text or byte keys; absent keys are null, not errors", async () => {
    const { client, backend } = await start();
    const s = client.signer(generateKey());
    for (const key of ["plain", "a/b", ".", "..", "ü ?#%"]) {
      await s.send(kv.put(key, `v:${key}`));
    }
    await backend.produceBlock();
    for (const key of ["plain", "a/b", ".", "..", "ü ?#%"]) {
      const st = await client.getState("kv", key);
      expect(st.utf8, key).toBe(`v:${key}`);
      expect(st.key).toBe(toHex(utf8.encode(key)));
    }
    expect((await client.getState("kv", utf8.encode("plain"))).utf8).toBe("v:plain");
    const missing = await client.getState("kv", "missing");
    expect(missing.value).toBeNull();
    expect(missing.proof).toEqual({ siblings: [], leaf: null });
    await expect(client.getState("nope", "x")).rejects.toMatchObject({ code: "UNKNOWN_CONTRACT", status: 400 });
  });
});

describe("submitting", () => {
  it("submits one transaction and tracks it to commit", async () => {
    const { client, backend } = await start();
    const signer = client.signer(generateKey());
    const tx = await signer.sign(kv.put("k", "v"));
    const r = await client.submit(tx);
    expect(r).toEqual({ hash: toHex(tx.hash), status: "pending" });
    expect((await client.getTx(tx.hash)).status).toBe("pending");
    setTimeout(() => backend.produceBlock(), 30);
    const info = await client.waitForCommit(toHex(tx.hash), { pollMs: 10 });
    expect(info).toMatchObject({ status: "committed", height: 1, index: 0, receipt: { code: "OK" } });
    expect(info.tx!.envelope).toBe(toHex(tx.bytes));
  });

  it("reports unknown transactions without throwing", async () => {
    const { client } = await start();
    const info = await client.getTx("00".repeat(32));
    expect(info.status).toBe("unknown");
    expect(() => client.getTx("abc")).toThrow(CairnClientError);
  });

  it("times out waiting for a transaction that does not commit", async () => {
    const { client } = await start();
    const tx = await client.signer(generateKey()).sign(kv.put("k", "v"));
    await client.submit(tx);
    await expect(client.waitForCommit(tx.hash, { timeoutMs: 60, pollMs: 10 })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
  });

  it("waits for commit in one call", async () => {
    const { client } = await start({ autoBlockMs: 5 });
    const signer = client.signer(generateKey());
    const r = await signer.send(kv.put("one", "line"), { wait: "commit" });
    expect(r).toMatchObject({ status: "committed", height: 1, receipt: { code: "OK" } });
    expect((await client.getState("kv", "one")).utf8).toBe("line");
  });

  it("submits a batch and reports each item", async () => {
    const { client } = await start({ autoBlockMs: 5 });
    const signer = client.signer(generateKey());
    const a = await signer.sign(kv.put("a", "1"));
    const b = await signer.sign(kv.put("b", "2"));
    const r = await client.submit([a, b, a.bytes], { wait: "commit", timeoutMs: 5000 });
    expect(r.accepted).toBe(2);
    expect(r.rejected).toBe(1);
    expect(r.committed).toBe(2);
    expect(r.results[0]).toMatchObject({ hash: toHex(a.hash), status: "committed" });
    expect(r.results[2]).toMatchObject({ index: 2, error: { code: "DUPLICATE" } });

    const batch = await signer.send([kv.put("c", "3"), kv.put("d", "4")]);
    expect(batch.accepted).toBe(2);
    expect(batch.results.map((x: SubmitResult) => x.status)).toEqual(["pending", "pending"]);
  });

  it("turns refusals into CairnApiError with code, status and Retry-After", async () => {
    const { client, backend } = await start({ maxMempool: 1 }, { retryAfterSeconds: 2 });
    const signer = client.signer(generateKey());
    await signer.send(kv.put("a", "1"));
    const err = await signer.send(kv.put("b", "2")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CairnApiError);
    expect(err).toMatchObject({ code: "MEMPOOL_FULL", status: 503, retryAfter: 2 });
    expect((err as CairnApiError).message).toBe("mempool is full");

    await backend.produceBlock();
    const other = await start({ chainId: "other" });
    const tx = await other.client.signer(generateKey()).sign(kv.put("x", "y"));
    await expect(client.submit(tx)).rejects.toMatchObject({ code: "WRONG_CHAIN", status: 400 });
  });

  it("refreshes a stale chain status and re-signs once", async () => {
    const { client, backend } = await start({ maxTxTtl: 5 });
    const signer = client.signer(generateKey(), { ttl: 3 });
    await signer.send(kv.put("warm", "cache"));
    // The cached height goes stale by more than the TTL.
    for (let i = 0; i < 10; i++) await backend.produceBlock();
    const r = await signer.send(kv.put("late", "but fine"));
    expect(r.status).toBe("pending");
    const tx = await client.getTx(r.hash!);
    expect(tx.tx!.expiry).toBe(13);
  });

  it("caps the TTL by the chain's maxTxTtl", async () => {
    const { client } = await start({ maxTxTtl: 7 });
    const tx = await client.signer(generateKey()).sign(kv.put("a", "b"));
    expect(tx.tx.expiry).toBe(7);
    const explicit = await client.signer(generateKey()).sign(kv.put("a", "b"), { expiry: 3 });
    expect(explicit.tx.expiry).toBe(3);
  });

  it("reads token balances", async () => {
    const { client } = await start({ autoBlockMs: 5 });
    const alice = client.signer(generateKey());
    const bob = generateKey();
    await alice.send(token.mint(alice.key.publicKey, 100n), { wait: "commit" });
    const r = await alice.send(token.transfer(bob.publicKey, 30), { wait: "commit" });
    expect(r.receipt!.events[0]!.name).toBe("transfer");
    expect(await alice.balance()).toBe(70n);
    expect(await client.balance(toHex(bob.publicKey))).toBe(30n);
    expect(await client.balance(generateKey().publicKey)).toBe(0n);
    const broke = await client.signer(bob).send(token.transfer(alice.key.publicKey, 31), { wait: "commit" });
    expect(broke.receipt!.code).toBe("INSUFFICIENT_FUNDS");
  });
});

describe("transport errors", () => {
  it("uses an injected fetch and maps non-JSON errors to HTTP_<status>", async () => {
    const calls: string[] = [];
    const fakeFetch = (async (url: string | URL | Request) => {
      calls.push(String(url));
      return new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" });
    }) as typeof fetch;
    const client = createClient({ url: "http://node.invalid/api/", fetch: fakeFetch });
    await expect(client.status()).rejects.toMatchObject({ name: "CairnApiError", code: "HTTP_502", status: 502 });
    expect(calls).toEqual(["http://node.invalid/api/status"]);
  });

  it("maps unreachable nodes to NETWORK", async () => {
    const fakeFetch = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const client = createClient({ url: "http://node.invalid", fetch: fakeFetch });
    await expect(client.status()).rejects.toMatchObject({ name: "CairnClientError", code: "NETWORK" });
  });

  it("rejects a 2xx answer that is not JSON", async () => {
    const fakeFetch = (async () => new Response("ok", { status: 200 })) as typeof fetch;
    const client = createClient({ url: "http://node.invalid", fetch: fakeFetch });
    await expect(client.status()).rejects.toMatchObject({ code: "BAD_RESPONSE" });
  });

  it("sends extra headers", async () => {
    let seen: Headers | undefined;
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      seen = new Headers(init.headers);
      return Response.json({ ok: true });
    }) as unknown as typeof fetch;
    await createClient({ url: "http://x.invalid", fetch: fakeFetch, headers: { authorization: "Bearer t" } }).status();
    expect(seen?.get("authorization")).toBe("Bearer t");
    expect(seen?.get("accept")).toBe("application/json");
  });
});
