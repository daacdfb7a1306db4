// Cairn's ledger (FG DLT: Ledger — transaction, record, status). Blocks and receipts are the
// record, ./state the status (world state with its Merkle root).
export { Columns } from "./columns.ts";
export { LedgerError } from "./errors.ts";
export {
  type ChainParams,
  defaultChainParams,
  type Genesis,
  type GenesisAccount,
  type GenesisJson,
  type GenesisMember,
  type GenesisOrganization,
  genesisHash,
  genesisToJson,
  parseGenesis,
  type ReadAccess,
} from "./genesis.ts";
export {
  type BlockProposal,
  type ContractInfo,
  createLedger,
  type ExecutedBlock,
  INTRINSIC_GAS,
  Ledger,
  type LedgerHead,
  type LedgerOptions,
  type QueryResult,
  type RestoredBlock,
  type TxLocation,
} from "./ledger.ts";
export {
  type CommittedPrivateWrite,
  type MissingPrivate,
  type PrivateCommitSummary,
  PrivateDataStore,
  type PrivateRecord,
} from "./private/store.ts";
export {
  buildSnapshot,
  type ChunkRange,
  checkManifest,
  decodeManifest,
  encodeChunk,
  encodeManifest,
  manifestHash,
  PARTS,
  type PartRef,
  rootOfParts,
  SNAPSHOT_FORMAT,
  type SnapshotEntry,
  type SnapshotManifest,
  verifyChunk,
} from "./snapshot/format.ts";
export {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_SNAPSHOT_KEEP,
  type SnapshotOffer,
  SnapshotStore,
  type SnapshotStoreOptions,
} from "./snapshot/store.ts";
export * from "./state/index.ts";
