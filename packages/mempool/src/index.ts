// The mempool of Cairn's consistency layer: where transactions wait, validated, for a block.
export {
  type AddResult,
  type AdmissionChecker,
  type AdmissionGate,
  Mempool,
  type MempoolComponents,
  type MempoolJournal,
  type Rejection,
  type SignatureVerifier,
} from "./mempool.ts";
export { type MempoolTelemetry, type MempoolTracePoint, noopMempoolTelemetry } from "./metrics.ts";
export { defaultMempoolOptions, type MempoolOptions } from "./options.ts";
