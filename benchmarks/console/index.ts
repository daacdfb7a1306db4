// What one open console page costs the node that serves it: `npm run bench:console`.
//
//   1. `cairn cluster` runs a 4-validator cluster of processes on loopback (as `npm start` does);
//   2. an open-loop load of RATE kv puts per second (pre-signed, batches every 100 ms) goes to
//      node1..node3, so node0's own share of the work is the same with or without a page;
//   3. phases of PHASE seconds alternate, ROUNDS times: no page; the console open on node0's map
//      view in headless Chromium (it polls node0 once a second, and every node's status); and the
//      page's requests to node0 made by this process (no browser competing for the 2 cores);
//   4. node0's CPU (user + system, /proc/<pid>/stat) is measured in each phase.
//
// Reports node0's CPU per phase (percent of one core) and the difference with a page open, as a
// ratio of the same run's phases (the machine is shared: compare within one run).
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kvPut } from "@cairn/bench";
import { freePort } from "@cairn/cluster";
import { fromHex, toHex } from "@cairn/crypto";
import { createNativeSigner } from "@cairn/crypto/native";
import { chromium } from "@cairn/test-utils/browser";
import puppeteer from "puppeteer-core";

const ROOT = new URL("../../", import.meta.url).pathname;
const CAIRN = join(ROOT, "packages/cli/bin/cairn.js");
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const RATE = arg("rate", 500);
const PHASE_S = arg("phase", 20);
const ROUNDS = arg("rounds", 2);
const PHASES = ["no page", "console open", "page's requests, no browser"] as const;

/**
 * What the console's poller asks node0 (src/app/monitor.ts), from this process instead of a browser:
 * the node's share of the cost without Chromium competing for the same cores.
 */
function replayPage(base: string): { stop(): Promise<void> } {
  let stopped = false;
  let after = 0;
  let linesAfter = 0;
  const get = (path: string) => fetch(`${base}${path}`).then((r) => r.json() as Promise<{ last?: number }>);
  const done = (async () => {
    for (let tick = 0; !stopped; tick++) {
      const started = performance.now();
      const [, , events, lines] = await Promise.all([
        get("/status"),
        fetch(`${base}/metrics`).then((r) => r.text()),
        get(`/consensus/events?after=${after}`),
        get(`/logs?after=${linesAfter}&limit=400`),
        tick % 10 === 0 ? get("/gov/organizations") : Promise.resolve(undefined),
      ]);
      after = events.last ?? after;
      linesAfter = lines.last ?? linesAfter;
      await new Promise((r) => setTimeout(r, Math.max(100, 1_000 - (performance.now() - started))));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const out = join(await mkdtemp(join(tmpdir(), "cairn-bench-console-")), "cluster");
const base = 20_000 + ((await freePort()) % 20_000);
let log = "";
const cluster: ChildProcess = spawn(
  process.execPath,
  [CAIRN, "cluster", "--out", out, "--base-port", String(base), "--log-level", "warn"],
  { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true },
);
cluster.stdout?.on("data", (d) => (log += d));
cluster.stderr?.on("data", (d) => (log += d));
const url = (i: number) => `http://127.0.0.1:${base + i}`;
let stopLoad = false;
try {
  await until(() => log.includes("Ctrl-C to stop every node"), 120_000, "the cluster");
  const control = /cluster control \(loopback only\): (\S+)/.exec(log)?.[1] as string;
  const nodes = (await (await fetch(`${control}/nodes`)).json()).nodes as { pid: number }[];
  const pid = nodes[0]?.pid as number;
  const chainId = JSON.parse(readFileSync(join(out, "node0", "genesis.json"), "utf8")).chainId as string;
  const keyFile = JSON.parse(readFileSync(join(out, "keys", "admin.json"), "utf8"));
  const admin = createNativeSigner(fromHex(keyFile.secretKey), fromHex(keyFile.publicKey));
  const status = (await (await fetch(`${url(0)}/status`)).json()) as { height: number; maxTxTtl: number };

  // The node's CPU per request of each route the page polls, on the idle cluster (200 in a row each):
  // times the page's rates, the node-side cost of one open page, free of the noise of a loaded run.
  const perRequest: [string, number, number][] = [];
  for (const [path, perSecond] of [
    ["/status", 1],
    ["/metrics", 1],
    ["/consensus/events?after=0&limit=20", 1],
    ["/logs?limit=20", 1],
    ["/gov/organizations", 0.1],
  ] as const) {
    const c0 = cpuSeconds(pid);
    for (let i = 0; i < 200; i++) await (await fetch(`${url(0)}${path}`)).arrayBuffer();
    perRequest.push([path, ((cpuSeconds(pid) - c0) / 200) * 1000, perSecond]);
  }

  // Open loop: RATE/10 every 100 ms, round-robin over node1..node3, bounded in count and time. Each
  // batch is signed as it goes (OpenSSL, about 5 ms a batch) with an expiry from the latest height,
  // since at this rate the chain passes its transaction TTL within the run.
  const total = Math.ceil(RATE * (PHASE_S + 3) * PHASES.length * ROUNDS * 1.1) + RATE * 5;
  const perTick = Math.max(1, Math.round(RATE / 10));
  let sent = 0;
  let refused = 0;
  let head = status.height;
  const load = (async () => {
    let turn = 0;
    const started = performance.now();
    while (!stopLoad && sent < total) {
      if (turn % 10 === 0) {
        head = await fetch(`${url(1)}/status`)
          .then((r) => r.json() as Promise<{ height: number }>)
          .then(
            (x) => x.height,
            () => head,
          );
      }
      const expiry = head + Math.floor(status.maxTxTtl / 2);
      const batch = Array.from({ length: perTick }, (_, k) =>
        toHex(kvPut(chainId, admin, expiry, "console-", sent + k).bytes),
      );
      sent += batch.length;
      const target = url(1 + (turn++ % 3));
      void fetch(`${target}/txs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ txs: batch }),
      })
        .then(async (r) => {
          const body = (await r.json()) as { results?: { error?: { code: string } }[] };
          const bad = body.results?.filter((x) => x.error !== undefined) ?? [];
          refused += body.results === undefined ? batch.length : bad.length;
          if (bad[0] !== undefined && refused === bad.length) process.stderr.write(`refused: ${bad[0].error?.code}\n`);
        })
        .catch(() => (refused += batch.length));
      const next = started + (sent / perTick) * 100;
      if (performance.now() - started > 30 * 60_000) break;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();

  await new Promise((r) => setTimeout(r, 5_000)); // warm up
  const browser = await puppeteer.launch({
    executablePath: chromium(),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  const rows: { phase: string; cpuPercent: number; heightFrom: number; heightTo: number }[] = [];
  const height = async () => ((await (await fetch(`${url(0)}/status`)).json()) as { height: number }).height;
  for (let round = 0; round < ROUNDS; round++) {
    for (const phase of PHASES) {
      const page = phase === "console open" ? await browser.newPage() : undefined;
      if (page !== undefined) {
        await page.setViewport({ width: 1440, height: 900 });
        await page.goto(`${url(0)}/console/`, { waitUntil: "domcontentloaded" });
        await new Promise((r) => setTimeout(r, 2_000));
      }
      const replay = phase === "page's requests, no browser" ? replayPage(url(0)) : undefined;
      const h0 = await height();
      const c0 = cpuSeconds(pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, PHASE_S * 1000));
      const cpu = ((cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
      rows.push({ phase, cpuPercent: cpu, heightFrom: h0, heightTo: await height() });
      await page?.close();
      await replay?.stop();
    }
  }
  await browser.close();
  stopLoad = true;
  await load;
  const mean = (p: string) => {
    const xs = rows.filter((r) => r.phase === p).map((r) => r.cpuPercent);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const without = mean("no page");
  const withPage = mean("console open");
  const replayed = mean("page's requests, no browser");
  console.log(`\nConsole cost on node0 (4 validators, ${RATE} tx/s offered to node1..node3, phases of ${PHASE_S} s)\n`);
  console.log("| phase | node0 CPU, % of a core | blocks |");
  console.log("|---|---:|---:|");
  for (const r of rows) console.log(`| ${r.phase} | ${r.cpuPercent.toFixed(1)} | ${r.heightTo - r.heightFrom} |`);
  console.log(
    `\nmean without a page ${without.toFixed(1)} %, with the console open ${withPage.toFixed(1)} %: ` +
      `${(withPage - without).toFixed(1)} points of a core (${(((withPage - without) / without) * 100).toFixed(1)} % more); ` +
      `${sent} sent, ${refused} refused`,
  );
  console.log("\n| route the page polls | per second | node CPU per request, ms |");
  console.log("|---|---:|---:|");
  for (const [path, n, ms] of perRequest.map(([p, c, n]) => [p, n, c] as const)) {
    console.log(`| ${path.split("?")[0]} | ${n} | ${ms.toFixed(2)} |`);
  }
  const direct = perRequest.reduce((a, [, msPer, n]) => a + msPer * n, 0) / 10; // ms per s → % of a core
  console.log(`\nfrom the per-request costs: ${direct.toFixed(2)} % of a core for one open page`);
  console.log(
    `the page's requests alone (no browser on the machine): ${replayed.toFixed(1)} %, ` +
      `${(replayed - without).toFixed(1)} points (${(((replayed - without) / without) * 100).toFixed(1)} % more)`,
  );
} finally {
  stopLoad = true;
  if (cluster.pid !== undefined) process.kill(-cluster.pid, "SIGINT");
  await until(() => cluster.exitCode !== null || cluster.signalCode !== null, 30_000, "the cluster to stop").catch(() =>
    process.kill(-(cluster.pid as number), "SIGKILL"),
  );
}
