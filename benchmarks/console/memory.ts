// Does a console page left open grow? `npm run bench:console:memory -- --minutes 5`
//
// Runs a 4-validator cluster (`cairn cluster`) with a light load (RATE kv puts per second to node1),
// opens the console on node0 in headless Chromium, visits each view in turn (the map most of the
// time), and every 30 s collects garbage in the page (DevTools HeapProfiler.collectGarbage) and
// records its JavaScript heap and DOM node count. Prints the samples; a page whose buffers are
// bounded levels off after its first minute.
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
const MINUTES = arg("minutes", 5);
const RATE = arg("rate", 100);
const VIEWS = ["map", "journey", "consensus", "explorer", "cluster"];

const out = join(await mkdtemp(join(tmpdir(), "cairn-console-memory-")), "cluster");
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
let stop = false;
try {
  const deadline = Date.now() + 120_000;
  while (!log.includes("Ctrl-C to stop every node")) {
    if (Date.now() > deadline) throw new Error(`the cluster did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const chainId = JSON.parse(readFileSync(join(out, "node0", "genesis.json"), "utf8")).chainId as string;
  const keyFile = JSON.parse(readFileSync(join(out, "keys", "admin.json"), "utf8"));
  const admin = createNativeSigner(fromHex(keyFile.secretKey), fromHex(keyFile.publicKey));
  // A light load, bounded by the run's length: RATE/10 transactions every 100 ms.
  const load = (async () => {
    const end = Date.now() + MINUTES * 60_000 + 60_000;
    for (let i = 0; !stop && Date.now() < end; i++) {
      const st = (await (await fetch(`${url(1)}/status`)).json()) as { height: number; maxTxTtl: number };
      const txs = Array.from({ length: Math.max(1, RATE / 10) }, (_, k) =>
        toHex(kvPut(chainId, admin, st.height + Math.floor(st.maxTxTtl / 2), "mem-", i * 1000 + k).bytes),
      );
      await fetch(`${url(1)}/txs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ txs }),
      }).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const browser = await puppeteer.launch({
    executablePath: chromium(),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 900 });
  await page.goto(`${url(0)}/console/`, { waitUntil: "domcontentloaded" });
  const cdp = await page.createCDPSession();
  const rows: { minute: number; view: string; heapMiB: number; nodes: number }[] = [];
  const started = Date.now();
  for (let k = 0; Date.now() - started < MINUTES * 60_000; k++) {
    // Every other half-minute on the map; the others in turn.
    const view = k % 2 === 0 ? "map" : (VIEWS[1 + ((k >> 1) % (VIEWS.length - 1))] as string);
    await page.goto(`${url(0)}/console/#/${view}`);
    await new Promise((r) => setTimeout(r, 30_000));
    await cdp.send("HeapProfiler.collectGarbage");
    const m = await page.metrics();
    rows.push({
      minute: (Date.now() - started) / 60_000,
      view,
      heapMiB: (m.JSHeapUsedSize ?? 0) / 2 ** 20,
      nodes: m.Nodes ?? 0,
    });
    process.stderr.write(`${rows.at(-1)?.minute.toFixed(1)} min ${view}: ${rows.at(-1)?.heapMiB.toFixed(2)} MiB\n`);
  }
  await browser.close();
  stop = true;
  await load;
  console.log(`\nConsole page memory (4 validators, ${RATE} tx/s, ${MINUTES} min, after a GC each time)\n`);
  console.log("| minute | view | JS heap, MiB | DOM nodes |");
  console.log("|---:|---|---:|---:|");
  for (const r of rows) console.log(`| ${r.minute.toFixed(1)} | ${r.view} | ${r.heapMiB.toFixed(2)} | ${r.nodes} |`);
  const maps = rows.filter((r) => r.view === "map");
  if (maps.length >= 2) {
    const first = maps[1] ?? maps[0];
    const last = maps.at(-1);
    console.log(
      `\non the map view: ${first?.heapMiB.toFixed(2)} MiB at ${first?.minute.toFixed(1)} min, ` +
        `${last?.heapMiB.toFixed(2)} MiB at ${last?.minute.toFixed(1)} min`,
    );
  }
} finally {
  stop = true;
  if (cluster.pid !== undefined) process.kill(-cluster.pid, "SIGINT");
  const until = Date.now() + 30_000;
  while (cluster.exitCode === null && cluster.signalCode === null && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
  }
  if (cluster.exitCode === null && cluster.signalCode === null) process.kill(-(cluster.pid as number), "SIGKILL");
}
