// Cairn's messaging layer (FG DLT: Messaging): one canonical encoding for everything that is
// hashed, signed, stored or sent, and the wire types built on it. docs/spec/ is the normative text.
export {
  BLOCK_VERSION,
  type Block,
  type BlockHeader,
  blockHash,
  decodeBlock,
  encodeBlock,
  encodeHeader,
  headerFromValue,
  headerToValue,
  ZERO_HASH,
} from "./block.ts";
export { decode, encode, MAX_DEPTH, type Value } from "./codec.ts";
export { MessagingError } from "./errors.ts";
export type {
  BlockEventJson,
  BlockJson,
  CommitJson,
  ContractJson,
  ErrorJson,
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
} from "./json.ts";
export {
  type ContractEvent,
  decodeReceipt,
  encodeReceipt,
  RECEIPT_OK,
  type Receipt,
  receiptFromValue,
  receiptToValue,
} from "./receipt.ts";
export { asArray, asBool, asBytes, asString, asUint } from "./schema.ts";
export {
  decodeTransaction,
  encodeTxBody,
  MAX_EXPIRY,
  MAX_NAME_BYTES,
  MAX_NONCE_BYTES,
  MAX_TX_BYTES,
  MIN_NONCE_BYTES,
  type SignedTransaction,
  signTransaction,
  type Transaction,
  TX_SIGN_DOMAIN,
  TX_VERSION,
  txSigningBytes,
  withSignature,
} from "./tx.ts";
export {
  type Commit,
  type CommitSignature,
  checkValidator,
  commitFromValue,
  commitToValue,
  decodeCommit,
  encodeCommit,
  type Validator,
  VOTE_SIGN_DOMAIN,
  type VoteData,
  VoteType,
  validatorsHash,
  voteSigningBytes,
} from "./vote.ts";
