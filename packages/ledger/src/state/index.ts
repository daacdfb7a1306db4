// World state of the ledger (FG DLT: Ledger / status) and its sparse Merkle state tree.
// verifyStateProof and the hashing helpers are browser-safe (only @cairn/crypto).
export { StateError, type StateErrorCode } from "./errors.ts";
export {
  bitAt,
  decodeStateKey,
  emptyStateRoot,
  encodeContractPrefix,
  encodeStateKey,
  MAX_CONTRACT_ID_BYTES,
  STATE_HASH_LENGTH,
  stateInternalHash,
  stateKeyHash,
  stateLeafHash,
} from "./hashing.ts";
export type { StateChange, StateOverlay } from "./overlay.ts";
export { decodeStateProof, encodeStateProof, type StateProof, verifyStateProof } from "./proof.ts";
export { type StateCheck, verifyStateTree } from "./verify.ts";
export {
  createWorldState,
  type IterateStateOptions,
  type PreparedState,
  STATE_TREE_COLUMN,
  STATE_VALUES_COLUMN,
  type WorldState,
  type WorldStateOptions,
} from "./world-state.ts";
