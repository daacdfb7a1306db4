// Node-only half of the cipher library: OpenSSL-backed Ed25519 and parallel verification.
export { createNativeSigner, type NativeSigner, nativeSign, nativeVerify } from "./ed25519.ts";
export type { VerifyItem } from "./verify-batch.ts";
export {
  defaultVerifyPoolOptions,
  type VerifyBatchOptions,
  VerifyPool,
  VerifyPoolError,
  type VerifyPoolOptions,
} from "./verify-pool.ts";
