// Cairn's SDK: keys, transaction building and signing, and a fetch-based client of a node's API.
// Runs in Node and in browsers: it uses only @cairn/crypto's pure-JS root, @cairn/messaging, the
// ledger's state-proof check (@cairn/ledger/state-proof, pure) and fetch.

export { fromHex, toHex } from "@cairn/crypto";
export {
  CONSENSUS_KINDS,
  type ConsensusKind,
  LOG_LINE_LEVELS,
  type PrivateRef,
  type PrivateWrite,
  privateKeyHash,
  privateRef,
  privateValueHash,
  signTransaction,
  TRACE_POINTS,
  type TracePoint,
  type Value,
} from "@cairn/messaging";
export {
  type CairnClient,
  type ClientOptions,
  createClient,
  type SendOptions,
  type Signer,
  type SignerOptions,
  type SubmitOptions,
  type SubscribeOptions,
  type WaitOptions,
} from "./client.ts";
export { CairnApiError, CairnClientError } from "./errors.ts";
export {
  type CollectionInfo,
  createGovApi,
  GOV_ACTIONS,
  GOV_CONTRACT,
  type GovApi,
  type GovEvents,
  type GovIdentityInfo,
  type GovNodeInfo,
  type GovParamsInfo,
  type GovProposalsOptions,
  type GovSigner,
  type GovTxOptions,
  type GovTxResult,
  type GovValidatorsInfo,
  govEvents,
  governance,
  type OrganizationInfo,
  type ProposalInfo,
  type ProposalStatus,
} from "./gov.ts";
export { encodeKeyFile, generateKey, type KeyFile, type KeyPair, keyFromSecret, parseKeyFile } from "./keys.ts";
export { type MetricSample, Metrics, parseMetrics } from "./metrics.ts";
export { type PrivateDataInfo, type PrivateHashInfo, pkv, privateWrite } from "./private.ts";
export { type SseMessage, SseParser } from "./sse.ts";
export {
  type BuildTransactionParams,
  buildTransaction,
  type ContractCall,
  call,
  contracts,
  decodeBalance,
  kv,
  NONCE_BYTES,
  token,
} from "./tx.ts";
export type {
  ApiErrorBody,
  BatchSubmitResult,
  BlockEvent,
  BlockHeaderInfo,
  BlockInfo,
  CommitInfo,
  ConsensusEventInfo,
  ConsensusEventsInfo,
  ContractInfo,
  InclusionProof,
  JsonValue,
  LogLineInfo,
  LogsInfo,
  NodeRole,
  QueryResult,
  Receipt,
  StateInfo,
  StatusInfo,
  SubmitResult,
  TxFields,
  TxInfo,
  TxStatus,
  TxTraceInfo,
  ValidatorInfo,
} from "./types.ts";
export {
  computeBlockHash,
  verifyBlockCommit,
  verifyStateInfo,
  verifyTxInBlock,
  verifyTxInclusion,
} from "./verify.ts";
