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
import { procSample } from "@cairn/bench";
import { numberArg as arg, launchBrowser, startConsoleCluster } from "./cluster.ts";

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

/** CPU seconds (user + system) of a process since it started. */
const cpuSeconds = (pid: number): number => procSample(pid)?.cpuSec ?? Number.NaN;

const cluster = await startConsoleCluster("cairn-bench-console-");
const { url } = cluster;
let stopLoad = false;
try {
  const pid = await cluster.pid(0);

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
  const load = (async () => {
    let turn = 0;
    const started = performance.now();
    while (!stopLoad && sent < total) {
      const batch = await cluster.kvPuts(perTick, "console-", sent);
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
  const browser = await launchBrowser();
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
  await cluster.stop();
}
