// Private data collections as users run them (docs/privacy.md): `cairn testnet` with four
// organisations (org0..org3, one validator each), collections of org0 and org1 defined through
// governance with the CLI, private writes sent with the SDK and the CLI, every node a `cairn start`
// process with real libp2p and LevelDB. Each node logs every gossip message it receives
// (--log-level network=trace), which is the capture the test searches. What is checked is what
// docs/privacy.md promises: the plaintext only on member nodes, one state root everywhere,
// plaintext pulled by a member that was down, purged by blockToLive and by a purge transaction
// (the hash staying), reads and writes of non-members refused.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type CairnClient, createClient, pkv, privateWrite } from "@cairn/client";
import { type KeyPair, toHex } from "@cairn/crypto";
import { privateKeyHash, privateRef } from "@cairn/messaging";
import { openDatabase } from "@cairn/storage";
import { launchChromium } from "@cairn/test-utils/browser";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, REPO, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, readKey } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const running: NodeProcess[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) await n.kill();
});

/** Every gossip message each node receives is logged with its payload (the capture). */
const LOG = ["--log-level", "warn,ledger=info,network=trace"];

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The files under `dir` holding `text` as UTF-8 or as hex. */
function holding(dir: string, text: string): string[] {
  const raw = Buffer.from(text);
  const hex = Buffer.from(raw.toString("hex"));
  return files(dir).filter((f) => {
    const b = readFileSync(f);
    return b.includes(raw) || b.includes(hex);
  });
}

/**
 * Whether a node's LevelDB holds `text` (UTF-8 or hex) in any key or value of any column: read
 * through LevelDB, so values in compressed table files are searched as well (the node is stopped).
 */
async function databaseHolds(home: string, text: string): Promise<boolean> {
  const raw = Buffer.from(text);
  const hex = Buffer.from(raw.toString("hex"));
  const db = await openDatabase(join(home, "data"), { createIfMissing: false });
  try {
    for (let column = 0; column < 256; column++) {
      for await (const [k, v] of db.iterate(column)) {
        for (const b of [Buffer.from(k), Buffer.from(v)]) if (b.includes(raw) || b.includes(hex)) return true;
      }
    }
    return false;
  } finally {
    await db.close();
  }
}

/** The example answer of GET /private/:collection/:key in docs/api.md. */
function documentedPrivateRead(): Record<string, unknown> {
  const api = readFileSync(join(REPO, "docs/api.md"), "utf8");
  const section = api.slice(api.indexOf("### Private data"));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] as string));
  return blocks[1] as Record<string, unknown>;
}

const secret = (what: string) => `SECRET-${what}-${toHex(crypto.getRandomValues(new Uint8Array(8)))}`;

describe("private data collections, as processes", () => {
  it("4 organisations, collections of org0 and org1: plaintext only on their nodes, one state root, pulled after a restart, purged by blockToLive and by purge; non-members refused", {
    timeout: 300_000,
  }, async () => {
    const out = tempDir("privacy");
    const base = 20_000 + ((await freePort()) % 20_000);
    const made = await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)]);
    expect(made.code, made.stderr).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    const admins: KeyPair[] = homes.map((h) => readKey(h));
    const nodes: (NodeProcess | undefined)[] = [];
    const outputs = ["", "", "", ""];
    const start = async (i: number) => {
      const n = await startNodeProcess(homes[i] as string, base + i, LOG);
      nodes[i] = n;
      running.push(n);
    };
    const url = (i: number) => `http://127.0.0.1:${base + i}`;
    const client = (i: number, reader?: KeyPair): CairnClient =>
      createClient({ url: url(i), ...(reader === undefined ? {} : { readKey: reader }) });
    await Promise.all([0, 1, 2, 3].map(start));
    /** A private read on node i: the plaintext's record, or the refusal's code. */
    const read = (i: number, reader: KeyPair, collection: string, key: string) =>
      client(i, reader)
        .getPrivate(collection, key)
        .then(
          (r) => ({ code: "OK", text: Buffer.from(r.value, "hex").toString(), expiresAt: r.expiresAt }),
          (e: { code: string; status: number }) => ({ code: e.code, status: e.status, text: "", expiresAt: undefined }),
        );
    /** Waits until node i answers `code` (nodes commit a block a little after the one that was asked). */
    const readUntil = async (i: number, reader: KeyPair, collection: string, key: string, code: string) => {
      let last: Awaited<ReturnType<typeof read>> | undefined;
      await waitFor(
        `node${i} to answer ${code} for ${collection}/${key}`,
        async () => {
          last = await read(i, reader, collection, key);
          return last.code === code;
        },
        30_000,
      );
      return last as Awaited<ReturnType<typeof read>>;
    };

    // Three collections of org0 and org1, defined through governance with the CLI (3 of 4 organisations approve each).
    const definitions = [
      ["ab", "org0,org1", "1", "3", "0", "true", "true"], // needs the other member's node to hold it
      ["ab0", "org0,org1", "0", "3", "0", "true", "true"], // accepted with no other member up
      ["ttl", "org0,org1", "0", "3", "4", "true", "true"], // plaintext purged 4 blocks after it was written
    ];
    for (const [id, d] of definitions.entries()) {
      const proposed = await runCairn(["gov", "propose", "define-collection", ...d, "--home", homes[0] as string]);
      expect(proposed.code, proposed.stderr).toBe(0);
      for (const i of [1, 2]) {
        const approved = await runCairn(["gov", "approve", String(id + 1), "--home", homes[i] as string]);
        expect(approved.code, approved.stderr).toBe(0);
      }
    }
    const listed = await runCairn(["gov", "collections", "--json", "--url", url(3)]);
    expect(JSON.parse(listed.stdout).map((c: { name: string }) => c.name)).toEqual(["ab", "ab0", "ttl"]);

    // The console lists them (explorer, governance), in Chromium.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push((e as Error).message));
      await page.goto(`${url(3)}/console/#/explorer`, { waitUntil: "domcontentloaded" });
      await page.waitForSelector("#tab-governance");
      await page.click("#tab-governance");
      await page.waitForSelector('[data-collection="ttl"]', { timeout: 20_000 });
      const shown = await page.$$eval("[data-collection]", (li) => li.map((e) => e.textContent ?? ""));
      expect(shown).toHaveLength(3);
      expect(shown[0]).toContain("members org0, org1");
      expect(shown[2]).toContain("purged 4 blocks after it is written");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    const plaintexts: string[] = [];
    const a = client(0).signer(admins[0] as KeyPair);

    // A non-member node refuses to take private data; a non-member identity cannot write to a members-only collection.
    const viaC = await runCairn(["tx", "pkv", "put", "ab", "k", "v", "--home", homes[2] as string]);
    expect(viaC.code).toBe(1);
    expect(viaC.stderr).toContain("NOT_A_MEMBER");
    const strangerValue = secret("stranger");
    plaintexts.push(strangerValue);
    await expect(
      client(0)
        .signer(admins[2] as KeyPair)
        .sendPrivate(pkv.put(), [privateWrite("ab", "k", strangerValue)]),
    ).rejects.toMatchObject({ code: "NOT_A_MEMBER", status: 403 });

    // A transaction naming private writes sent without their plaintext is refused: no member would hold it.
    const bare = await a.sign(pkv.put(), { private: [privateWrite("ab", "bare", "nothing")] });
    await expect(client(0).submit(bare)).rejects.toMatchObject({ code: "PRIVATE_DATA_REQUIRED", status: 400 });

    // org0 writes a price only org0 and org1 may see.
    const price = secret("price");
    plaintexts.push(price);
    const write = privateWrite("ab", "price", price);
    const sent = await a.sendPrivate(pkv.put(), [write], { wait: "commit" });
    expect(sent.status, JSON.stringify(sent)).toBe("committed");
    const txHash = sent.hash;

    // Members read it (signed reads); a non-member identity and a non-member node are refused and see only the hash.
    expect((await readUntil(1, admins[1] as KeyPair, "ab", "price", "OK")).text).toBe(price);
    await expect(client(1, admins[2]).getPrivate("ab", "price")).rejects.toMatchObject({
      code: "NOT_A_MEMBER",
      status: 403,
    });
    await expect(client(2, admins[0]).getPrivate("ab", "price")).rejects.toMatchObject({
      code: "NOT_A_MEMBER",
      status: 403,
    });
    const hashOnD = await client(3).getPrivateHash("ab", "price");
    expect(hashOnD.valueHash).toBe(toHex(privateRef(write).valueHash));

    // A member node down during dissemination: "ab" needs another member's node and refuses; "ab0" accepts,
    // and the restarted node pulls what it missed from org0's node.
    await nodes[1]?.kill();
    outputs[1] += nodes[1]?.output() ?? "";
    const refusedNote = secret("refused");
    plaintexts.push(refusedNote);
    await expect(a.sendPrivate(pkv.put(), [privateWrite("ab", "note", refusedNote)])).rejects.toMatchObject({
      code: "PRIVATE_DISSEMINATION_FAILED",
      status: 503,
    });
    const missed = secret("missed");
    plaintexts.push(missed);
    const late = await a.sendPrivate(pkv.put(), [privateWrite("ab0", "missed", missed)], { wait: "commit" });
    expect(late.status).toBe("committed");
    await start(1);
    await waitFor(
      "the restarted member to pull the data it missed",
      async () => {
        const r = await client(1, admins[1])
          .getPrivate("ab0", "missed")
          .catch(() => undefined);
        return r !== undefined && Buffer.from(r.value, "hex").toString() === missed;
      },
      60_000,
    );

    // blockToLive: gone from both members 4 blocks after it was written; the hash stays.
    const ephemeral = secret("ephemeral");
    plaintexts.push(ephemeral);
    const ttlSent = await a.sendPrivate(pkv.put(), [privateWrite("ttl", "e", ephemeral)], { wait: "commit" });
    expect(ttlSent.status).toBe("committed");
    const writtenAt = ttlSent.height ?? 0;
    expect((await readUntil(1, admins[1] as KeyPair, "ttl", "e", "OK")).expiresAt).toBe(writtenAt + 4);
    // The answer has exactly the fields docs/api.md shows.
    const documented = documentedPrivateRead();
    const answer = await client(1, admins[1]).getPrivate("ttl", "e");
    expect(Object.keys(answer).sort()).toEqual(Object.keys(documented).sort());
    // Empty blocks are not made while idle: kv writes move the chain on.
    for (let i = 0; i < 6; i++)
      await a.send(
        { contract: "kv", method: "put", args: [Buffer.from(`tick${i}`), Buffer.from("x")] },
        { wait: "commit" },
      );
    for (const i of [0, 1]) {
      await readUntil(i, admins[i] as KeyPair, "ttl", "e", "PRIVATE_NOT_HELD");
    }
    expect((await client(2).getPrivateHash("ttl", "e")).valueHash).toBeDefined();

    // A purge transaction: gone from both members at once; the hash stays.
    const purged = secret("purged");
    plaintexts.push(purged);
    expect((await a.sendPrivate(pkv.put(), [privateWrite("ab", "purge-me", purged)], { wait: "commit" })).status).toBe(
      "committed",
    );
    for (const i of [0, 1]) await readUntil(i, admins[i] as KeyPair, "ab", "purge-me", "OK");
    const purge = await runCairn(["tx", "pkv", "purge", "ab", "purge-me", "--home", homes[1] as string]);
    expect(purge.code, purge.stderr).toBe(0);
    for (const i of [0, 1]) await readUntil(i, admins[i] as KeyPair, "ab", "purge-me", "PRIVATE_NOT_HELD");
    const afterPurge = await client(3).getPrivateHash("ab", "purge-me");
    expect(afterPurge.keyHash).toBe(toHex(privateKeyHash("ab", Buffer.from("purge-me"))));
    expect(afterPurge.valueHash).toBeDefined();

    // Every node agrees on every block (so on every state root).
    const top = Math.min(
      ...(await Promise.all([0, 1, 2, 3].map(async (i) => (await getJson(`${url(i)}/status`)).body.height))),
    );
    for (let h = 1; h <= top; h++) {
      const blocks = await Promise.all([0, 1, 2, 3].map(async (i) => (await getJson(`${url(i)}/blocks/${h}`)).body));
      expect(new Set(blocks.map((b) => b.header.stateRoot)).size, `state roots at ${h}`).toBe(1);
      expect(new Set(blocks.map((b) => b.hash)).size, `hashes at ${h}`).toBe(1);
      // No block carries any plaintext.
      const full = JSON.stringify((await getJson(`${url(3)}/blocks/${h}?txs=full`)).body);
      for (const p of plaintexts) {
        expect(full).not.toContain(p);
        expect(full).not.toContain(Buffer.from(p).toString("hex"));
      }
    }

    // The purged and expired plaintext leaves the members' files (LevelDB compacts the private columns).
    for (const i of [0, 1]) {
      await waitFor(
        `node${i}'s files to lose the purged plaintext`,
        async () =>
          holding(join(homes[i] as string, "data"), ephemeral).length === 0 &&
          holding(join(homes[i] as string, "data"), purged).length === 0,
        30_000,
      );
    }

    // The metrics count it: org0's node pushed plaintext and had one submission refused; org1's pulled
    // what it missed; org2's stored nothing.
    const metrics = await Promise.all([0, 1, 2].map((i) => client(i).metrics()));
    const event = (i: number, e: string) => metrics[i]?.sum("cairn_private_data_total", { event: e }) ?? 0;
    expect(event(0, "pushed")).toBeGreaterThan(0);
    expect(event(0, "refused")).toBe(1);
    expect(event(1, "pulled")).toBe(1);
    expect(event(1, "purged")).toBeGreaterThanOrEqual(2);
    expect(event(2, "stored")).toBe(0);

    const envelope: string = (await getJson(`${url(3)}/txs/${txHash}`)).body.tx.envelope;
    for (const i of [0, 1, 2, 3]) await nodes[i]?.stop();
    for (const i of [0, 1, 2, 3]) outputs[i] += nodes[i]?.output() ?? "";
    // Byte for byte: every file of org2's and org3's homes, and everything in their databases. The
    // search finds what the members still hold (the price on both), and no longer finds what was purged.
    for (const i of [2, 3]) {
      for (const p of plaintexts) {
        expect(holding(homes[i] as string, p), `node${i}'s files hold ${p}`).toEqual([]);
        expect(await databaseHolds(homes[i] as string, p), `node${i}'s database holds ${p}`).toBe(false);
      }
    }
    for (const i of [0, 1]) {
      expect(await databaseHolds(homes[i] as string, price), `member node${i} holds the price`).toBe(true);
      expect(await databaseHolds(homes[i] as string, missed), `member node${i} holds the pulled note`).toBe(true);
      for (const gone of [ephemeral, purged]) {
        expect(await databaseHolds(homes[i] as string, gone), `node${i}'s database still holds ${gone}`).toBe(false);
      }
    }
    // The capture: the private transaction went by gossip to the non-members (its envelope is in their
    // logs), and no gossip message and no log line of any node carries any plaintext.
    for (const i of [2, 3]) {
      const gossip = outputs[i]?.split("\n").filter((l) => l.includes('"gossip message"')) ?? [];
      expect(
        gossip.some((l) => l.includes(envelope)),
        `node${i} captured the private transaction`,
      ).toBe(true);
    }
    for (const [i, o] of outputs.entries()) {
      for (const p of plaintexts) {
        expect(o.includes(p), `node${i}'s log holds ${p}`).toBe(false);
        expect(o.includes(Buffer.from(p).toString("hex")), `node${i}'s log holds ${p} as hex`).toBe(false);
      }
    }
  });
});
