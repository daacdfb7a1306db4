// engine.retransmitMs: a validator whose height does not end re-sends its messages of the height
// for peers that missed them, each time waiting twice as long as the time before, up to four times
// retransmitMs (docs/consensus.md): re-sending every 2 s no matter what made an overloaded cluster
// spend its cores on retransmissions.
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type EngineCluster, startEngineCluster } from "../helpers/bft-cluster.ts";

let cluster: EngineCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("retransmission", () => {
  it("a stalled validator re-sends its messages less and less often", { timeout: 30_000 }, async () => {
    // One validator of four runs: it never gathers a quorum, so its height never ends.
    const retransmitMs = 200;
    const c = await startEngineCluster({ absent: [1, 2, 3], engine: { retransmitMs } });
    cluster = c;
    const self = c.nodes[0]?.id;
    const sends: { at: number; hex: string }[] = [];
    c.bus.onSend = (from, message) => {
      if (from === self) sends.push({ at: Date.now(), hex: Buffer.from(message).toString("hex") });
    };
    await sleep(6_000);
    c.bus.onSend = undefined;

    // Sends within 50 ms of each other are one retransmission (all its messages of the height).
    const bursts: { at: number; messages: Set<string> }[] = [];
    for (const s of sends) {
      const last = bursts.at(-1);
      if (last !== undefined && s.at - last.at < 50) last.messages.add(s.hex);
      else bursts.push({ at: s.at, messages: new Set([s.hex]) });
    }
    // A burst of messages all sent before is a retransmission (the first sends are not).
    const seen = new Set<string>();
    const retransmissions = bursts.filter((b) => {
      const repeat = [...b.messages].every((m) => seen.has(m));
      for (const m of b.messages) seen.add(m);
      return repeat;
    });
    expect(retransmissions.length).toBeGreaterThanOrEqual(4);
    // Without the back-off: one every retransmitMs, some 28 in the window. With it: 200, 400, then
    // every 800 ms.
    expect(retransmissions.length).toBeLessThanOrEqual(10);
    const gaps = retransmissions.slice(1).map((b, i) => b.at - (retransmissions[i] as { at: number }).at);
    for (const g of gaps.slice(2)) expect(g).toBeGreaterThanOrEqual(4 * retransmitMs - 60);
    // Each re-sends the same messages: what the validator sent at this height.
    const first = [...(retransmissions[0]?.messages ?? [])].sort();
    for (const b of retransmissions) expect([...b.messages].sort()).toEqual(first);
  });
});
