// Cairn's interface layer (FG DLT: Interface): the node's HTTP API. The node implements
// ApiBackend; this package turns it into JSON/msgpack routes and a server-sent event stream.

export type {
  BlockEventJson,
  BlockJson,
  CollectionJson,
  CollectionsJson,
  CommitJson,
  ContractJson,
  EvidenceJson,
  GovIdentityJson,
  GovNodesJson,
  GovParamsJson,
  GovValidatorsJson,
  HeaderJson,
  JsonValue,
  OrganizationsJson,
  PrivateDataJson,
  PrivateHashJson,
  ProofJson,
  ProposalJson,
  ProposalListJson,
  QueryRequestJson,
  QueryResultJson,
  ReceiptJson,
  StateJson,
  StateProofJson,
  StatusJson,
  TxJson,
} from "@cairn/messaging";
export type {
  ApiBackend,
  BlockView,
  CollectionView,
  CommittedBlockEvent,
  ContractView,
  EvidenceQuery,
  EvidenceView,
  GovIdentityView,
  GovParamsView,
  IdentityView,
  MetricsExposition,
  NodeRecordView,
  NodeRole,
  NodeStatus,
  OrganizationView,
  PrivateDataView,
  PrivateHashView,
  ProposalFilter,
  ProposalStatusView,
  ProposalView,
  QueryRequest,
  QueryResult,
  ReadAccess,
  Readiness,
  RecentView,
  Refused,
  StateProofView,
  StateView,
  SubmitResult,
  TracePointView,
  TxLookup,
  TxTraceView,
  ValidatorScheduleView,
} from "./backend.ts";
export { ApiError, ERROR_STATUS, RETRYABLE_CODES, statusForCode } from "./errors.ts";
export { type ApiGuards, defaultApiGuards, WriteLimiter } from "./guards.ts";
export type { ConsoleAssets } from "./http.ts";
export { type ApiTelemetry, type ApiTracePoint, noopApiTelemetry } from "./metrics.ts";
export { MSGPACK, packResponse, wantsMsgpack } from "./negotiate.ts";
export { DEFAULT_PROPOSAL_LIMIT, MAX_PROPOSAL_LIMIT } from "./routes/gov.ts";
export { type ApiServer, type ApiServerOptions, createApiServer } from "./server.ts";
