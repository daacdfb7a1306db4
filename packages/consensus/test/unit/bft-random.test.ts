import { fromHex, prng } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import { type NodeKind, SIM_CHAIN_ID, Simulation } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { verifyCommit } from "../../src/index.ts";

describe("BFT simulation: randomized", () => {
  it("200 seeded runs with random delivery order, drops and up to one Byzantine validator: agreement always holds", () => {
    let decidedHeights = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = prng(seed * 7919);
      const byz = r() < 0.75 ? Math.floor(r() * 4) : -1;
      const kinds: NodeKind[] = [0, 1, 2, 3].map((i) => (i === byz ? "byzantine" : "honest"));
      // Some links are slow for the whole run, some messages are slow at random: a node can see a
      // round's outcome long after the others have moved on, which is when the locks matter.
      const slowLinks: [number, number][] = [];
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (a !== b && r() < 0.3) slowLinks.push([a, b]);
      const sim = new Simulation({
        seed,
        kinds,
        minDelay: 1,
        maxDelay: 1 + Math.floor(r() * 200),
        dropRate: r() * 0.2,
        relay: r() < 0.8,
        slowRate: r() * 0.2,
        slowDelay: 1000 + Math.floor(r() * 8000),
        slowLinks,
        byzantine: r() < 0.5 ? "random" : "support",
      });
      sim.start();
      // A node that lost a whole height's messages waits for block sync (not built): stop when
      // the others are well past it.
      sim.run(() => sim.decided(3) || sim.honest().some((n) => n.decisions.size >= 6), 120_000);
      // The message says which seed to replay.
      expect(sim.conflicts(), `seed ${seed}`).toEqual([]);
      for (const n of sim.honest()) {
        for (const d of n.decisions.values()) {
          decidedHeights++;
          expect(() =>
            verifyCommit(SIM_CHAIN_ID, d.commit, fromHex(d.hash), sim.validators, nativeVerify),
          ).not.toThrow();
        }
      }
    }
    // The runs are not vacuous: most of them decide.
    expect(decidedHeights).toBeGreaterThan(200 * 3 * 2);
  });
});
