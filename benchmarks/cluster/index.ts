// `npm run bench:cluster`: the standard suite of `cairn bench` on this machine (about ten minutes):
// kv closed loop (saturation) and open loop at half load, YCSB-A with reads, SmallBank transfers,
// Wasm token calls, the do-nothing transaction, large payloads, a 4/7-validator size sweep and a
// kill-validator fault run, on local clusters of `cairn start` processes. Writes
// benchmarks/results/bench-latest.{json,md,html}. Extra arguments go to `cairn bench`, e.g.
// `npm run bench:cluster -- --validators 4,7,10,16` or `-- --workload kv --rate 500`. `npm run bench:wan`
// runs `--suite wan` (kv locally, at 50 ms and across three regions, with the consensus simulation).
import { spawn } from "node:child_process";
import { CAIRN, ROOT } from "@cairn/bench";

const args = process.argv.slice(2);
const child = spawn(
  process.execPath,
  [
    CAIRN,
    "bench",
    ...(args.includes("--workload") || args.includes("--suite") ? [] : ["--suite", "standard"]),
    ...args,
  ],
  {
    cwd: ROOT,
    stdio: "inherit",
  },
);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
