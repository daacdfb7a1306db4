import { equalBytes, fromHex, toHex } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import { VoteType } from "@cairn/messaging";
import { parseSimBlock, SIM_CHAIN_ID, type SimNode, Simulation } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { decodeSafetyRecord, isNil, verifyCommit } from "../../src/index.ts";

const HOUR = 3_600_000;

function expectCommitsVerify(sim: Simulation, nodes: readonly SimNode[]): void {
  for (const n of nodes) {
    for (const d of n.decisions.values()) {
      expect(() => verifyCommit(SIM_CHAIN_ID, d.commit, fromHex(d.hash), sim.validators, nativeVerify)).not.toThrow();
      expect(d.commit.height).toBe(d.height);
    }
  }
}

function decidedRound(n: SimNode, height: number): number {
  return n.decisions.get(height)!.commit.round;
}

describe("BFT simulation: four in-memory validators", () => {
  it("4 honest validators decide the same blocks for several heights, and the proposer rotates", () => {
    const sim = new Simulation({ seed: 1, kinds: ["honest", "honest", "honest", "honest"] });
    sim.start();
    sim.run(() => sim.decided(6), HOUR);
    expect(sim.decided(6)).toBe(true);
    expect(sim.conflicts()).toEqual([]);
    expectCommitsVerify(sim, sim.honest());
    const proposers = new Set<number>();
    for (let h = 1; h <= 6; h++) {
      const hashes = new Set(sim.nodes.map((n) => n.decisions.get(h)!.hash));
      expect(hashes.size).toBe(1);
      const block = parseSimBlock(sim.nodes[0]!.decisions.get(h)!.block);
      expect(block.height).toBe(h);
      expect(decidedRound(sim.nodes[0]!, h)).toBe(0);
      expect(block.proposer).toBe(sim.proposerIndex(h, 0));
      proposers.add(block.proposer);
    }
    expect(proposers.size).toBe(4);
    // Every vote was persisted before it was broadcast.
    for (const n of sim.nodes) {
      n.effects.forEach((e, i) => {
        if (e.type !== "broadcast" || e.message.kind !== "vote") return;
        const vote = e.message.vote;
        const persisted = n.effects
          .slice(0, i)
          .some((p) => p.type === "persist" && p.record.votes.some((v) => equalBytes(v.signature, vote.signature)));
        expect(persisted).toBe(true);
      });
    }
  });

  it("a silent proposer: the others time out, change round, and a later round decides", () => {
    const probe = new Simulation({ seed: 2, kinds: ["honest", "honest", "honest", "honest"] });
    const silent = probe.proposerIndex(1, 0);
    const kinds = probe.nodes.map((n) => (n.index === silent ? "silent" : "honest") as "silent" | "honest");
    const sim = new Simulation({ seed: 2, kinds });
    sim.start();
    sim.run(() => sim.decided(3), HOUR);
    expect(sim.decided(3)).toBe(true);
    expect(sim.conflicts()).toEqual([]);
    expectCommitsVerify(sim, sim.honest());
    const n = sim.honest()[0]!;
    expect(decidedRound(n, 1)).toBeGreaterThanOrEqual(1);
    // Nobody decides before the first propose timeout (1000 ms) has passed.
    expect(n.decisions.get(1)!.at).toBeGreaterThan(1000);
    for (let h = 1; h <= 3; h++) expect(parseSimBlock(n.decisions.get(h)!.block).proposer).not.toBe(silent);
  });

  it("a 2|2 partition decides nothing; after it heals, the validators decide", () => {
    const sim = new Simulation({ seed: 3, kinds: ["honest", "honest", "honest", "honest"] });
    sim.setPartition([
      [0, 1],
      [2, 3],
    ]);
    sim.start();
    sim.runUntil(60_000);
    for (const n of sim.nodes) expect(n.decisions.size).toBe(0);
    sim.setPartition(undefined);
    sim.run(() => sim.decided(2), 60_000 + HOUR);
    expect(sim.decided(2)).toBe(true);
    expect(sim.conflicts()).toEqual([]);
    expectCommitsVerify(sim, sim.honest());
    expect(sim.nodes[0]!.decisions.get(1)!.at).toBeGreaterThan(60_000);
  });

  it("a Byzantine validator that equivocates: honest nodes agree, record evidence, and keep deciding", () => {
    for (const byz of [0, 1, 2, 3]) {
      const kinds = [0, 1, 2, 3].map((i) => (i === byz ? "byzantine" : "honest") as "byzantine" | "honest");
      const sim = new Simulation({ seed: 40 + byz, kinds });
      sim.start();
      sim.run(() => sim.decided(5), HOUR);
      expect(sim.decided(5)).toBe(true);
      expect(sim.conflicts()).toEqual([]);
      expectCommitsVerify(sim, sim.honest());
      const evidence = sim.honest().flatMap((n) => n.evidence);
      expect(evidence.length).toBeGreaterThan(0);
      for (const e of evidence) {
        expect(toHex(e.first.validator)).toBe(toHex(sim.validators[byz]!.publicKey));
        expect(e.first.height).toBe(e.second.height);
        expect(e.first.round).toBe(e.second.round);
        expect(e.first.type).toBe(e.second.type);
        expect(equalBytes(e.first.blockHash, e.second.blockHash)).toBe(false);
      }
      // The double proposals are never both decided: a Byzantine block is decided only if all agree.
      for (let h = 1; h <= 5; h++) expect(new Set(sim.honest().map((n) => n.decisions.get(h)!.hash)).size).toBe(1);
    }
  });

  it("an invalid block is prevoted nil and never decided", () => {
    const probe = new Simulation({ seed: 5, kinds: ["honest", "honest", "honest", "honest"] });
    const bad = probe.proposerIndex(1, 0);
    const sim = new Simulation({ seed: 5, kinds: ["honest", "honest", "honest", "honest"], invalidProposers: [bad] });
    sim.start();
    sim.run(() => sim.decided(5), HOUR);
    expect(sim.decided(5)).toBe(true);
    expect(sim.conflicts()).toEqual([]);
    for (const n of sim.nodes) {
      for (const d of n.decisions.values()) expect(parseSimBlock(d.block).valid).toBe(true);
    }
    expect(decidedRound(sim.nodes[0]!, 1)).toBeGreaterThanOrEqual(1);
    // Every prevote in a round whose proposal was the invalid block is nil.
    const badProposals = sim.nodes[bad]!.sent.filter((m) => m.kind === "proposal");
    expect(badProposals.length).toBeGreaterThan(0);
    for (const m of badProposals) {
      if (m.kind !== "proposal") continue;
      for (const n of sim.nodes) {
        for (const s of n.sent) {
          if (s.kind !== "vote" || s.vote.type !== VoteType.prevote) continue;
          if (s.vote.height === m.proposal.height && s.vote.round === m.proposal.round) {
            expect(isNil(s.vote.blockHash)).toBe(true);
          }
        }
      }
    }
  });

  it("a validator that crashes between persisting its precommit and sending it restarts without equivocating", () => {
    // With one validator down for good, the other three are all needed: the crash stalls the chain.
    const probe = new Simulation({ seed: 7, kinds: ["honest", "honest", "honest", "honest"] });
    const down = (probe.proposerIndex(1, 0) + 1) % 4;
    const kinds = [0, 1, 2, 3].map((i) => (i === down ? "silent" : "honest") as "silent" | "honest");
    const sim = new Simulation({ seed: 7, kinds });
    const victim = sim.honest().find((n) => n.index !== sim.proposerIndex(1, 0))!;
    sim.crashOnPersist(victim.index, (r) => r.votes.some((v) => v.type === VoteType.precommit));
    sim.start();
    sim.runUntil(20_000);
    expect(victim.crashed).toBe(true);
    expect(sim.nodes.some((n) => n.decisions.size > 0)).toBe(false);
    const record = decodeSafetyRecord(victim.persisted!);
    const recordedPrecommit = record.votes.find((v) => v.type === VoteType.precommit)!;
    expect(victim.sent.some((m) => m.kind === "vote" && m.vote.type === VoteType.precommit)).toBe(false);

    sim.restart(victim.index);
    sim.run(() => sim.decided(3), 20_000 + HOUR);
    expect(sim.decided(3)).toBe(true);
    expect(sim.conflicts()).toEqual([]);
    expectCommitsVerify(sim, sim.honest());
    // Its votes at the recorded height and round are the recorded ones, byte for byte.
    for (const m of victim.sent) {
      if (m.kind !== "vote" || m.vote.height !== record.height) continue;
      const prior = record.votes.find((v) => v.round === m.vote.round && v.type === m.vote.type);
      if (prior !== undefined) expect(equalBytes(prior.signature, m.vote.signature)).toBe(true);
    }
    expect(victim.decisions.get(1)!.hash).toBe(toHex(recordedPrecommit.blockHash));
    expect(victim.decisions.get(1)!.at).toBeGreaterThan(20_000);
  });
});
