// engine.proposeBudget: a proposer stops adding transactions to its block once its share of the
// round's propose timeout has passed, so a full mempool on a busy node makes a smaller block in
// time instead of a late one that loses the round (docs/consensus.md).
import { afterEach, describe, expect, it } from "vitest";
import { committedEverywhere, type EngineCluster, startEngineCluster } from "../helpers/bft-cluster.ts";

let cluster: EngineCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("the proposer's execution budget", () => {
  it("cuts a block at the budget and commits the rest in later blocks", { timeout: 60_000 }, async () => {
    // 2 ms of a 1 s propose timeout: far less than 400 transactions take to execute.
    const c = await startEngineCluster({ engine: { proposeBudget: 0.002 } });
    cluster = c;
    const blocks: { height: number; txs: number; round: number }[] = [];
    c.nodes[0]?.ledger.onCommit((executed, commit) =>
      blocks.push({ height: executed.block.header.height, txs: executed.txs.length, round: commit.round }),
    );
    const txs = c.kvTxs(400, "budget");
    for (const node of c.nodes) await node.mempool.add(txs.map((t) => t.bytes));
    await committedEverywhere(c, txs, 40_000);
    const withTxs = blocks.filter((b) => b.txs > 0);
    expect(withTxs.reduce((n, b) => n + b.txs, 0)).toBe(400);
    // No block took them all: each was cut where its proposer's budget ran out.
    expect(Math.max(...withTxs.map((b) => b.txs))).toBeLessThan(400);
    expect(withTxs.length).toBeGreaterThan(1);
  });

  it("with the default budget a block takes everything that fits", { timeout: 60_000 }, async () => {
    const c = await startEngineCluster();
    cluster = c;
    const sizes: number[] = [];
    c.nodes[0]?.ledger.onCommit((executed) => sizes.push(executed.txs.length));
    const txs = c.kvTxs(400, "whole");
    for (const node of c.nodes) await node.mempool.add(txs.map((t) => t.bytes));
    const deadline = Date.now() + 40_000;
    while (sizes.reduce((n, s) => n + s, 0) < 400) {
      if (Date.now() > deadline) throw new Error(`committed ${sizes.join(",")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Math.max(...sizes)).toBe(400);
  });
});
