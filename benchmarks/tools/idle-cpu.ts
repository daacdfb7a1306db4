// CPU of an idle cluster: N validators started as `cairn bench` starts them, nothing sent; each
// node's CPU (all threads, and by thread) over a quiet interval after the first blocks.
//   node benchmarks/tools/idle-cpu.ts [validators=4] [seconds=20]
import { ProcessTarget, processUsage, sleep, threadCpu } from "@cairn/bench";

const n = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 20);
const target = new ProcessTarget({ cluster: { validators: n, clients: 1 } });
try {
  await target.start();
  await sleep(10_000); // connections made, first blocks committed
  const pids = target.nodes().map((x) => x.pid as number);
  const before = pids.map((p) => ({ cpu: processUsage(p)?.cpuSec ?? 0, threads: threadCpu(p) }));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const after = pids.map((p) => ({ cpu: processUsage(p)?.cpuSec ?? 0, threads: threadCpu(p) }));
  const cores = after.map((a, i) => (a.cpu - (before[i]?.cpu ?? 0)) / wall);
  const total = cores.reduce((s, x) => s + x, 0);
  console.log(
    `${n} idle validators over ${wall.toFixed(1)} s: ${total.toFixed(3)} cores in all, ${(total / n).toFixed(3)} per node`,
  );
  const byThread = new Map<string, number>();
  after.forEach((a, i) => {
    for (const [t, sec] of a.threads) byThread.set(t, (byThread.get(t) ?? 0) + sec - (before[i]?.threads.get(t) ?? 0));
  });
  for (const [t, sec] of [...byThread].sort((a, b) => b[1] - a[1]))
    console.log(`  ${t.padEnd(24)} ${((sec / wall / n) * 100).toFixed(2)} % of a core per node`);
} finally {
  await target.stop();
}
