// Nothing acknowledged disappears without a word: a transaction answered "pending" is on disk
// in every node that admitted it, so killing the accepting node and every other node that held it
// before any block commits loses nothing: after restarts it commits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "@cairn/crypto";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, type NodeProcess, runCairn, startNodeProcess, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";
import { until } from "../helpers/wait.ts";

let nodes: (NodeProcess | undefined)[] = [];
afterEach(async () => {
  for (const n of nodes) await n?.kill();
  nodes = [];
});

async function status(url: string, hash: Uint8Array): Promise<string> {
  return (await getJson(`${url}/txs/${toHex(hash)}`)).body.status as string;
}

describe("durable acceptance", () => {
  it("transactions acknowledged as pending survive SIGKILL of every node that held them, and commit after restarts", {
    timeout: 180_000,
  }, async () => {
    const out = tempDir("durable");
    const base = 20_000 + ((await freePort()) % 20_000);
    expect((await runCairn(["testnet", "--validators", "4", "--out", out, "--base-port", String(base)])).code).toBe(0);
    const homes = [0, 1, 2, 3].map((i) => join(out, `node${i}`));
    const chainId = JSON.parse(readFileSync(join(homes[0]!, "genesis.json"), "utf8")).chainId;
    const admin = readKey(homes[0]!);
    const start = async (i: number) => {
      nodes[i] = await startNodeProcess(homes[i]!, base + i);
      return nodes[i]!.url;
    };
    const urls: string[] = [];
    for (let i = 0; i < 4; i++) urls.push(await start(i));
    expect((await postTxs(urls[0]!, [kvPut(admin, chainId, "warm", "up")], true)).body.committed).toBe(1);

    // Two validators down: nothing can commit. node0 accepts X, gossips it to node1; both are killed.
    await nodes[2]!.kill();
    await nodes[3]!.kill();
    const x = kvPut(admin, chainId, "x", "survives");
    const rx = await postTxs(urls[0]!, [x]);
    expect(rx.body.results[0].status).toBe("pending");
    await until(async () => (await status(urls[1]!, x.hash)) === "pending", 5_000, "node1 to hold X");
    await nodes[1]!.kill();
    // node0 alone accepts Y: it is the only node that ever held it.
    const y = kvPut(admin, chainId, "y", "survives too");
    expect((await postTxs(urls[0]!, [y])).body.results[0].status).toBe("pending");
    await nodes[0]!.kill();

    for (let i = 0; i < 4; i++) await start(i);
    for (const t of [x, y]) {
      await until(
        async () => (await Promise.all(urls.map((u) => status(u, t.hash)))).every((s) => s === "committed"),
        30_000,
        `${toHex(t.hash)} committed on every node`,
      );
    }
    const values = await Promise.all(urls.map(async (u) => (await getJson(`${u}/state/kv/x`)).body.utf8));
    expect(new Set(values)).toEqual(new Set(["survives"]));
  });
});
