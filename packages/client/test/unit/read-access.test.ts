// Signed reads: a client with `readKey` against a members-only chain (the API over MemoryBackend).
import { describe, expect, it } from "vitest";
import { type BlockEvent, CairnApiError, createClient, generateKey, type KeyPair, kv } from "../../src/index.ts";
import { start, waitFor } from "./helpers.ts";

async function membersChain(roles: readonly string[]) {
  const key = generateKey();
  const h = await start({
    readAccess: "members",
    identities: [{ publicKey: key.publicKey, roles }],
    contracts: [{ name: "counter", methods: ["get"], handler: () => 42 }],
  });
  const signedClient = (k: KeyPair = key) => createClient({ url: h.server.address, readKey: k });
  return { ...h, key, signedClient };
}

async function apiError(p: Promise<unknown>): Promise<CairnApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CairnApiError);
  return err as CairnApiError;
}

describe("a client with readKey on a members chain", () => {
  it("signs every read a client identity may make", async () => {
    const { client: anonymous, signedClient, key, backend } = await membersChain(["client"]);
    const c = signedClient();
    const me = c.signer(key);
    const sent = await me.send(kv.put("greeting", "hello"));
    await backend.produceBlock();

    expect((await c.getState("kv", "greeting")).utf8).toBe("hello");
    expect(await c.balance(key.publicKey)).toBe(0n);
    const q = await c.query("counter", "get", [1, "x"]);
    expect(q.ok && q.output).toBe(42);
    expect((await c.getContract("counter"))?.methods).toEqual(["get"]);
    expect(await c.getContract("nothing")).toBeUndefined();
    expect((await c.waitForCommit(sent.hash as string)).status).toBe("committed");

    // Blocks need the auditor role; unsigned reads are refused.
    const denied = await apiError(c.getBlock("latest"));
    expect([denied.status, denied.code]).toEqual([403, "ROLE_REQUIRED"]);
    const unsigned = await apiError(anonymous.getState("kv", "greeting"));
    expect([unsigned.status, unsigned.code]).toEqual([401, "READ_SIGNATURE_REQUIRED"]);
    // Status and submission stay public.
    expect((await anonymous.status()).height).toBe(1);
    const stranger = await apiError(signedClient(generateKey()).getContract("kv"));
    expect(stranger.code).toBe("UNKNOWN_IDENTITY");
  });

  it("signs the event stream and blocks for an auditor, and builds a signed EventSource URL", async () => {
    const { signedClient, backend, server } = await membersChain(["auditor"]);
    const c = signedClient();
    await backend.produceBlock();
    expect((await c.getBlock(1, { full: true })).height).toBe(1);

    const got: BlockEvent[] = [];
    const ac = new AbortController();
    const done = c.subscribe((b) => void got.push(b), { signal: ac.signal, from: 1 });
    await waitFor(() => got.length === 1);
    await backend.produceBlock();
    await waitFor(() => got.length === 2);
    ac.abort();
    await done;
    expect(got.map((b) => b.height)).toEqual([1, 2]);

    const url = await c.eventsUrl({ from: 2 });
    expect(url).toMatch(/\/events\?from=2&cairn-key=[0-9a-f]{64}&cairn-time=\d+&cairn-sig=[0-9a-f]{128}$/);
    const ac2 = new AbortController();
    const res = await fetch(url, { signal: ac2.signal });
    expect(res.status).toBe(200);
    ac2.abort();
    const plain = await createClient({ url: server.address }).eventsUrl();
    expect(plain).toBe(`${server.address}/events`);
    expect((await fetch(plain)).status).toBe(401);
  });

  it("ends a subscription with the API error when the reader may not stream", async () => {
    const { signedClient } = await membersChain(["client"]);
    const err = await apiError(signedClient().subscribe(() => {}, { reconnect: false }));
    expect(err.code).toBe("ROLE_REQUIRED");
  });

  it("signs the path after a base URL's own path", async () => {
    const { signedClient, key, server } = await membersChain(["client"]);
    // A proxy mounted under /cairn/ that strips the prefix.
    const proxied = createClient({
      url: "http://proxy.example/cairn/",
      readKey: key,
      fetch: (input, init) =>
        fetch(String(input).replace("http://proxy.example/cairn", server.address), init as RequestInit),
    });
    expect((await proxied.getContract("kv"))?.kind).toBe("native");
    expect((await signedClient().getContract("kv"))?.kind).toBe("native");
  });
});
