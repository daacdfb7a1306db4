import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  decodePeerExchange,
  encodePeerExchange,
  loadOrCreatePeerKey,
  NetworkError,
  peerIdFromKeyFile,
  redialDelay,
} from "../../src/index.ts";
import { type Harness, harness } from "./helpers.ts";

describe("peer key file", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("is created once with mode 600 and loads the same key afterwards", async () => {
    const path = join(h.dir, "sub", "node.key");
    const a = await loadOrCreatePeerKey(path);
    expect(a.type).toBe("Ed25519");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const b = await loadOrCreatePeerKey(path);
    expect(b.equals(a)).toBe(true);
    expect((await peerIdFromKeyFile(path)).toString()).toMatch(/^12D3Koo/);
  });

  it("concurrent first use yields one key", async () => {
    const path = join(h.dir, "race.key");
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadOrCreatePeerKey(path)));
    const onDisk = (await peerIdFromKeyFile(path)).toString();
    expect(keys.map((k) => peerIdFromPrivateKey(k).toString())).toEqual([onDisk, onDisk, onDisk, onDisk]);
    expect((await readdir(h.dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses a corrupt key file with NETWORK_BAD_KEY_FILE", async () => {
    const path = join(h.dir, "bad.key");
    await writeFile(path, "not json");
    await expect(loadOrCreatePeerKey(path)).rejects.toMatchObject({ code: "NETWORK_BAD_KEY_FILE" });
    await writeFile(path, JSON.stringify({ type: "cairn-libp2p-key", privateKey: "AAAA" }));
    await expect(loadOrCreatePeerKey(path)).rejects.toBeInstanceOf(NetworkError);
    await expect(peerIdFromKeyFile(join(h.dir, "missing.key"))).rejects.toMatchObject({
      code: "NETWORK_BAD_KEY_FILE",
    });
  });
});

describe("peer exchange codec", () => {
  it("round-trips and skips malformed entries", () => {
    const entries = [{ id: "12D3KooWabc", addrs: ["/ip4/127.0.0.1/tcp/1"] }];
    expect(decodePeerExchange(encodePeerExchange(entries))).toEqual(entries);
    expect(decodePeerExchange(new TextEncoder().encode("{"))).toEqual([]);
    expect(decodePeerExchange(new Uint8Array([0xff, 0xfe]))).toEqual([]);
    const mixed = JSON.stringify({ peers: [{ id: 5 }, null, { id: "x", addrs: [1, "/ip4/1.2.3.4/tcp/5"] }] });
    expect(decodePeerExchange(new TextEncoder().encode(mixed))).toEqual([{ id: "x", addrs: ["/ip4/1.2.3.4/tcp/5"] }]);
  });
});

describe("redial backoff", () => {
  it("doubles from the minimum and stays within the bound", () => {
    const top = () => 1; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => redialDelay(n, 250, 10_000, top))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(redialDelay(1_000, 250, 10_000, top)).toBe(10_000);
    expect(redialDelay(3, 250, 10_000, () => 0)).toBe(750); // at most 25% jitter below
  });
});
