// Worker thread body of the VerifyPool: verifies packed batches with OpenSSL and answers with one
// result byte per item. Jobs wait here, urgent ones first; one job runs per turn of the event loop,
// so an urgent job that arrives while others wait is taken next, not after them.
import { parentPort } from "node:worker_threads";
import { verifyPacked } from "./verify-batch.ts";

interface Job {
  id: number;
  buf: ArrayBuffer;
  count: number;
  urgent: boolean;
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
