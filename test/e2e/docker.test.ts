// Cairn in Docker, end to end, the way docs/docker.md tells a user to do it: Docker's engine from
// Debian's packages (installed and started here when missing), the base image built from the
// project's own Node (docker/build-base.sh: no registry), the node image (`cairn docker build`), a
// 4-validator cluster written by `cairn testnet --docker` and started with `cairn docker up`.
// Transactions go in through one node's published port on 127.0.0.1 and every node commits the
// same blocks. Then one container is killed and another cut off the network: with 2 of 4 out there
// is no quorum, nothing commits and nothing forks; the killed node restarted, the other three commit
// again; the cut-off node reconnected, all four catch up to the same blocks. A node stopped with
// `docker stop` shuts down cleanly (exit 0, "node stopped"). `cairn docker down --wipe` leaves no
// container, network or volume behind (images stay cached for the next run).
//
// Bounds: setup 420 s (apt-get install of docker.io and docker-compose ~40 s when missing, or
// longer while another test holds apt's lock to install Chromium; engine start, image builds), the
// cluster test 110 s, teardown 40 s: at most 10 minutes; measured 85 s with
// Docker installed and images cached, 132 s on a machine without Docker. Traffic: HTTP to
// 127.0.0.1 only; the nodes talk to each other on the test's own Docker bridge network.
// If the engine cannot be installed or started, the test fails with the reason.
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DockerCluster } from "@cairn/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDockerEngine, sh, usedSubnets } from "../helpers/docker.ts";
import { freePort, REPO, runCairn, tempDir } from "../helpers/processes.ts";
import { getJson, kvPut, postTxs, readKey } from "../helpers/txs.ts";
import { waitFor } from "../helpers/wait.ts";

const IMAGE = "cairn-node:e2e";
const BASE_IMAGE = "cairn-base:24";
const project = `cairn-e2e-${process.pid % 100_000}`;
const dir = tempDir("docker");
let cluster: DockerCluster | undefined;
let setupError: Error | undefined;
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
const log = (line: string) => process.stderr.write(`[docker e2e ${elapsed()}] ${line}\n`);

async function height(url: string): Promise<number | undefined> {
  try {
    const r = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
    return ((await r.json()) as { height: number }).height;
  } catch {
    return undefined;
  }
}

/** Every height up to `top` has the same block hash on every node in `urls`. */
async function expectSameBlocks(urls: readonly string[], top: number): Promise<void> {
  for (let h = 1; h <= top; h++) {
    const hashes = await Promise.all(urls.map(async (u) => (await getJson(`${u}/blocks/${h}`)).body.hash as string));
    expect(new Set(hashes).size, `height ${h}: ${hashes.join(" ")}`).toBe(1);
  }
}

async function cairn(args: string[], timeoutMs = 60_000) {
  const r = await runCairn(args, timeoutMs);
  expect(r.code, `cairn ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r;
}

beforeAll(async () => {
  try {
    for (const did of await ensureDockerEngine(log)) log(did);
    const base = await sh(join(REPO, "docker", "build-base.sh"), ["--tag", BASE_IMAGE], 120_000);
    if (base.code !== 0) throw new Error(`docker/build-base.sh failed:\n${base.out}`);
    log(base.out.trim());
    const built = await runCairn(["docker", "build", "--base", BASE_IMAGE, "--tag", IMAGE], 150_000);
    if (built.code !== 0) throw new Error(`cairn docker build failed:\n${built.stdout}\n${built.stderr}`);
    log(`built ${IMAGE}`);
  } catch (e) {
    setupError = e as Error;
  }
}, 420_000);

afterAll(async () => {
  if (cluster !== undefined) {
    await cluster.down({ wipe: true }).catch((e) => log(`down failed: ${(e as Error).message}`));
  }
  await rm(dir, { recursive: true, force: true });
}, 40_000);

describe("a 4-validator cluster in Docker", () => {
  it("commits the same blocks on every node; stays safe with one node killed and one cut off; recovers; stops cleanly; tears down", {
    timeout: 110_000,
  }, async () => {
    if (setupError !== undefined) throw setupError;

    // A base port with four free ports, and a subnet no existing Docker network overlaps.
    let basePort = 0;
    for (let tries = 0; tries < 20 && basePort === 0; tries++) {
      const b = 20_000 + ((await freePort()) % 20_000);
      const free = await Promise.all(
        [0, 1, 2, 3].map(async (i) => (await height(`http://127.0.0.1:${b + i}`)) === undefined),
      );
      if (free.every(Boolean)) basePort = b;
    }
    const used = await usedSubnets();
    const octet = [...Array(100).keys()]
      .map((i) => 150 + i)
      .find((o) => !used.some((s) => s.startsWith(`10.213.${o}.`)));
    const subnet = `10.213.${octet}.0/24`;

    // One command writes keys, genesis and the Compose file; one brings the cluster up.
    await cairn([
      "testnet",
      "--validators",
      "4",
      "--docker",
      "--out",
      dir,
      "--base-port",
      String(basePort),
      "--subnet",
      subnet,
      "--image",
      IMAGE,
      "--project",
      project,
    ]);
    cluster = await DockerCluster.load(dir);
    const c = cluster;
    const names = c.info.nodes.map((n) => n.name);
    expect(names).toEqual(["node0", "node1", "node2", "node3"]);
    const url = Object.fromEntries(c.info.nodes.map((n) => [n.name, n.url])) as Record<string, string>;
    const urls = names.map((n) => url[n] as string);
    expect(urls.every((u) => u.startsWith("http://127.0.0.1:"))).toBe(true);
    await cairn(["docker", "up", "--dir", dir, "--timeout", "80"], 90_000);
    log("cluster up");

    // Every container runs as the image's non-root user and becomes healthy (HEALTHCHECK on /health).
    const user = await sh("docker", ["inspect", "-f", "{{.Config.User}}", c.node("node0").container]);
    expect(user.out.trim()).toBe("1000:1000");
    await waitFor("every container healthy", async () =>
      [...(await c.containers()).values()].every((s) => s.health === "healthy"),
    );
    const status = await cairn(["docker", "status", "--dir", dir]);
    expect(status.stdout).toContain("4 of 4 nodes answer");

    // Transactions in through node1's published port, signed with the generated client key (the
    // testnet is permissioned): committed, and every node has the same blocks.
    const genesis = JSON.parse(readFileSync(join(dir, "node0", "genesis.json"), "utf8"));
    const client = readKey(dir, "client");
    const first = Array.from({ length: 20 }, (_, i) => kvPut(client, genesis.chainId, `k${i}`, `v${i}`, 500));
    const res = await postTxs(url.node1 as string, first, true);
    expect(res.body.committed, JSON.stringify(res.body)).toBe(20);
    const h1 = Math.max(...res.body.results.map((r: { height: number }) => r.height));
    await waitFor("all four at the first batch's height", async () =>
      (await Promise.all(urls.map(height))).every((h) => h !== undefined && h >= h1),
    );
    await expectSameBlocks(urls, h1);
    log(`20 transactions committed by height ${h1} on all four nodes`);

    // node3 killed (SIGKILL) and node2 cut off the network: 2 of 4 validators out, no quorum.
    await cairn(["docker", "kill", "node3", "--dir", dir]);
    await cairn(["docker", "disconnect", "node2", "--dir", dir]);
    const states = await c.containers();
    expect(states.get("node3")?.status).toBe("exited");
    expect(states.get("node2")?.connected).toBe(false);
    const live = [url.node0 as string, url.node1 as string];
    // A round in progress when the faults hit may still finish with the votes already cast.
    await new Promise((r) => setTimeout(r, 2_000));
    const stuck = Math.max(...((await Promise.all(live.map(height))) as number[]));
    const pending = await postTxs(url.node0 as string, [kvPut(client, genesis.chainId, "during", "no quorum", 500)]);
    expect(pending.body.results[0].status).toBe("pending");
    const hash = pending.body.results[0].hash as string;
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await Promise.all(live.map(height))).toEqual([stuck, stuck]);
    expect((await getJson(`${url.node0}/txs/${hash}`)).body.status).toBe("pending");
    await expectSameBlocks(live, stuck);
    log(`2 of 4 out: nothing committed above height ${stuck} in 5 s, no fork`);

    // node3 restarted on its data: three validators, a quorum; the pending transaction commits.
    await cairn(["docker", "start", "node3", "--dir", dir]);
    await waitFor(
      "the pending transaction to commit with 3 of 4",
      async () => (await getJson(`${url.node0}/txs/${hash}`)).body.status === "committed",
      60_000,
    );
    const h2 = (await getJson(`${url.node0}/txs/${hash}`)).body.height as number;
    const three = [url.node0 as string, url.node1 as string, url.node3 as string];
    await waitFor("node3 to catch up", async () => ((await height(url.node3 as string)) ?? 0) >= h2);
    await expectSameBlocks(three, h2);
    log(`node3 restarted: committed again at height ${h2}`);

    // node2 reconnected at its address: it catches up, and takes transactions again.
    await cairn(["docker", "connect", "node2", "--dir", dir]);
    await waitFor("node2 to catch up", async () => ((await height(url.node2 as string)) ?? 0) >= h2, 60_000);
    const after = await postTxs(url.node2 as string, [kvPut(client, genesis.chainId, "after", "reconnect", 500)], true);
    expect(after.body.results[0].status).toBe("committed");
    const h3 = after.body.results[0].height as number;
    await waitFor("all four at the last height", async () =>
      (await Promise.all(urls.map(height))).every((h) => h !== undefined && h >= h3),
    );
    await expectSameBlocks(urls, h3);
    for (const u of urls) expect((await getJson(`${u}/evidence`)).body).toMatchObject({ evidence: [], total: 0 });
    log(`node2 reconnected: all four agree on ${h3} blocks, no equivocation evidence`);

    // `docker stop` (SIGTERM to the node, PID 1 in its container) is a clean stop, well within the grace period.
    const stopAt = Date.now();
    await cairn(["docker", "stop", "node1", "--dir", dir]);
    const stopMs = Date.now() - stopAt;
    expect((await c.containers()).get("node1")).toMatchObject({ status: "exited", exitCode: 0 });
    expect(await c.logs("node1", 20)).toContain('"msg":"node stopped"');
    expect(stopMs).toBeLessThan(15_000);
    const down = await runCairn(["docker", "status", "--dir", dir]);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain("3 of 4 nodes answer");
    log(`node1 stopped cleanly in ${stopMs} ms`);

    // Down with --wipe: no container, network or volume of the project is left.
    await cairn(["docker", "down", "--wipe", "--dir", dir], 60_000);
    cluster = undefined;
    const left = await sh("docker", ["ps", "-a", "-q", "--filter", `name=${project}-`]);
    expect(left.out.trim()).toBe("");
    expect((await sh("docker", ["network", "ls", "-q", "--filter", `name=${project}-net`])).out.trim()).toBe("");
    expect((await sh("docker", ["volume", "ls", "-q", "--filter", `name=${project}-`])).out.trim()).toBe("");
    log("torn down");
  });
});
