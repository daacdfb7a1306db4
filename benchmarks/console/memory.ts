// Does a console page left open grow? `npm run bench:console:memory -- --minutes 5`
//
// Runs a 4-validator cluster (`cairn cluster`) with a light load (RATE kv puts per second to node1),
// opens the console on node0 in headless Chromium, visits each view in turn (the map most of the
// time), and every 30 s collects garbage in the page (DevTools HeapProfiler.collectGarbage) and
// records its JavaScript heap and DOM node count. Prints the samples; a page whose buffers are
// bounded levels off after its first minute.
import { numberArg as arg, launchBrowser, startConsoleCluster } from "./cluster.ts";

const MINUTES = arg("minutes", 5);
const RATE = arg("rate", 100);
const VIEWS = ["map", "journey", "consensus", "explorer", "cluster"];

const cluster = await startConsoleCluster("cairn-console-memory-");
const { url } = cluster;
let stop = false;
try {
  // A light load, bounded by the run's length: RATE/10 transactions every 100 ms.
  const load = (async () => {
    const end = Date.now() + MINUTES * 60_000 + 60_000;
    for (let i = 0; !stop && Date.now() < end; i++) {
      const txs = await cluster.kvPuts(Math.max(1, RATE / 10), "mem-", i * 1000);
      await fetch(`${url(1)}/txs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ txs }),
      }).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const browser = await launchBrowser();
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
  await cluster.stop();
}
