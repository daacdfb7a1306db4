// consensus.minBlockInterval: after a quick commit a validator waits out the rest of the interval
// before it starts the next height, so a busy chain makes fewer, larger blocks (docs/consensus.md).
import { afterEach, describe, expect, it } from "vitest";
import { committedEverywhere, type EngineCluster, startEngineCluster } from "../helpers/bft-cluster.ts";

let cluster: EngineCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("the minimum block interval", () => {
  it("starts each height at least minBlockInterval after the last one started, and commits everything", {
    timeout: 60_000,
  }, async () => {
    const interval = 250;
    const c = await startEngineCluster({ maxBlockTxs: 4, engine: { minBlockInterval: interval } });
    cluster = c;
    const commits: { height: number; at: number }[] = [];
    c.nodes[0]?.ledger.onCommit((executed) => commits.push({ height: executed.block.header.height, at: Date.now() }));
    const txs = c.kvTxs(24, "interval");
    for (const node of c.nodes) await node.mempool.add(txs.map((t) => t.bytes));
    await committedEverywhere(c, txs, 30_000);
    // 24 transactions in blocks of at most 4: at least 6 heights, each started >= 250 ms after the
    // one before on this node, so commits k and k + n are at least (n - 1) intervals apart.
    expect(commits.length).toBeGreaterThanOrEqual(6);
    for (let k = 0; k < commits.length; k++) {
      for (let j = k + 2; j < commits.length; j++) {
        const apart = (commits[j]?.at ?? 0) - (commits[k]?.at ?? 0);
        expect(apart, `heights ${commits[k]?.height} and ${commits[j]?.height}`).toBeGreaterThanOrEqual(
          (j - k - 1) * interval - 2,
        );
      }
    }
  });
});
