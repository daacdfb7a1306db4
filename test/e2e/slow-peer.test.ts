// A restarted validator whose peer is paused (SIGSTOP) starts without waiting on it: start-up
// block sync gives each peer a short time to answer and moves on (it used to wait a whole request
// timeout per silent peer, 7.7 s before the API answered).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";

let nodes: NodeProcess[] = [];
afterEach(async () => {
  for (const n of nodes) {
    n.child.kill("SIGCONT");
    await n.kill();
  }
  nodes = [];
});

describe("start-up next to a paused peer", () => {
  it("a restarted validator answers on its API within a few seconds though one peer is frozen", {
    timeout: 120_000,
  }, async () => {
    const out = tempDir("slowpeer");
    const base = 20_000 + ((await freePort()) % 20_000);
    expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    for (let i = 0; i < 4; i++) nodes.push(await startNodeProcess(homes[i]!, base + i));
    // Restart node0 once with every peer healthy, for the baseline.
    const restart = async () => {
      expect(await nodes[0]!.stop()).toBe(0);
      const t0 = Date.now();
      nodes[0] = await startNodeProcess(homes[0]!, base);
      return Date.now() - t0;
    };
    const healthy = await restart();
    nodes[3]!.child.kill("SIGSTOP");
    const paused = await restart();
    console.log(`restart to /health: ${healthy} ms with every peer up, ${paused} ms with node3 paused`);
    expect(paused).toBeLessThan(healthy + 3_000);
  });
});
