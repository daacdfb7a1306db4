// One real node process, used through its HTTP API, the SDK and the CLI, as a user would.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, kv, token } from "@cairn/client";
import { verifyCommit } from "@cairn/consensus";
import { fromHex, generateKeyPair, toHex, verify, verifyMerkleProof } from "@cairn/crypto";
import { parseGenesis, verifyStateProof } from "@cairn/ledger";
import { encode } from "@cairn/messaging";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey, signedCall } from "../helpers/txs.ts";

let home: string;
let node: NodeProcess;
let chainId: string;

beforeAll(async () => {
  home = tempDir("single");
  const port = await freePort();
  const init = await runCairn(["init", "--home", home, "--api-port", String(port)]);
  expect(init.code, init.stderr).toBe(0);
  chainId = JSON.parse(readFileSync(join(home, "genesis.json"), "utf8")).chainId;
  node = await startNodeProcess(home, port);
}, 60_000);

afterAll(async () => {
  if (node !== undefined) expect(await node.stop()).toBe(0);
});

describe("a single node through its HTTP API", () => {
  it("commits a transaction with a receipt, an inclusion proof and a verifiable commit certificate", async () => {
    const admin = readKey(home);
    const tx = kvPut(admin, chainId, "greeting", "hello", 500);
    const res = await postTxs(node.url, [tx], true);
    expect(res.status).toBe(200);
    const r = res.body.results[0];
    expect(r.status).toBe("committed");
    expect(r.receipt.code).toBe("OK");

    const block = (await getJson(`${node.url}/blocks/${r.height}`)).body;
    const proof = { index: r.proof.index, size: r.proof.size, path: r.proof.path.map(fromHex) };
    expect(verifyMerkleProof(tx.bytes, proof, fromHex(block.header.txRoot))).toBe(true);

    const genesis = parseGenesis(JSON.parse(readFileSync(join(home, "genesis.json"), "utf8")));
    const commit = {
      height: block.commit.height,
      round: block.commit.round,
      blockHash: fromHex(block.commit.blockHash),
      signatures: block.commit.signatures.map((s: { validator: string; signature: string }) => ({
        validator: fromHex(s.validator),
        signature: fromHex(s.signature),
      })),
    };
    expect(() => verifyCommit(chainId, commit, fromHex(block.hash), genesis.validators, verify)).not.toThrow();

    const latest = (await getJson(`${node.url}/blocks/latest`)).body;
    expect(latest.height).toBeGreaterThanOrEqual(r.height);
    const looked = (await getJson(`${node.url}/txs/${toHex(tx.hash)}`)).body;
    expect(looked).toMatchObject({ status: "committed", height: r.height });
  });

  it("serves state with a proof that verifies against the reported state root", async () => {
    const s = (await getJson(`${node.url}/state/kv/greeting`)).body;
    expect(s.utf8).toBe("hello");
    const proof = {
      siblings: s.proof.siblings.map(fromHex),
      leaf:
        s.proof.leaf === null
          ? null
          : { keyHash: fromHex(s.proof.leaf.keyHash), valueHash: fromHex(s.proof.leaf.valueHash) },
    };
    const key = new TextEncoder().encode("greeting");
    expect(verifyStateProof(fromHex(s.stateRoot), "kv", key, fromHex(s.value), proof)).toBe(true);
    expect(verifyStateProof(fromHex(s.stateRoot), "kv", key, new TextEncoder().encode("forged"), proof)).toBe(false);
    const status = (await getJson(`${node.url}/status`)).body;
    expect(status).toMatchObject({ chainId, height: s.height, stateRoot: s.stateRoot });

    const absent = await getJson(`${node.url}/state/kv/never-written`);
    expect(absent.status).toBe(404);
    expect(absent.body.error.code).toBe("KEY_NOT_FOUND");
  });

  it("answers every kind of bad transaction with a 4xx and a stable code, never a 500", async () => {
    const admin = readKey(home);
    const stranger = generateKeyPair();
    const height = (await getJson(`${node.url}/status`)).body.height;
    const good = kvPut(admin, chainId, "dup", "x", height + 100);
    expect((await postTxs(node.url, [good], true)).body.results[0].status).toBe("committed");

    const forged = encode([good.body, new Uint8Array(64).fill(7)]);
    const cases: [string, Uint8Array | string][] = [
      ["MALFORMED", new Uint8Array([0xc1])],
      ["NON_CANONICAL", new Uint8Array([0xcc, 0x05])],
      ["BAD_SIGNATURE", forged],
      ["WRONG_CHAIN", kvPut(admin, "other-chain", "a", "b", height + 100).bytes],
      ["TX_TOO_LARGE", kvPut(admin, chainId, "big", "x".repeat(70_000), height + 100).bytes],
      ["DUPLICATE", good.bytes],
      ["EXPIRED", kvPut(admin, chainId, "late", "x", Math.max(0, height - 1)).bytes],
      ["EXPIRY_TOO_FAR", kvPut(admin, chainId, "far", "x", height + 100_000).bytes],
      ["UNKNOWN_CONTRACT", signedCall(stranger, chainId, "nope", "put", [], height + 100).bytes],
      ["UNKNOWN_METHOD", signedCall(stranger, chainId, "kv", "nope", [], height + 100).bytes],
      ["BAD_ARGS", signedCall(stranger, chainId, "token", "transfer", [new Uint8Array(3), 5], height + 100).bytes],
      ["BAD_HEX", "zz"],
    ];
    for (const [code, bytes] of cases) {
      const body = JSON.stringify({ tx: typeof bytes === "string" ? bytes : toHex(bytes) });
      const r = await fetch(`${node.url}/txs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const json = await r.json();
      expect(json.error?.code, `${code}: ${JSON.stringify(json)}`).toBe(code);
      expect(r.status, code).toBeGreaterThanOrEqual(400);
      expect(r.status, code).toBeLessThan(500);
    }
    const garbage = await fetch(`${node.url}/txs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(garbage.status).toBe(400);
    const wrongType = await fetch(`${node.url}/txs`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hi",
    });
    expect(wrongType.status).toBe(415);
    expect((await fetch(`${node.url}/blocks/999999`)).status).toBe(404);
    expect((await fetch(`${node.url}/blocks/-1`)).status).toBeLessThan(500);
    // The node is still healthy and committing after all that.
    expect((await fetch(`${node.url}/health`)).status).toBe(200);
  });

  it("works through the SDK: signer, failed receipts, balances and the block stream", async () => {
    const client = createClient({ url: node.url });
    const admin = client.signer(readKey(home));
    const alice = generateKeyPair();
    const seen: number[] = [];
    const ac = new AbortController();
    const sub = client.subscribe((b) => void seen.push(b.height), { signal: ac.signal });

    const sent = await admin.send(token.transfer(alice.publicKey, 250), { wait: "commit" });
    expect(sent.status).toBe("committed");
    expect(await client.balance(alice.publicKey)).toBe(250n);
    const aliceSigner = client.signer(alice);
    const overdraft = await aliceSigner.send(token.transfer(admin.key.publicKey, 1000), { wait: "commit" });
    expect(overdraft.receipt?.code).toBe("INSUFFICIENT_FUNDS");
    expect(await client.balance(alice.publicKey)).toBe(250n);
    const batch = await aliceSigner.send([kv.put("a", "1"), kv.put("b", "2")], { wait: "commit" });
    expect(batch.committed).toBe(2);

    const deadline = Date.now() + 5000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await sub;
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it("accepts msgpack bodies and answers in msgpack when asked", async () => {
    const admin = readKey(home);
    const height = (await getJson(`${node.url}/status`)).body.height;
    const txs = [kvPut(admin, chainId, "mp1", "1", height + 50), kvPut(admin, chainId, "mp2", "2", height + 50)];
    const r = await fetch(`${node.url}/txs`, {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: Buffer.from(encode(txs.map((t) => t.bytes))),
    });
    expect(r.status).toBe(200);
    expect((await r.json()).accepted).toBe(2);
    const s = await fetch(`${node.url}/status`, { headers: { accept: "application/msgpack" } });
    expect(s.headers.get("content-type")).toContain("application/msgpack");
  });
});

describe("the cairn CLI against the running node", () => {
  it("puts and reads a value, transfers tokens, and shows status", async () => {
    const put = await runCairn(["tx", "kv", "put", "cli-key", "cli-value", "--home", home]);
    expect(put.code, put.stderr).toBe(0);
    expect(JSON.parse(put.stdout).status).toBe("committed");
    const q = await runCairn(["query", "kv", "cli-key", "--home", home]);
    expect(JSON.parse(q.stdout).utf8).toBe("cli-value");

    const keyFile = join(home, "bob.json");
    const created = await runCairn(["keys", "new", "--out", keyFile]);
    expect(created.code).toBe(0);
    const bob = created.stdout.trim();
    expect((await runCairn(["keys", "show", keyFile])).stdout.trim()).toBe(bob);
    const tr = await runCairn(["tx", "token", "transfer", bob, "42", "--home", home]);
    expect(tr.code, tr.stderr).toBe(0);
    expect((await runCairn(["query", "balance", bob, "--home", home])).stdout.trim()).toBe("42");
    // `cairn status` prints a summary for people; --json the status itself.
    const st = await runCairn(["status", "--home", home, "--json"]);
    expect(JSON.parse(st.stdout).chainId).toBe(chainId);
    expect((await runCairn(["status", "--home", home])).stdout).toContain(chainId);
    const overdraft = await runCairn([
      "tx",
      "token",
      "transfer",
      bob,
      "42",
      "--key",
      join(home, "keys", "validator.json"),
      "--home",
      home,
    ]);
    expect(overdraft.code).toBe(1);
    expect(overdraft.stderr).toContain("INSUFFICIENT_FUNDS");
  });

  it("explains mistakes instead of crashing", async () => {
    const badAmount = await runCairn(["tx", "token", "transfer", "ab".repeat(32), "-5", "--home", home]);
    expect(badAmount.code).not.toBe(0);
    expect(badAmount.stderr).toMatch(/amount|option/i);
    const badAccount = await runCairn(["query", "balance", "xyz", "--home", home]);
    expect(badAccount.stderr).toContain("64-hex-digit");
    const down = await runCairn(["status", "--url", "http://127.0.0.1:9"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("no node answers at http://127.0.0.1:9");
    expect(down.stderr).toContain("Is it started?");
    const again = await runCairn(["init", "--home", home]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already holds a node");
    const noKey = await runCairn(["tx", "kv", "put", "a", "b", "--url", node.url]);
    expect(noKey.stderr).toContain("--key");
    const help = await runCairn(["--help"]);
    expect(help.stdout).toContain("init");
    expect(help.stdout).toContain("query");
  });
});
