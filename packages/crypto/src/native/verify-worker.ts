// Worker thread body of the VerifyPool: verifies packed batches with OpenSSL and answers with one
// result byte per item.
import { parentPort } from "node:worker_threads";
import { verifyPacked } from "./verify-batch.ts";

interface Job {
  id: number;
  buf: ArrayBuffer;
  count: number;
}

parentPort?.on("message", (job: Job) => {
  const result = verifyPacked(job.buf, job.count);
  parentPort?.postMessage({ id: job.id, result }, [result.buffer as ArrayBuffer]);
});
