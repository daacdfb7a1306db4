// Worker thread body of the VerifyPool: verifies packed batches with OpenSSL and answers with one
// result byte per item. Jobs wait here, urgent ones first; one job runs per turn of the event loop,
// so an urgent job that arrives while others wait is taken next, not after them.
import { getPriority, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { verifyPacked } from "./verify-batch.ts";

interface Job {
  id: number;
  buf: ArrayBuffer;
  count: number;
  urgent: boolean;
}

// Linux keeps a nice value per thread, and pid 0 names the calling thread: the node's main thread
// and every other thread of the process keep theirs (VerifyPoolOptions.nice). Relative to the one
// this thread started with (its creator's), so a node started under `nice` stays below it.
const nice = (workerData as { nice?: number } | undefined)?.nice ?? 0;
if (nice > 0 && process.platform === "linux") {
  try {
    setPriority(0, Math.min(19, getPriority(0) + nice));
  } catch {
    // Not allowed here (a sandbox): the checks run at the process's priority, as before.
  }
}

const urgent: Job[] = [];
const normal: Job[] = [];
let scheduled = false;

function runNext(): void {
  scheduled = false;
  const job = urgent.shift() ?? normal.shift();
  if (job === undefined) return;
  const result = verifyPacked(job.buf, job.count);
  parentPort?.postMessage({ id: job.id, result }, [result.buffer as ArrayBuffer]);
  schedule();
}

function schedule(): void {
  if (scheduled || (urgent.length === 0 && normal.length === 0)) return;
  scheduled = true;
  // setImmediate runs after the event loop has taken in the messages that arrived meanwhile.
  setImmediate(runNext);
}

parentPort?.on("message", (job: Job) => {
  (job.urgent ? urgent : normal).push(job);
  schedule();
});
