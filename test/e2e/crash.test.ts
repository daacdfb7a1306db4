// A node killed with SIGKILL at random moments under load restarts at a consistent height with
// nothing committed lost: every transaction the API reported committed is still there, at the
// same height, and the chain links up from block 1 to the head.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";

const KILLS = 8;
let node: NodeProcess | undefined;
afterAll(async () => node?.kill());

describe("crash safety (SIGKILL under load)", () => {
  it(`survives ${KILLS} kills at random points without losing a committed transaction`, {
    timeout: 240_000,
  }, async () => {
    const home = tempDir("crash");
    const port = await freePort();
    expect((await runCairn(["init", "--home", home, "--api-port", String(port)])).code).toBe(0);
    const chainId = JSON.parse(readFileSync(join(home, "genesis.json"), "utf8")).chainId;
    const admin = readKey(home);

    /** tx hash → [height, key, value] of every transaction the API reported committed. */
    const committed = new Map<string, { height: number; key: string; value: string }>();
    let maxHeight = 0;
    let seq = 0;

    for (let round = 0; round < KILLS; round++) {
      node = await startNodeProcess(home, port);
      const url = node.url;

      // After a restart, everything acknowledged as committed is still committed, unchanged.
      const status = (await getJson(`${url}/status`)).body;
      expect(status.height).toBeGreaterThanOrEqual(maxHeight);
      // Every transaction of the last round, and a sample of earlier ones (all are checked at the end).
      const all = [...committed];
      const toCheck = all.slice(-1000).concat(all.filter((_, i) => i % 25 === 0));
      for (const [hash, c] of toCheck) {
        const t = (await getJson(`${url}/txs/${hash}`)).body;
        expect(t.status, `tx ${hash} of height ${c.height}`).toBe("committed");
        expect(t.height).toBe(c.height);
      }
      // Spot-check state: the latest value of a sample of keys.
      const sample = [...committed.values()].slice(-20);
      for (const c of sample) {
        const s = (await getJson(`${url}/state/kv/${encodeURIComponent(c.key)}`)).body;
        expect(s.utf8).toBe(c.value);
      }

      // Load: several concurrent streams of batches, each waiting for its commit.
      let stop = false;
      const stream = async () => {
        while (!stop) {
          const batch = Array.from({ length: 50 }, () => {
            const k = `k${seq++}`;
            return { k, v: `v${seq}`, tx: kvPut(admin, chainId, k, `v${seq}`, status.height + 500) };
          });
          let res: { status: number; body: any };
          try {
            res = await postTxs(
              url,
              batch.map((b) => b.tx),
              true,
            );
          } catch {
            return; // the node was killed mid-request: nothing was acknowledged
          }
          if (res.status !== 200) continue;
          res.body.results.forEach((r: any, i: number) => {
            if (r.status === "committed") {
              const b = batch[i]!;
              committed.set(r.hash, { height: r.height, key: b.k, value: b.v });
              maxHeight = Math.max(maxHeight, r.height);
            }
          });
        }
      };
      const streams = [stream(), stream(), stream()];
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 1500)));
      await node.kill();
      stop = true;
      await Promise.all(streams);
    }

    // Final check on a clean start: heights link up and the head's state root is the reported one.
    node = await startNodeProcess(home, port);
    const status = (await getJson(`${node.url}/status`)).body;
    expect(status.height).toBeGreaterThanOrEqual(maxHeight);
    expect(committed.size).toBeGreaterThan(0);
    let prev: string | undefined;
    for (let h = 1; h <= status.height; h++) {
      const b = (await getJson(`${node.url}/blocks/${h}`)).body;
      if (prev !== undefined) expect(b.header.prevHash).toBe(prev);
      prev = b.hash;
      if (h === status.height) expect(b.header.stateRoot).toBe(status.stateRoot);
    }
    for (const [hash, c] of committed) {
      expect((await getJson(`${node.url}/txs/${hash}`)).body.height).toBe(c.height);
    }
    // And it keeps committing.
    const after = await postTxs(node.url, [kvPut(admin, chainId, "after", "crash", status.height + 100)], true);
    expect(after.body.results[0].status).toBe("committed");
    expect(await node.stop()).toBe(0);
    node = undefined;
  });
});
