// The block executor's own duties around execution: what a proposer's block left out leaves the mempool.
import { generateKeyPair } from "@cairn/crypto";
import { type Block, type SignedTransaction, signTransaction } from "@cairn/messaging";
import { describe, expect, it } from "vitest";
import { createBlockExecutor, type ExecutedBlockView, type LedgerPort } from "../../src/index.ts";

const key = generateKeyPair();
const tx = (n: number): SignedTransaction =>
  signTransaction(
    {
      chainId: "c",
      sender: key.publicKey,
      nonce: new Uint8Array(16).fill(n),
      expiry: 10,
      contract: "kv",
      method: "put",
      args: [new Uint8Array([n]), new Uint8Array([n])],
    },
    key.secretKey,
  );

describe("block executor", () => {
  it("drops from the mempool the transactions the ledger left out of this node's block", async () => {
    const [kept, replayed] = [tx(1), tx(2)];
    // Only the header's height is read (for tracing).
    const block = { header: { height: 1 }, txs: [], lastCommit: null } as unknown as Block;
    const run = async (excluded: SignedTransaction[]) => {
      const executed: ExecutedBlockView = { block, hash: new Uint8Array(32), txs: [kept], receipts: [], excluded };
      const removed: SignedTransaction[][] = [];
      const executor = createBlockExecutor({
        ledger: { execute: async () => executed } as unknown as LedgerPort,
        mempool: { removeCommitted: (txs) => removed.push([...txs]), dropExpired: () => 0 },
      });
      const proposal = { time: 1, proposer: key.publicKey, txs: [kept, replayed], lastCommit: null, fill: true };
      expect(await executor.execute(proposal)).toBe(executed);
      return removed;
    };
    expect(await run([replayed])).toEqual([[replayed]]);
    expect(await run([])).toEqual([]);
  });
});
