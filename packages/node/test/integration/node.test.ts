import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeBalance } from "@cairn/contracts";
import { fromHex, keyPairFromSecret } from "@cairn/crypto";
import { createLoggers } from "@cairn/management";
import { type SignedTransaction, signTransaction } from "@cairn/messaging";
import { afterEach, describe, expect, it } from "vitest";
import { type CairnNode, initHome, NodeError, startNode } from "../../src/index.ts";

const homes: string[] = [];
const nodes: CairnNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function devNode(params: Record<string, number> = {}) {
  const home = mkdtempSync(join(tmpdir(), "cairn-node-"));
  homes.push(home);
  const init = await initHome({ home, apiPort: 0 });
  const gPath = join(home, "genesis.json");
  const g = JSON.parse(readFileSync(gPath, "utf8"));
  writeFileSync(gPath, JSON.stringify({ ...g, params: { ...g.params, ...params } }));
  const node = await startNode({
    home,
    config: { verifyWorkers: 1 },
    loggers: createLoggers({ level: "silent", pretty: false }),
  });
  nodes.push(node);
  return { node, init, home };
}

let n = 0;
function put(secret: Uint8Array, chainId: string, i: number, expiry = 500): SignedTransaction {
  const key = keyPairFromSecret(secret);
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setUint32(0, ++n);
  const enc = new TextEncoder();
  return signTransaction(
    {
      chainId,
      sender: key.publicKey,
      nonce,
      expiry,
      contract: "kv",
      method: "put",
      args: [enc.encode(`k${i}`), enc.encode(`v${i}`)],
    },
    key.secretKey,
  );
}

async function waitForHeight(node: CairnNode, h: number, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (node.ledger.head().height < h) {
    if (Date.now() > deadline) throw new Error(`height ${node.ledger.head().height} < ${h}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a solo node", () => {
  it("cuts blocks by size, empties the mempool, and makes no blocks while idle", async () => {
    const { node, init } = await devNode({ maxBlockTxs: 10 });
    const txs = Array.from({ length: 25 }, (_, i) => put(init.admin.secretKey, init.chainId, i));
    const results = await node.mempool.add(txs.map((t) => t.bytes));
    expect(results.every((r) => r.ok)).toBe(true);
    await waitForHeight(node, 3);
    const sizes = [];
    for (let h = 1; h <= node.ledger.head().height; h++) sizes.push((await node.ledger.getBlock(h))!.txs.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(node.mempool.size).toBe(0);
    const idleHeight = node.ledger.head().height;
    await new Promise((r) => setTimeout(r, 300));
    expect(node.ledger.head().height).toBe(idleHeight);
  });

  it("cuts blocks by gas: each holds what fits maxBlockGas, and every transaction commits", async () => {
    // Every put here ("kN" = "vN") uses the same gas, under 40: 80 holds two or more, never all nine.
    const { node, init } = await devNode({ maxTxGas: 80, maxBlockGas: 80 });
    const txs = Array.from({ length: 9 }, (_, i) => put(init.admin.secretKey, init.chainId, i));
    const results = await node.mempool.add(txs.map((t) => t.bytes));
    expect(results.every((r) => r.ok)).toBe(true);
    const deadline = Date.now() + 10_000;
    while (node.mempool.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const blocks = [];
    const gas = new Set<number>();
    for (let h = 1; h <= node.ledger.head().height; h++) {
      const receipts = (await node.ledger.getReceipts(h))!;
      for (const r of receipts) gas.add(r.gasUsed);
      blocks.push({ txs: receipts.length, gas: receipts.reduce((a, r) => a + r.gasUsed, 0) });
    }
    expect(blocks.reduce((a, b) => a + b.txs, 0)).toBe(9);
    expect(gas.size).toBe(1);
    const perTx = [...gas][0]!;
    expect(perTx).toBeLessThan(40);
    for (const b of blocks) expect(b.gas).toBeLessThanOrEqual(80);
    // The solo engine takes everything ready: only the gas bound cut these blocks.
    expect(Math.max(...blocks.map((b) => b.txs))).toBe(Math.floor(80 / perTx));
    expect(node.mempool.size).toBe(0);
  });

  it("keeps every committed block and its state across a clean restart", async () => {
    const { node, init, home } = await devNode();
    await node.mempool.add([put(init.admin.secretKey, init.chainId, 1).bytes]);
    await waitForHeight(node, 1);
    const head = node.ledger.head();
    await node.stop();
    nodes.length = 0;
    const again = await startNode({
      home,
      config: { verifyWorkers: 1 },
      loggers: createLoggers({ level: "silent", pretty: false }),
    });
    nodes.push(again);
    expect(again.ledger.head()).toEqual(head);
    expect(decodeBalance(await again.ledger.state.get("token", init.admin.publicKey))).toBe(1_000_000_000_000n);
    // Its next block links to the one before the restart.
    await again.mempool.add([put(init.admin.secretKey, init.chainId, 2).bytes]);
    await waitForHeight(again, 2);
    const b2 = await again.ledger.getBlock(2);
    expect(b2!.header.prevHash).toEqual(head.hash);
    expect(b2!.lastCommit?.blockHash).toEqual(head.hash);
  });

  it("refuses to start on a genesis whose only validator is another key", async () => {
    const home = mkdtempSync(join(tmpdir(), "cairn-node-"));
    homes.push(home);
    await initHome({ home, apiPort: 0 });
    const gPath = join(home, "genesis.json");
    const g = JSON.parse(readFileSync(gPath, "utf8"));
    const other = keyPairFromSecret(fromHex("11".repeat(32)));
    g.validators[0].publicKey = Buffer.from(other.publicKey).toString("hex");
    writeFileSync(gPath, JSON.stringify(g));
    await expect(startNode({ home, loggers: createLoggers({ level: "silent", pretty: false }) })).rejects.toMatchObject(
      {
        code: "NOT_SOLO_VALIDATOR",
      },
    );
  });

  it("explains a missing home instead of crashing", async () => {
    await expect(startNode({ home: join(tmpdir(), "cairn-does-not-exist") })).rejects.toBeInstanceOf(NodeError);
  });
});
