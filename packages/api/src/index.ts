// Cairn's interface layer (FG DLT: Interface): the node's HTTP API. The node implements
// ApiBackend; this package turns it into JSON/msgpack routes and a server-sent event stream.

export type {
  BlockEventJson,
  BlockJson,
  CommitJson,
  ContractJson,
  EvidenceJson,
  HeaderJson,
  JsonValue,
  ProofJson,
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
  CommittedBlockEvent,
  ContractView,
  EvidenceView,
  NodeStatus,
  QueryRequest,
  QueryResult,
  StateProofView,
  StateView,
  SubmitResult,
  TxLookup,
} from "./backend.ts";
export { ApiError, ERROR_STATUS, RETRYABLE_CODES, statusForCode } from "./errors.ts";
export { MSGPACK, packResponse, wantsMsgpack } from "./negotiate.ts";
export { type ApiServer, type ApiServerOptions, createApiServer } from "./server.ts";
