// Cairn's consistency layer (FG DLT: Consistency — consensus, legitimate validation, data
// synchronization). Engines implement ConsensusEngine; `solo` runs a one-validator chain.
export { ConsensusError, quorumPower, type VerifyFn, verifyCommit } from "./commit.ts";
export { defaultSoloOptions, type SoloOptions } from "./solo/options.ts";
export { createSoloEngine, type SoloComponents, SoloEngine } from "./solo/solo.ts";
export type {
  CommitListener,
  ConsensusEngine,
  ConsensusStatus,
  ExecutedBlockView,
  HeadView,
  LedgerPort,
  Logger,
  MempoolPort,
  Signer,
} from "./types.ts";
export {
  applySyncedBlocks,
  BLOCK_SYNC_PROTOCOL,
  type BlockSyncLimits,
  decodeBlocksResponse,
  defaultBlockSyncLimits,
  encodeBlocksRequest,
  type SyncedBlock,
  type SyncLedgerPort,
  serveBlocks,
  syncFrom,
} from "./sync/block-sync.ts";
