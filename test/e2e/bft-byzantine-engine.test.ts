// One Byzantine validator of four against three honest BFT engines with real LevelDB ledgers, in
// one process: the test speaks for the Byzantine validator (its real key, or garbage signatures)
// and hands its messages straight to the honest engines. Each case is a finding of issue [1/8]:
// what it must not be able to do to the chain, and what it must leave behind (evidence, a penalty).
import {
  type ConsensusEvidence,
  InvalidProposalReason,
  type MessageVerdict,
  verifyConsensusEvidence,
} from "@cairn/consensus";
import { createNativeSigner } from "@cairn/crypto/native";
import { afterEach, describe, expect, it } from "vitest";
import { type EngineCluster, nativeVerify, startEngineCluster, until } from "../helpers/bft-cluster.ts";
import { garbageSigner, junkTxs, proposal, proposalMessage, voteMessage } from "../helpers/byzantine.ts";

let cluster: EngineCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function commitAll(c: EngineCluster, n: number, tag: string, ms = 20_000): Promise<void> {
  const txs = c.kvTxs(n, tag);
  for (const node of c.nodes) await node.mempool.add(txs.map((t) => t.bytes));
  await until(
    async () => {
      for (const node of c.nodes)
        for (const t of txs) if ((await node.ledger.findTx(t.hash)) === undefined) return false;
      return true;
    },
    ms,
    `${n} transactions committed on every honest node (heights ${c.nodes.map((x) => x.ledger.head().height)})`,
  );
}

/** Three honest engines; v3, the Byzantine one, is connected (block sync may ask it) but never answers. */
async function clusterWithSilentV3(): Promise<EngineCluster> {
  const c = await startEngineCluster({ absent: [3] });
  cluster = c;
  c.syncPeers = (self) => ["v0", "v1", "v2", "v3"].filter((id) => id !== self);
  const serve = c.serve;
  c.serve = (peer, req) => (peer === "v3" ? new Promise(() => {}) : serve(peer, req));
  return c;
}

describe("a Byzantine validator against honest BFT engines", () => {
  it("cannot halt consensus with badly signed votes for a later height: rejected, no block sync", {
    timeout: 60_000,
  }, async () => {
    const c = await clusterWithSilentV3();
    const byz = garbageSigner(c.keys[3]!.publicKey);
    const verdicts: MessageVerdict[] = [];
    let attacking = true;
    const attack = (async () => {
      while (attacking) {
        const next = Math.max(...c.nodes.map((n) => n.ledger.head().height)) + 1;
        for (const node of c.nodes) {
          verdicts.push(await node.deliver(voteMessage(c.chainId, byz, { height: next + 1, round: 0 }), "v3"));
        }
        await sleep(20);
      }
    })();
    const start = Date.now();
    await commitAll(c, 30, "a");
    await commitAll(c, 30, "b");
    attacking = false;
    await attack;
    expect(verdicts.length).toBeGreaterThan(10);
    expect(new Set(verdicts)).toEqual(new Set(["reject"]));
    for (const node of c.nodes) expect(node.syncRequests.get("v3") ?? 0).toBe(0);
    expect(Date.now() - start).toBeLessThan(20_000);
  });

  it("signed votes for a later height start a sync in the background: the silent peer costs no round and is reported", {
    timeout: 60_000,
  }, async () => {
    const c = await clusterWithSilentV3();
    const key = c.keys[3]!;
    const byz = createNativeSigner(key.secretKey, key.publicKey);
    let attacking = true;
    const attack = (async () => {
      for (let i = 0; attacking; i++) {
        const next = Math.max(...c.nodes.map((n) => n.ledger.head().height)) + 1;
        for (const node of c.nodes)
          await node.deliver(voteMessage(c.chainId, byz, { height: next + 2, round: i }), "v3");
        await sleep(50);
      }
    })();
    // Under the attack for about 8 s (each sync waits 2 s for the silent peer).
    const deadline = Date.now() + 8_000;
    for (let i = 0; Date.now() < deadline; i++) await commitAll(c, 10, `s${i}`);
    attacking = false;
    await attack;
    for (const node of c.nodes) {
      expect(node.syncRequests.get("v3") ?? 0).toBeGreaterThan(0);
      expect(node.penalized.map((p) => p.peer)).toContain("v3");
      // Its buffered messages stay within its slot.
      expect(node.engine.buffered().messages).toBeLessThanOrEqual(64);
    }
  });

  it("future proposals are kept within the validator's bound; badly signed or oversized ones are rejected", {
    timeout: 60_000,
  }, async () => {
    const c = await startEngineCluster({ absent: [3], engine: { futureBytesPerValidator: 1024 * 1024 } });
    cluster = c;
    const key = c.keys[3]!;
    const byz = createNativeSigner(key.secretKey, key.publicKey);
    const node = c.nodes[0]!;
    const head = node.ledger.head();
    const verdicts = new Map<MessageVerdict, number>();
    for (let i = 0; i < 40; i++) {
      const p = proposal(byz, {
        chainId: c.chainId,
        height: head.height + 3,
        round: i,
        parent: head,
        lastCommit: null,
        padTo: 256 * 1024,
      });
      const v = await node.deliver(proposalMessage(p), "v3");
      verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
    }
    expect(verdicts.get("accept")).toBeGreaterThan(0);
    expect(node.engine.buffered().bytes).toBeLessThanOrEqual(1024 * 1024);
    const forged = proposal(garbageSigner(key.publicKey), {
      chainId: c.chainId,
      height: head.height + 3,
      round: 99,
      parent: head,
      lastCommit: null,
    });
    expect(await node.deliver(proposalMessage(forged), "v3")).toBe("reject");
    const huge = proposal(byz, {
      chainId: c.chainId,
      height: head.height + 3,
      round: 100,
      parent: head,
      lastCommit: null,
      padTo: c.genesis.params.maxBlockBytes + 2 * 1024 * 1024,
    });
    expect(await node.deliver(proposalMessage(huge), "v3")).toBe("reject");
    // And the chain is fine.
    await commitAll(c, 5, "f");
  });

  const invalid: [string, InvalidProposalReason, (c: EngineCluster) => Parameters<typeof proposal>[1]][] = [
    [
      "more transactions than the limit (the last one forged: the count is checked before any signature)",
      InvalidProposalReason.tooManyTxs,
      (c) => ({ ...base(c), txs: junkTxs(c.chainId, 21, true).map((t) => t.bytes) }),
    ],
    [
      "a forged transaction signature",
      InvalidProposalReason.badTxSignature,
      (c) => ({ ...base(c), txs: junkTxs(c.chainId, 3, true).map((t) => t.bytes) }),
    ],
    ["a header for another height", InvalidProposalReason.wrongHeight, (c) => ({ ...base(c), headerHeight: 7 })],
    [
      "a parent that is not the committed head",
      InvalidProposalReason.badParent,
      (c) => ({ ...base(c), parent: { hash: new Uint8Array(32).fill(7), time: 0 } }),
    ],
    ["a made-up state root", InvalidProposalReason.badExecution, (c) => base(c)],
  ];
  function base(c: EngineCluster) {
    const head = c.nodes[0]!.ledger.head();
    return { chainId: c.chainId, height: 1, round: 0, parent: head, lastCommit: null };
  }

  for (const [what, reason, spec] of invalid) {
    it(`a proposal with ${what} is refused, recorded as checkable evidence, and the next round commits`, {
      timeout: 30_000,
    }, async () => {
      // The proposer of (1, 0) has no engine: the test proposes in its place.
      const d = await startEngineCluster({ absentProposerOf: { height: 1, round: 0 }, maxBlockTxs: 20 });
      cluster = d;
      const key = d.keys[d.byzantine]!;
      const byz = createNativeSigner(key.secretKey, key.publicKey);
      const p = proposal(byz, spec(d));
      for (const node of d.nodes) expect(await node.deliver(proposalMessage(p), "byz")).toBe("reject");
      await commitAll(d, 3, "n");
      for (const node of d.nodes) {
        const found = node.evidence.filter((e) => e.kind === "invalid-proposal");
        expect(found.map((e) => (e as { reason: string }).reason)).toEqual([reason]);
        const ctx = {
          maxBlockTxs: d.genesis.params.maxBlockTxs,
          maxBlockBytes: d.genesis.params.maxBlockBytes,
          parent: (h: number) => (h === 0 ? { hash: d.nodes[0]!.ledger.head().hash, time: 0 } : undefined),
          breaks: () => true,
        };
        // Anyone with the validator set (and, for some rules, the chain) can check it.
        if (reason === InvalidProposalReason.badParent) {
          ctx.parent = () => ({ hash: new Uint8Array(32), time: 0 });
        }
        expect(await verifyConsensusEvidence(d.chainId, found[0] as ConsensusEvidence, nativeVerify, ctx)).toBe(true);
        // Height 1 was not decided in the Byzantine round 0.
        expect((await node.ledger.getCommit(1))!.round).toBeGreaterThan(0);
      }
    });
  }

  it("two different proposals for one round are recorded as conflicting-proposal evidence", {
    timeout: 30_000,
  }, async () => {
    const c = await startEngineCluster({ absentProposerOf: { height: 1, round: 0 } });
    cluster = c;
    const key = c.keys[c.byzantine]!;
    const byz = createNativeSigner(key.secretKey, key.publicKey);
    const a = proposal(byz, base(c));
    const b = proposal(byz, base(c));
    for (const node of c.nodes) {
      await node.deliver(proposalMessage(a), "byz");
      expect(await node.deliver(proposalMessage(b), "byz")).toBe("reject");
    }
    await commitAll(c, 2, "c");
    for (const node of c.nodes) {
      const conflicting = node.evidence.filter((e) => e.kind === "conflicting-proposal");
      expect(conflicting).toHaveLength(1);
      expect(await verifyConsensusEvidence(c.chainId, conflicting[0]!, nativeVerify)).toBe(true);
    }
  });

  it("an idle chain is woken only by a validly signed message of the next height", { timeout: 30_000 }, async () => {
    const c = await startEngineCluster({ absent: [3], engine: { emptyBlockInterval: 10_000 } });
    cluster = c;
    await commitAll(c, 1, "i");
    await sleep(200);
    const rested = Math.max(...c.nodes.map((n) => n.ledger.head().height));
    const key = c.keys[3]!;
    const forged = garbageSigner(key.publicKey);
    const t0 = Date.now();
    while (Date.now() - t0 < 2_000) {
      for (const node of c.nodes)
        await node.deliver(voteMessage(c.chainId, forged, { height: rested + 1, round: 0 }), "v3");
      await sleep(20);
    }
    // Two seconds of forged next-height votes: nobody woke up.
    expect(Math.max(...c.nodes.map((n) => n.ledger.head().height))).toBe(rested);
    const byz = createNativeSigner(key.secretKey, key.publicKey);
    const woke = Date.now();
    for (const node of c.nodes) await node.deliver(voteMessage(c.chainId, byz, { height: rested + 1, round: 0 }), "v3");
    // Long before the 10 s empty-block interval (even when the absent validator's round comes first).
    await until(() => c.nodes.every((n) => n.ledger.head().height > rested), 5_000, "the next block");
    expect(Date.now() - woke).toBeLessThan(5_000);
  });

  it("a validator whose safety record cannot be written halts; the other three go on", {
    timeout: 30_000,
  }, async () => {
    const c = await startEngineCluster({
      safety: (id, saved) =>
        id === "v0"
          ? {
              load: async () => null,
              save: async () => {
                throw new Error("ENOSPC: no space left on device");
              },
            }
          : { load: async () => saved.at(-1) ?? null, save: async (r) => void saved.push(r) },
    });
    cluster = c;
    const broken = c.nodes[0]!;
    await until(() => broken.halted !== undefined, 5_000, "the engine to halt");
    expect(broken.engine.status().step).toBe("halted");
    expect(broken.engine.status().halted).toMatch(/no space left/);
    const txs = c.kvTxs(10, "h");
    for (const node of c.nodes.slice(1)) await node.mempool.add(txs.map((t) => t.bytes));
    await until(
      async () => {
        for (const node of c.nodes.slice(1))
          for (const t of txs) if ((await node.ledger.findTx(t.hash)) === undefined) return false;
        return true;
      },
      15_000,
      "the three healthy validators to commit",
    );
    expect(broken.ledger.head().height).toBe(0);
  });

  it("a validator whose database went back behind its safety record signs nothing until it passes the record", {
    timeout: 30_000,
  }, async () => {
    const ahead = 6;
    const c = await startEngineCluster({
      safety: (id, saved) =>
        id === "v0"
          ? {
              // Its record says it voted at height 6; its ledger is at 0 (a rolled-back database).
              load: async () => saved.at(-1) ?? { height: ahead, locked: null, valid: null, votes: [], proposals: [] },
              save: async (r) => void saved.push(r),
            }
          : undefined,
    });
    cluster = c;
    const v0 = c.nodes[0]!;
    expect(v0.engine.status().signsFrom).toBe(ahead);
    for (let i = 0; i < 8; i++) await commitAll(c, 2, `r${i}`);
    expect(v0.ledger.head().height).toBeGreaterThanOrEqual(ahead + 1);
    // Nothing signed below the record, then signing again from its height on.
    expect(v0.saved.length).toBeGreaterThan(0);
    expect(Math.min(...v0.saved.map((r) => r.height))).toBeGreaterThanOrEqual(ahead);
    expect(v0.engine.status().signsFrom).toBeUndefined();
  });
});
