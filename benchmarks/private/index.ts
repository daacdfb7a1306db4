// What private data costs a client and a cluster: `npm run bench:private`.
//
//   1. `cairn cluster` runs 4 validators (org0..org3) on loopback; governance defines a collection
//      "bench" of org0 and org1 that needs the plaintext on one other member node before a
//      transaction is accepted (requiredPeerCount 1), as the e2e test's "ab";
//   2. against node0 (org0), alternating in ROUNDS rounds: COUNT kv puts and COUNT private puts
//      (pkv.put with one private write of SIZE bytes), each sent with wait=commit one after the
//      other (latency), then BURST of each sent CONCURRENCY at a time (throughput);
//   3. reports per kind: latency p50/p99 of the sequential sends, accepted/s and committed/s of the
//      bursts, and the private/plain ratios of the same run (the machine is shared: compare ratios).
// Writes benchmarks/results/private-latest.json.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, keyFromSecret, pkv, privateWrite, type Signer } from "@cairn/client";
import { fromHex } from "@cairn/crypto";
import { numberArg as arg, startConsoleCluster } from "../console/cluster.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CAIRN = join(ROOT, "packages/cli/bin/cairn.js");
const COUNT = arg("count", 40);
const BURST = arg("burst", 400);
const CONCURRENCY = arg("concurrency", 20);
const SIZE = arg("size", 256);
const ROUNDS = arg("rounds", 2);

type Kind = "plain" | "private";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const cluster = await startConsoleCluster("cairn-bench-private-");
try {
  const cairn = (args: string[]) => execFileSync(process.execPath, [CAIRN, ...args], { cwd: ROOT, encoding: "utf8" });
  cairn([
    "gov",
    "propose",
    "define-collection",
    "bench",
    "org0,org1",
    "1",
    "3",
    "0",
    "true",
    "true",
    "--home",
    cluster.home(0),
  ]);
  for (const i of [1, 2]) cairn(["gov", "approve", "1", "--home", cluster.home(i)]);
  const adminFile = JSON.parse(readFileSync(join(cluster.home(0), "keys", "admin.json"), "utf8"));
  const signer: Signer = createClient({ url: cluster.url(0) }).signer(keyFromSecret(fromHex(adminFile.secretKey)));
  const value = (n: number) => `${"v".repeat(Math.max(0, SIZE - 12))}${String(n).padStart(12, "0")}`;
  let n = 0;
  const send = async (kind: Kind, wait: boolean) => {
    const k = `k${++n}`;
    const o = wait ? { wait: "commit" as const } : {};
    const r =
      kind === "plain"
        ? await signer.send({ contract: "kv", method: "put", args: [Buffer.from(k), Buffer.from(value(n))] }, o)
        : await signer.sendPrivate(pkv.put(), [privateWrite("bench", k, value(n))], o);
    if (wait && r.status !== "committed") throw new Error(`${kind} ${k}: ${JSON.stringify(r)}`);
    if (r.hash === undefined) throw new Error(`${kind} ${k}: ${JSON.stringify(r)}`);
    return r.hash;
  };
  const latency: Record<Kind, number[]> = { plain: [], private: [] };
  const bursts: Record<Kind, { acceptedPerS: number; committedPerS: number }[]> = { plain: [], private: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ["plain", "private"] as const) {
      for (let i = 0; i < COUNT; i++) {
        const t0 = performance.now();
        await send(kind, true);
        latency[kind].push(performance.now() - t0);
      }
      const t0 = performance.now();
      const hashes: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < BURST) {
            next++;
            hashes.push(await send(kind, false));
          }
        }),
      );
      const accepted = performance.now() - t0;
      const client = createClient({ url: cluster.url(0) });
      await client.waitForCommit(hashes[hashes.length - 1] as string, { timeoutMs: 120_000 });
      for (const h of hashes) await client.waitForCommit(h, { timeoutMs: 120_000 });
      const committed = performance.now() - t0;
      bursts[kind].push({ acceptedPerS: (BURST / accepted) * 1000, committedPerS: (BURST / committed) * 1000 });
    }
  }
  const summary = Object.fromEntries(
    (["plain", "private"] as const).map((kind) => {
      const sorted = [...latency[kind]].sort((a, b) => a - b);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      return [
        kind,
        {
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          acceptedPerS: mean(bursts[kind].map((b) => b.acceptedPerS)),
          committedPerS: mean(bursts[kind].map((b) => b.committedPerS)),
        },
      ];
    }),
  ) as Record<Kind, { p50Ms: number; p99Ms: number; acceptedPerS: number; committedPerS: number }>;
  const ratio = {
    p50: summary.private.p50Ms / summary.plain.p50Ms,
    acceptedPerS: summary.private.acceptedPerS / summary.plain.acceptedPerS,
    committedPerS: summary.private.committedPerS / summary.plain.committedPerS,
  };
  const report = {
    command: ["npm run bench:private", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    at: new Date().toISOString(),
    settings: { count: COUNT, burst: BURST, concurrency: CONCURRENCY, valueBytes: SIZE, rounds: ROUNDS },
    summary,
    ratio,
  };
  writeFileSync(join(ROOT, "benchmarks/results/private-latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  const f = (x: number) => x.toFixed(1);
  console.log("kind     p50 ms  p99 ms  accepted/s  committed/s (one client, wait=commit / bursts)");
  for (const kind of ["plain", "private"] as const) {
    const s = summary[kind];
    console.log(
      `${kind.padEnd(8)} ${f(s.p50Ms).padStart(6)}  ${f(s.p99Ms).padStart(6)}  ${f(s.acceptedPerS).padStart(10)}  ${f(s.committedPerS).padStart(11)}`,
    );
  }
  console.log(
    `private/plain: p50 ${ratio.p50.toFixed(2)}, accepted/s ${ratio.acceptedPerS.toFixed(2)}, committed/s ${ratio.committedPerS.toFixed(2)}`,
  );
} finally {
  await cluster.stop();
}
