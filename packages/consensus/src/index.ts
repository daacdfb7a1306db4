// Cairn's consistency layer (FG DLT: Consistency — consensus, legitimate validation, data
// synchronization). Engines implement ConsensusEngine; `solo` runs a one-validator chain.

export {
  BftEngine,
  type BftEngineComponents,
  type BftEngineOptions,
  type ConsensusTransport,
  createBftEngine,
  defaultBftEngineOptions,
  type MessageVerdict,
  type SafetyStore,
  verdictOf,
} from "./bft/engine.ts";
export {
  bodyMatchesHeader,
  type ConsensusEvidence,
  decodeConsensusEvidence,
  decodeEvidence,
  encodeConsensusEvidence,
  encodeEvidence,
  evidenceAt,
  evidenceAuthor,
  evidenceId,
  type InvalidProposalContext,
  InvalidProposalReason,
  proposalHeader,
  type SignedProposalHeader,
  verifyConsensusEvidence,
  verifyEvidence,
} from "./bft/evidence.ts";
export { FutureBuffer, type FutureBufferLimits } from "./bft/future.ts";
// The Tendermint BFT core (issue [2/6]): a deterministic state machine, not yet wired to the network.
export {
  type ConsensusMessage,
  decodeConsensusMessage,
  decodeProposal,
  decodeVote,
  encodeConsensusMessage,
  encodeProposal,
  encodeVote,
  isNil,
  NIL_HASH,
  PROPOSAL_SIGN_DOMAIN,
  type Proposal,
  proposalSigningBytes,
  signProposal,
  signVote,
  type Vote,
} from "./bft/messages.ts";
export { defaultTendermintOptions, type TendermintOptions } from "./bft/options.ts";
export { proposerSchedule } from "./bft/proposer.ts";
export { decodeSafetyRecord, encodeSafetyRecord, type HeldBlock, type SafetyRecord } from "./bft/record.ts";
export {
  createTendermint,
  type Effect,
  type ProposedBlock,
  RejectCode,
  Step,
  type Tendermint,
  type TendermintConfig,
  type TendermintStatus,
  type Timeout,
} from "./bft/tendermint.ts";
export { type AddVoteResult, type Evidence, MAX_VOTES_PER_VALIDATOR, VoteSet } from "./bft/vote-set.ts";
export { ConsensusError, quorumPower, type VerifyFn, verifyCommit, verifyCommitTrusting } from "./commit.ts";
export { BlockExecutor, type BlockExecutorComponents, type CommitSource, createBlockExecutor } from "./executor.ts";
export {
  type CommittedBlockReport,
  type ConsensusTelemetry,
  type ConsensusTracePoint,
  noopConsensusTelemetry,
} from "./metrics.ts";
export {
  defaultRaftOptions,
  type HardState,
  RaftCore,
  type RaftCoreConfig,
  type RaftEffect,
  type RaftOptions,
  type RaftRole,
  type RaftStatus,
} from "./raft/core.ts";
export {
  createRaftEngine,
  defaultRaftEngineOptions,
  RaftEngine,
  type RaftEngineComponents,
  type RaftEngineOptions,
  type RaftStore,
} from "./raft/engine.ts";
export {
  type AppendReply,
  type AppendRequest,
  decodeRaftMessage,
  encodeRaftMessage,
  RAFT_SIGN_DOMAIN,
  type RaftEntry,
  type RaftMessage,
  raftSigningBytes,
  recipientOf,
  type VoteReply,
  type VoteRequest,
} from "./raft/messages.ts";
export { decodeResendBatch, encodeResendBatches, RESEND_BATCH_BYTES } from "./resend.ts";
export { defaultSoloOptions, type SoloOptions } from "./solo/options.ts";
export { createSoloEngine, type SoloComponents, SoloEngine } from "./solo/solo.ts";
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
export {
  BlockFetcher,
  type BlockFetcherOptions,
  type BlockSource,
  defaultBlockFetcherOptions,
  type FetchedBlocks,
} from "./sync/fetcher.ts";
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
