import {
  ContractError,
  type ContractMeta,
  type ContractRegistry,
  PRIVATE_CONTRACT,
  privateStateKey,
  tokenContract,
  tokenGenesisState,
  type WasmResult,
  WasmRunner,
  type WasmState,
} from "@cairn/contracts";
import { concatBytes, equalBytes, type MerkleProof, MerkleTree, merkleRoot, sha256, toHex } from "@cairn/crypto";
import { type ChainRegistry, GOV_CONTRACT, governanceGenesisState, loadRegistry, type Role } from "@cairn/management";
import {
  type Block,
  type BlockHeader,
  blockHash,
  type Commit,
  type ConsensusKind,
  type ContractEvent,
  decode,
  decodeBlock,
  decodeCommit,
  decodeReceipt,
  decodeTransaction,
  encode,
  encodeBlock,
  encodeCommit,
  encodeReceipt,
  MessagingError,
  RECEIPT_OK,
  type Receipt,
  type SignedTransaction,
  type Validator,
  type Value,
  validatorsHash,
  ZERO_HASH,
} from "@cairn/messaging";
import type { Database, WriteBatch } from "@cairn/storage";
import { Columns, readU32be, readU64be, u32be, u64be } from "./columns.ts";
import { LedgerError } from "./errors.ts";
import { type Genesis, genesisHash } from "./genesis.ts";
import { type CommittedPrivateWrite, PrivateDataStore } from "./private/store.ts";
import type { SnapshotEntry, SnapshotManifest } from "./snapshot/format.ts";
import {
  createWorldState,
  decodeStateKey,
  type PreparedState,
  type StateOverlay,
  type WorldState,
} from "./state/index.ts";

/** Gas every transaction pays before its method's own cost: signature check, indexing, storage of the envelope. */
export const INTRINSIC_GAS = 10;

const HEAD_KEY = new TextEncoder().encode("head");
const GENESIS_KEY = new TextEncoder().encode("genesis");
/** u64be: the first block this ledger holds, when it began from a snapshot (state sync) instead of genesis. */
const BASE_KEY = new TextEncoder().encode("base");
/** u64be height: present while a snapshot is being restored; the state is not the head's until it is gone. */
const RESTORING_KEY = new TextEncoder().encode("restoring");

/** The latest committed block, as the ledger keeps it in memory. */
export interface LedgerHead {
  readonly height: number;
  /** Hash of the latest block; the genesis hash at height 0. */
  readonly hash: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** Header time of the latest block; genesisTime at height 0. */
  readonly time: number;
}

/** What a consensus engine proposes for the next height. */
export interface BlockProposal {
  readonly time: number;
  readonly proposer: Uint8Array;
  readonly txs: readonly SignedTransaction[];
  /** Certificate of the parent block (null at height 1). */
  readonly lastCommit: Commit | null;
  /**
   * The proposer's own block: a transaction that may not be in a block at all (replayed, expired,
   * another chain's) is left out (`ExecutedBlock.excluded`), and execution stops before the first
   * transaction that would take the block past maxBlockGas, the block holding the transactions
   * before it (the rest stay in the mempool for a later block). Without it, either makes the
   * block INVALID_BLOCK.
   */
  readonly fill?: boolean;
  /**
   * With `fill`: a `performance.now()` time after which no further transaction is started (at
   * least one is). A proposer on a busy node proposes what it executed in time, the rest staying
   * in its mempool, rather than a block that arrives after its round's propose timeout.
   */
  readonly deadline?: number;
}

/** A block executed against the current state but not yet committed: consensus may still drop it. */
export interface ExecutedBlock {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly txs: readonly SignedTransaction[];
  readonly receipts: readonly Receipt[];
  /** Canonical encodings of `receipts`: hashed into receiptRoot and stored as they are. */
  readonly encodedReceipts: readonly Uint8Array[];
  readonly gasUsed: number;
  /** The state root this block was executed on: it can only be committed on top of it. */
  readonly parentHash: Uint8Array;
  readonly prepared: PreparedState;
  /** Private writes the block committed (their hashes became their keys' hashes): docs/privacy.md. */
  readonly privateWrites: readonly CommittedPrivateWrite[];
  /** With `fill`: the proposal's transactions that may not be in a block (replayed, expired), left out. */
  readonly excluded: readonly SignedTransaction[];
}

/** A block restored with a snapshot (state sync): checked by the caller against a certified header. */
export interface RestoredBlock {
  readonly block: Block;
  readonly commit: Commit;
  /** Its receipts' canonical encodings (they hash to the header's receiptRoot). */
  readonly receipts: readonly Uint8Array[];
}

export interface TxLocation {
  readonly height: number;
  readonly index: number;
}

export interface LedgerOptions {
  readonly db: Database;
  readonly genesis: Genesis;
  readonly contracts: ContractRegistry;
  /** fsync each committed block (default true). */
  readonly sync?: boolean;
  /** Runs deployed WebAssembly contracts (default: one with its own VM and module cache). */
  readonly wasm?: WasmRunner;
  /** Gas bound of a read-only query (default: the chain's maxTxGas). */
  readonly maxQueryGas?: number;
}

/** A contract as `Ledger.contract` describes it. */
export type ContractInfo =
  | { readonly name: string; readonly kind: "native"; readonly methods: readonly string[] }
  | ({ readonly name: string; readonly kind: "wasm" } & ContractMeta);

/** The answer to a read-only query, with the committed height it was computed at. */
export type QueryResult = WasmResult & { readonly height: number };

function replayKey(tx: SignedTransaction): Uint8Array {
  return concatBytes(tx.tx.sender, tx.tx.nonce);
}

function encodeHead(h: LedgerHead): Uint8Array {
  return encode([h.height, h.hash, h.stateRoot, h.time]);
}

function decodeHead(b: Uint8Array): LedgerHead {
  const f = decode(b) as Value[];
  return { height: f[0] as number, hash: f[1] as Uint8Array, stateRoot: f[2] as Uint8Array, time: f[3] as number };
}

/**
 * The ledger (FG DLT: Ledger): executes blocks of transactions against the world state and keeps
 * blocks, receipts, commit certificates and indexes in one database. A block and everything it
 * changes are written in one atomic batch, so after a crash the ledger is at the last fully
 * committed height.
 */
export class Ledger {
  readonly genesis: Genesis;
  readonly genesisHash: Uint8Array;
  readonly state: WorldState;
  /** This node's private data (plaintext of the collections its organisation is a member of). */
  readonly privateData: PrivateDataStore;
  private readonly db: Database;
  private readonly contracts: ContractRegistry;
  private readonly wasm: WasmRunner;
  private readonly maxQueryGas: number;
  private readonly adminKeys: Set<string>;
  private readonly sync: boolean;
  private headValue: LedgerHead;
  private baseValue = 1;
  private restoringValue = false;
  private registryValue: ChainRegistry;
  private readonly registryListeners = new Set<(registry: ChainRegistry) => void>();
  private readonly commitListeners = new Set<(executed: ExecutedBlock, commit: Commit) => void>();
  /**
   * The last few committed blocks decoded, with their transaction trees: clients waiting for a
   * block's transactions look them up one by one, and each lookup would otherwise decode the
   * block's receipts and rehash its transactions again. Committed blocks never change.
   */
  private readonly recentBlocks = new Map<number, Promise<RecentBlock | undefined>>();
  /** Every replay entry expiring before this height is deleted on disk (see pruneReplay). */
  private replayPrunedBelow = 0;
  /** The next block's expired replay entries, read ahead (see scanExpiredAhead). */
  private expiredAhead:
    | { height: number; keys: Promise<{ keys: Uint8Array[]; below: number } | undefined> }
    | undefined;

  private constructor(
    opts: LedgerOptions,
    state: WorldState,
    head: LedgerHead,
    registry: ChainRegistry,
    privateData: PrivateDataStore,
  ) {
    this.db = opts.db;
    this.genesis = opts.genesis;
    this.genesisHash = genesisHash(opts.genesis);
    this.contracts = opts.contracts;
    this.wasm = opts.wasm ?? new WasmRunner();
    this.maxQueryGas = opts.maxQueryGas ?? opts.genesis.params.maxTxGas;
    this.state = state;
    this.privateData = privateData;
    this.sync = opts.sync ?? true;
    this.adminKeys = new Set(opts.genesis.admins.map(toHex));
    this.headValue = head;
    this.registryValue = registry;
  }

  /** Opens the ledger in `db`, writing the genesis state on first use. */
  static async open(opts: LedgerOptions): Promise<Ledger> {
    const gHash = genesisHash(opts.genesis);
    const state = await createWorldState(opts.db);
    const privateData = await PrivateDataStore.open(opts.db);
    const stored = await opts.db.get(Columns.meta, GENESIS_KEY);
    if (stored !== undefined) {
      if (!equalBytes(stored, gHash)) {
        throw new LedgerError(
          "GENESIS_MISMATCH",
          `this database belongs to the chain with genesis ${toHex(stored)}, not ${toHex(gHash)}`,
        );
      }
      const head = await opts.db.get(Columns.meta, HEAD_KEY);
      if (head === undefined) throw new LedgerError("CORRUPT_DATABASE", "the database has a genesis but no head");
      const ledger = new Ledger(opts, state, decodeHead(head), await readRegistry(state), privateData);
      const base = await opts.db.get(Columns.meta, BASE_KEY);
      if (base !== undefined) ledger.baseValue = readU64be(base);
      ledger.restoringValue = (await opts.db.get(Columns.meta, RESTORING_KEY)) !== undefined;
      return ledger;
    }
    // First start: the genesis accounts and governance (organisations, identities, validator set,
    // node registry) become the state at height 0.
    const g = opts.genesis;
    const overlay = state.overlay();
    for (const [key, value] of tokenGenesisState(g.accounts)) overlay.set(tokenContract.name, key, value);
    const gov = governanceGenesisState({
      organizations: g.organizations ?? [],
      validators: g.validators,
      nodes: g.members.map((m) => ({ name: m.name, peerId: m.peerId, org: m.org ?? "" })),
      params: {
        thresholdPercent: g.params.govThresholdPercent,
        proposalTtl: g.params.proposalTtl,
        validatorDelay: g.params.validatorDelay,
        ...(g.consensus === "raft" ? { oneValidatorChange: true } : {}),
      },
    });
    for (const [key, value] of gov) overlay.set(GOV_CONTRACT, key, value);
    const prepared = await state.prepare(overlay);
    const batch = opts.db.batch();
    state.commit(prepared, batch);
    const head: LedgerHead = { height: 0, hash: gHash, stateRoot: prepared.root, time: opts.genesis.genesisTime };
    batch.put(Columns.meta, GENESIS_KEY, gHash);
    batch.put(Columns.meta, HEAD_KEY, encodeHead(head));
    await batch.write({ sync: true });
    return new Ledger(opts, state, head, await readRegistry(state), privateData);
  }

  head(): LedgerHead {
    return this.headValue;
  }

  /** The first block this ledger holds: 1, or past it when the node began from a snapshot (state sync). */
  base(): number {
    return this.baseValue;
  }

  /**
   * True when a snapshot restore was interrupted (a crash during state sync): the state is partly
   * restored and is not the head's, so the node must finish a state sync before anything else.
   */
  get restoreInterrupted(): boolean {
    return this.restoringValue;
  }

  /**
   * First step of beginning from a snapshot (state sync), on a ledger at height 0: replaces the
   * world state by the snapshot's verified chunks and checks the result against the manifest's
   * state root. Returns the registry of the restored state (whose validator set the caller checks
   * the snapshot block's certificate against) and leaves the ledger marked as restoring until
   * finishRestore writes the blocks and the head.
   */
  async restoreState(manifest: SnapshotManifest, chunks: Iterable<readonly SnapshotEntry[]>): Promise<ChainRegistry> {
    if (this.headValue.height !== 0) {
      throw new LedgerError(
        "NOT_EMPTY",
        `a snapshot restores only onto an empty ledger; this one is at ${this.headValue.height}`,
      );
    }
    await this.db.batch().put(Columns.meta, RESTORING_KEY, u64be(manifest.height)).write({ sync: true });
    this.restoringValue = true;
    // Keys present before (the genesis state, or what an interrupted restore wrote) that the
    // snapshot does not hold are deleted at the end.
    const leftover = new Map<string, Uint8Array>();
    for await (const [k] of this.state.committedEntries()) leftover.set(Buffer.from(k).toString("latin1"), k);
    const apply = async (fill: (overlay: StateOverlay) => void) => {
      const overlay = this.state.overlay();
      fill(overlay);
      const prepared = await this.state.prepare(overlay);
      const batch = this.db.batch();
      this.state.commit(prepared, batch);
      await batch.write({ sync: false });
    };
    for (const entries of chunks) {
      await apply((overlay) => {
        for (const [stateKey, value] of entries) {
          const { contract, key } = decodeStateKey(stateKey);
          overlay.set(contract, key, value);
          leftover.delete(Buffer.from(stateKey).toString("latin1"));
        }
      });
    }
    await apply((overlay) => {
      for (const stateKey of leftover.values()) {
        const { contract, key } = decodeStateKey(stateKey);
        overlay.delete(contract, key);
      }
    });
    if (!equalBytes(this.state.root(), manifest.stateRoot)) {
      throw new LedgerError("BAD_SNAPSHOT", "the restored state does not have the snapshot's state root");
    }
    return readRegistry(this.state);
  }

  /**
   * Last step of beginning from a snapshot: stores the blocks up to the snapshot's height (the last
   * one is the snapshot's block; those before it let the replay window and block queries work),
   * with their certificates, receipts and indexes, and makes the snapshot's block the head.
   */
  async finishRestore(manifest: SnapshotManifest, blocks: readonly RestoredBlock[]): Promise<void> {
    if (!this.restoringValue) throw new LedgerError("NOT_RESTORING", "restoreState has not run");
    const last = blocks[blocks.length - 1];
    if (last === undefined || last.block.header.height !== manifest.height) {
      throw new LedgerError("BAD_SNAPSHOT", "the restored blocks must end with the snapshot's block");
    }
    const lastHash = blockHash(last.block.header);
    if (!equalBytes(lastHash, manifest.blockHash) || !equalBytes(last.block.header.stateRoot, this.state.root())) {
      throw new LedgerError("BAD_SNAPSHOT", "the snapshot's block does not match the restored state");
    }
    const batch = this.db.batch();
    for (const { block, commit, receipts } of blocks) {
      const h = block.header.height;
      const hKey = u64be(h);
      batch.put(Columns.blocks, hKey, encodeBlock(block));
      batch.put(Columns.blockHashes, blockHash(block.header), hKey);
      batch.put(Columns.commits, hKey, encodeCommit(commit));
      batch.put(Columns.receipts, hKey, encode(receipts as Uint8Array[]));
      for (let i = 0; i < block.txs.length; i++) {
        const stx = decodeTransaction(block.txs[i] as Uint8Array);
        batch.put(Columns.txIndex, stx.hash, concatBytes(hKey, u32be(i)));
        // Only transactions that could still be included need replay protection.
        if (stx.tx.expiry > manifest.height) {
          const rk = replayKey(stx);
          batch.put(Columns.replay, rk, u32be(stx.tx.expiry));
          batch.put(Columns.replayByExpiry, concatBytes(u32be(stx.tx.expiry), rk), new Uint8Array(0));
        }
      }
    }
    const first = (blocks[0] as RestoredBlock).block.header.height;
    const h = last.block.header;
    const head: LedgerHead = { height: h.height, hash: lastHash, stateRoot: h.stateRoot, time: h.time };
    batch.put(Columns.meta, BASE_KEY, u64be(first));
    batch.put(Columns.meta, HEAD_KEY, encodeHead(head));
    batch.del(Columns.meta, RESTORING_KEY);
    await batch.write({ sync: true });
    this.headValue = head;
    this.baseValue = first;
    this.restoringValue = false;
    this.replayPrunedBelow = 0;
    this.expiredAhead = undefined;
    this.registryValue = await readRegistry(this.state);
    for (const l of this.registryListeners) l(this.registryValue);
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  /** The chain's consensus engine (genesis): what its commit certificates are. */
  get consensus(): ConsensusKind {
    return this.genesis.consensus ?? "tendermint";
  }

  /** The validator set deciding the next height. */
  validators(): readonly Validator[] {
    return this.validatorsAt(this.headValue.height + 1);
  }

  /**
   * The validator set that decides `height`, from the committed governance state: known up to
   * `validatorDelay` heights past the head, which lets consensus reconfigure at a defined height.
   */
  validatorsAt(height: number): readonly Validator[] {
    return this.registryValue.validatorsAt(height);
  }

  /** Organisations, identities and roles, the node registry and the validator schedule, as committed. */
  get registry(): ChainRegistry {
    return this.registryValue;
  }

  /**
   * Called after every durable commit, in height order, whoever committed the block (consensus or
   * block sync): the API's waits, event stream and metrics follow the ledger, not one engine.
   */
  onCommit(listener: (executed: ExecutedBlock, commit: Commit) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Called after each commit that changed the governance state, with the new registry. */
  onRegistryChange(listener: (registry: ChainRegistry) => void): () => void {
    this.registryListeners.add(listener);
    return () => this.registryListeners.delete(listener);
  }

  isAdmin(key: Uint8Array): boolean {
    return this.hasRole(key, "admin");
  }

  /**
   * Whether `key` holds `role`. On an open chain (no organisations) the genesis admins hold admin
   * and deployer, and every key holds the other roles.
   */
  hasRole(key: Uint8Array, role: Role): boolean {
    if (this.registryValue.permissioned) return this.registryValue.hasRole(key, role);
    return role === "admin" || role === "deployer" ? this.adminKeys.has(toHex(key)) : true;
  }

  /**
   * Admission checks that need the ledger but not a signature check (the mempool verifies those
   * in parallel): chain id, expiry window, replay against committed transactions, and the
   * contract's stateless argument check. One result per transaction: null when admissible.
   */
  async checkAdmission(txs: readonly SignedTransaction[]): Promise<(LedgerError | null)[]> {
    const height = this.headValue.height;
    const seen = await this.db.getMany(Columns.replay, txs.map(replayKey));
    // Deployed contracts are described in the committed state: look each one up once.
    const deployed = new Map<string, ContractMeta | undefined>();
    for (const stx of txs) {
      const name = stx.tx.contract;
      if (!this.contracts.has(name) && !deployed.has(name)) deployed.set(name, await this.wasm.meta(this.state, name));
    }
    return txs.map((stx, i) => {
      try {
        this.checkEnvelope(stx, height + 1);
        const refusal = this.registryValue.authorize(stx.tx.sender, stx.tx.contract, stx.tx.method);
        if (refusal !== null) throw new LedgerError(refusal.code, refusal.message);
        this.checkPrivate(stx);
        if (seen[i] !== undefined)
          throw new LedgerError("DUPLICATE", "a transaction with this sender and nonce was already committed");
        const { contract, method, args } = stx.tx;
        if (this.contracts.has(contract)) this.contracts.check(contract, method, args);
        else {
          const meta = deployed.get(contract);
          if (meta === undefined) throw new LedgerError("UNKNOWN_CONTRACT", `no contract named ${contract}`);
          if (!meta.methods.includes(method))
            throw new LedgerError("UNKNOWN_METHOD", `contract ${contract} has no method ${method}`);
        }
        return null;
      } catch (e) {
        return asLedgerError(e);
      }
    });
  }

  /**
   * A transaction naming private writes: every collection exists, and a members-only collection
   * takes writes only from identities of its member organisations (docs/privacy.md).
   */
  private checkPrivate(stx: SignedTransaction): void {
    for (const ref of stx.tx.private ?? []) {
      const c = this.registryValue.collection(ref.collection);
      if (c === undefined) {
        throw new LedgerError(
          "NO_SUCH_COLLECTION",
          `no collection named ${ref.collection}: governance defines collections (define-collection)`,
        );
      }
      if (c.memberOnlyWrite && !this.registryValue.isCollectionMember(c, stx.tx.sender)) {
        throw new LedgerError(
          "NOT_A_MEMBER",
          `collection ${c.name} takes writes only from identities of ${c.members.join(", ")}`,
        );
      }
    }
  }

  /** Checks that hold for a transaction included at `height`, whatever else is in the block. */
  private checkEnvelope(stx: SignedTransaction, height: number): void {
    const { tx } = stx;
    if (tx.chainId !== this.genesis.chainId) {
      throw new LedgerError("WRONG_CHAIN", `transaction is for chain ${tx.chainId}, this is ${this.genesis.chainId}`);
    }
    if (stx.bytes.length > this.genesis.params.maxTxBytes) {
      throw new LedgerError(
        "TX_TOO_LARGE",
        `transaction is ${stx.bytes.length} bytes; the limit is ${this.genesis.params.maxTxBytes}`,
      );
    }
    if (tx.expiry < height)
      throw new LedgerError("EXPIRED", `transaction expired at height ${tx.expiry}; next height is ${height}`);
    if (tx.expiry > height + this.genesis.params.maxTxTtl) {
      throw new LedgerError(
        "EXPIRY_TOO_FAR",
        `expiry ${tx.expiry} is more than ${this.genesis.params.maxTxTtl} blocks past height ${height}`,
      );
    }
  }

  /**
   * Executes a proposed block on top of the current head without changing anything: the result
   * can be committed with `commit`, or dropped. Transactions whose contract call fails are kept
   * with a failed receipt and their writes reverted; a transaction that may not be in a block at
   * all (wrong chain, expired, replayed, oversized) makes the whole block invalid, or with `fill`
   * is left out.
   */
  async execute(proposal: BlockProposal): Promise<ExecutedBlock> {
    const parent = this.headValue;
    const height = parent.height + 1;
    const params = this.genesis.params;
    if (proposal.txs.length > params.maxBlockTxs) {
      throw new LedgerError(
        "INVALID_BLOCK",
        `block has ${proposal.txs.length} transactions; the limit is ${params.maxBlockTxs}`,
      );
    }
    if (proposal.time < parent.time) throw new LedgerError("INVALID_BLOCK", "block time is earlier than its parent's");
    const fill = proposal.fill === true;
    let bytes = 0;
    const keys = proposal.txs.map(replayKey);
    const committed = await this.db.getMany(Columns.replay, keys);
    const inBlock = new Set<string>();
    let txs: SignedTransaction[] = [];
    const excluded: SignedTransaction[] = [];
    for (let i = 0; i < proposal.txs.length; i++) {
      const stx = proposal.txs[i] as SignedTransaction;
      let why: string | undefined;
      try {
        this.checkEnvelope(stx, height);
      } catch (e) {
        why = `transaction ${i}: ${(e as Error).message}`;
      }
      const k = toHex(keys[i] as Uint8Array);
      if (why === undefined && (committed[i] !== undefined || inBlock.has(k))) {
        why = `transaction ${i} replays a sender and nonce`;
      }
      if (why !== undefined) {
        if (!fill) throw new LedgerError("INVALID_BLOCK", why);
        excluded.push(stx);
        continue;
      }
      inBlock.add(k);
      bytes += stx.bytes.length;
      txs.push(stx);
    }
    if (bytes > params.maxBlockBytes) {
      throw new LedgerError(
        "INVALID_BLOCK",
        `block carries ${bytes} transaction bytes; the limit is ${params.maxBlockBytes}`,
      );
    }

    const overlay = this.state.overlay();
    const receipts: Receipt[] = [];
    const privateWrites: CommittedPrivateWrite[] = [];
    let gasUsed = 0;
    const deadline = fill ? proposal.deadline : undefined;
    for (const [i, stx] of txs.entries()) {
      if (deadline !== undefined && i > 0 && performance.now() >= deadline) {
        txs = txs.slice(0, i);
        break;
      }
      const checkpoint = overlay.checkpoint();
      const r = await this.executeTx(overlay, stx, height, proposal.time);
      // Checked as each transaction ends, so an oversized block costs a validator no more than
      // maxBlockGas and one transaction before it is refused.
      if (i > 0 && gasUsed + r.gasUsed > params.maxBlockGas) {
        if (!fill) {
          throw new LedgerError(
            "INVALID_BLOCK",
            `transaction ${i} takes the block past maxBlockGas (${params.maxBlockGas} gas)`,
          );
        }
        overlay.revertTo(checkpoint);
        txs = txs.slice(0, i);
        break;
      }
      gasUsed += r.gasUsed;
      receipts.push(r);
      if (r.code === RECEIPT_OK && stx.tx.private !== undefined) {
        // A write counts once its contract recorded it: its key's hash is now its value hash.
        for (const ref of stx.tx.private) {
          const now = await overlay.get(PRIVATE_CONTRACT, privateStateKey(ref.collection, ref.keyHash));
          if (now !== undefined && equalBytes(now, ref.valueHash)) privateWrites.push({ ref, tx: stx });
        }
      }
    }
    const prepared = await this.state.prepare(overlay);
    const encodedReceipts = receipts.map(encodeReceipt);
    const header: BlockHeader = {
      chainId: this.genesis.chainId,
      height,
      time: proposal.time,
      prevHash: parent.hash,
      txRoot: merkleRoot(txs.map((t) => t.bytes)),
      stateRoot: prepared.root,
      receiptRoot: merkleRoot(encodedReceipts),
      lastCommitHash: proposal.lastCommit === null ? ZERO_HASH : sha256(encodeCommit(proposal.lastCommit)),
      validatorsHash: validatorsHash(this.validatorsAt(height)),
      proposer: proposal.proposer,
      txCount: txs.length,
    };
    const block: Block = { header, txs: txs.map((t) => t.bytes), lastCommit: proposal.lastCommit };
    return {
      block,
      hash: blockHash(header),
      txs,
      receipts,
      encodedReceipts,
      gasUsed,
      parentHash: parent.hash,
      prepared,
      privateWrites,
      excluded,
    };
  }

  private async executeTx(
    overlay: StateOverlay,
    stx: SignedTransaction,
    height: number,
    time: number,
  ): Promise<Receipt> {
    const { tx } = stx;
    const checkpoint = overlay.checkpoint();
    const events: ContractEvent[] = [];
    let gas = INTRINSIC_GAS;
    // Privileges as of the parent block: a membership change applies from the next block on.
    const refusal = this.registryValue.authorize(tx.sender, tx.contract, tx.method);
    if (refusal !== null)
      return { txHash: stx.hash, code: refusal.code, message: refusal.message, events, gasUsed: gas };
    try {
      this.checkPrivate(stx);
    } catch (e) {
      const err = e as LedgerError;
      return { txHash: stx.hash, code: err.code, message: err.message, events, gasUsed: gas };
    }
    const refs = tx.private ?? [];
    if (!this.contracts.has(tx.contract)) {
      const r = await this.wasm.call(this.wasmState(overlay), {
        contract: tx.contract,
        method: tx.method,
        args: tx.args,
        caller: tx.sender,
        height,
        time,
        gasLimit: this.genesis.params.maxTxGas,
        private: refs,
      });
      gas += r.gasUsed;
      if (!r.ok) {
        overlay.revertTo(checkpoint);
        return { txHash: stx.hash, code: r.code, message: r.message.slice(0, 1024), events: [], gasUsed: gas };
      }
      const contract = tx.contract;
      for (const e of r.events) events.push({ contract, name: e.name, data: e.data });
      return { txHash: stx.hash, code: RECEIPT_OK, message: "", events, gasUsed: gas };
    }
    try {
      const method = this.contracts.method(tx.contract, tx.method);
      method.check(tx.args);
      gas += method.gas;
      const contract = tx.contract;
      await method.execute(
        {
          sender: tx.sender,
          height,
          time,
          storage: {
            get: (key) => overlay.get(contract, key),
            set: (key, value) => overlay.set(contract, key, value),
            delete: (key) => overlay.delete(contract, key),
          },
          isAdmin: (key) => this.isAdmin(key),
          hasRole: (key, role) => this.hasRole(key, role as Role),
          emit: (name, data) => {
            events.push({ contract, name, data });
          },
          private: refs,
          collectionMember: (name, key) => {
            const c = this.registryValue.collection(name);
            return c === undefined ? undefined : this.registryValue.isCollectionMember(c, key);
          },
          chargeGas: (amount) => {
            gas += amount;
          },
        },
        tx.args,
      );
      return { txHash: stx.hash, code: RECEIPT_OK, message: "", events, gasUsed: gas };
    } catch (e) {
      overlay.revertTo(checkpoint);
      const err = asLedgerError(e);
      return { txHash: stx.hash, code: err.code, message: err.message.slice(0, 1024), events: [], gasUsed: gas };
    }
  }

  /** The block's overlay as the WebAssembly runner sees it. */
  private wasmState(overlay: StateOverlay): WasmState {
    return {
      get: (c, k) => overlay.get(c, k),
      getSync: (c, k) => overlay.getSync(c, k),
      set: (c, k, v) => overlay.set(c, k, v),
      delete: (c, k) => overlay.delete(c, k),
      written: (c, prefix) => overlay.written(c, prefix),
      committedKeys: (c, prefix, after, limit) => this.committedKeys(c, prefix, after, limit),
      checkpoint: () => overlay.checkpoint(),
      revertTo: (n) => overlay.revertTo(n),
    };
  }

  private async committedKeys(
    contract: string,
    prefix: Uint8Array,
    after: Uint8Array | undefined,
    limit: number,
  ): Promise<Uint8Array[]> {
    const keys: Uint8Array[] = [];
    const opts = after === undefined ? { prefix, limit } : { prefix, after, limit };
    for await (const [k] of this.state.iterate(contract, opts)) keys.push(k.slice());
    return keys;
  }

  /**
   * Runs a read-only method of a deployed contract on the committed state, bounded by
   * `maxQueryGas`. Writes and events fail the call (READ_ONLY); the caller is 32 zero bytes.
   */
  async query(contract: string, method: string, args: readonly Value[]): Promise<QueryResult> {
    const head = this.headValue;
    if (this.contracts.has(contract)) {
      const message = `${contract} is a native contract: read its state with GET /state/${contract}/KEY`;
      return { ok: false, code: "NOT_QUERYABLE", message, gasUsed: 0, height: head.height };
    }
    const reject = (): never => {
      throw new LedgerError("READ_ONLY", "a query cannot write");
    };
    const state: WasmState = {
      get: (c, k) => this.state.get(c, k),
      getSync: (c, k) => this.state.getSync(c, k),
      set: reject,
      delete: reject,
      written: () => [],
      committedKeys: (c, prefix, after, limit) => this.committedKeys(c, prefix, after, limit),
      checkpoint: () => 0,
      revertTo: () => {},
    };
    const r = await this.wasm.call(state, {
      contract,
      method,
      args,
      caller: new Uint8Array(32),
      height: head.height,
      time: head.time,
      gasLimit: this.maxQueryGas,
      readOnly: true,
    });
    return { ...r, height: head.height };
  }

  /** A native or deployed contract's description, or undefined when there is none with that name. */
  async contract(name: string): Promise<ContractInfo | undefined> {
    if (this.contracts.has(name)) return { name, kind: "native", methods: this.contracts.methods(name) };
    const meta = await this.wasm.meta(this.state, name);
    return meta === undefined ? undefined : { name, kind: "wasm", ...meta };
  }

  /**
   * Commits an executed block with its certificate in one atomic, fsynced batch: the block, its
   * receipts, the transaction and replay indexes, the state changes and the new head.
   */
  async commit(executed: ExecutedBlock, commit: Commit): Promise<void> {
    const head = this.headValue;
    if (!equalBytes(executed.parentHash, head.hash)) {
      throw new LedgerError("STALE_BLOCK", `block ${executed.block.header.height} was executed on a different parent`);
    }
    if (!equalBytes(commit.blockHash, executed.hash) || commit.height !== executed.block.header.height) {
      throw new LedgerError("BAD_COMMIT", "the certificate is for a different block");
    }
    const { header } = executed.block;
    const h = header.height;
    const hKey = u64be(h);
    const batch = this.db.batch();
    batch.put(Columns.blocks, hKey, encodeBlock(executed.block));
    batch.put(Columns.blockHashes, executed.hash, hKey);
    batch.put(Columns.commits, hKey, encodeCommit(commit));
    batch.put(Columns.receipts, hKey, encode(executed.encodedReceipts as Uint8Array[]));
    for (let i = 0; i < executed.txs.length; i++) {
      const stx = executed.txs[i] as SignedTransaction;
      batch.put(Columns.txIndex, stx.hash, concatBytes(hKey, u32be(i)));
      const rk = replayKey(stx);
      batch.put(Columns.replay, rk, u32be(stx.tx.expiry));
      batch.put(Columns.replayByExpiry, concatBytes(u32be(stx.tx.expiry), rk), new Uint8Array(0));
    }
    await this.pruneReplay(batch, h);
    const { privateWrites, receipts, txs } = executed;
    const privately = this.privateData.concerns(h, privateWrites, receipts, txs)
      ? await this.privateData.prepareCommit(batch, h, privateWrites, receipts, txs, this.registryValue)
      : undefined;
    this.state.commit(executed.prepared, batch);
    const next: LedgerHead = { height: h, hash: executed.hash, stateRoot: header.stateRoot, time: header.time };
    batch.put(Columns.meta, HEAD_KEY, encodeHead(next));
    await batch.write({ sync: this.sync });
    this.headValue = next;
    this.scanExpiredAhead(h + 1);
    if (privately !== undefined) this.privateData.afterCommit(privately);
    const governed = executed.txs.some(
      (t, i) => t.tx.contract === GOV_CONTRACT && executed.receipts[i]?.code === RECEIPT_OK,
    );
    if (governed) {
      this.registryValue = await readRegistry(this.state);
      for (const l of this.registryListeners) l(this.registryValue);
    }
    for (const l of this.commitListeners) l(executed, commit);
  }

  /**
   * Deletes the replay entries that expire at `height` or before: they can never match an
   * includable transaction again. Bounded per block so a burst of expiries cannot stall a commit:
   * at most as many as a block can add (maxBlockTxs), which keeps pace with any load, and spreads a
   * burst (transactions signed together share an expiry) over the next blocks. Before, up to 20,000
   * went at once: the commit that pruned a 20,000-entry burst took 267 ms instead of 4.
   */
  private async pruneReplay(batch: WriteBatch, height: number): Promise<void> {
    const ahead = this.expiredAhead;
    this.expiredAhead = undefined;
    const found = ahead?.height === height ? await ahead.keys : undefined;
    const { keys, below } = found ?? (await this.findExpired(height));
    for (const key of keys) {
      batch.del(Columns.replayByExpiry, key);
      batch.del(Columns.replay, key.subarray(4));
    }
    batch.onWritten(() => {
      this.replayPrunedBelow = Math.max(this.replayPrunedBelow, below);
    });
  }

  /**
   * The replay entries that expire at `height` or before, in expiry order, at most maxBlockTxs;
   * and the expiry below which none will be left once they are deleted. The scan starts at the
   * lowest expiry that may still have entries, not the column's start: LevelDB keeps a deleted key
   * as a tombstone until a compaction reaches it, and a scan from the start steps over them all.
   */
  private async findExpired(height: number): Promise<{ keys: Uint8Array[]; below: number }> {
    const limit = this.genesis.params.maxBlockTxs;
    const keys: Uint8Array[] = [];
    for await (const [key] of this.db.iterate(Columns.replayByExpiry, {
      gte: u32be(this.replayPrunedBelow),
      lt: u32be(Math.min(height + 1, 0xffffffff)),
      limit,
    })) {
      keys.push(key.slice());
    }
    // All entries expiring before `height` are then gone (a block's own entries expire at its
    // height or later); when the limit cut the scan, all those before the last one's expiry.
    const last = keys[keys.length - 1];
    return { keys, below: keys.length === limit && last !== undefined ? readU32be(last) : height };
  }

  /**
   * Starts the next block's scan as soon as this one is written, so that the next commit finds it
   * done: a commit waited 3 ms (p50) to 20 ms (p90) for it at 500 tx/s, its LevelDB read queued
   * behind the others in libuv's pool. Nothing else writes the column in between, so the result is
   * what the next commit's own scan would find.
   */
  private scanExpiredAhead(height: number): void {
    // A failed read (the database closing meanwhile) leaves the scan to the commit, if any.
    this.expiredAhead = { height, keys: this.findExpired(height).catch(() => undefined) };
  }

  async getBlock(height: number): Promise<Block | undefined> {
    const b = await this.db.get(Columns.blocks, u64be(height));
    return b === undefined ? undefined : decodeBlock(b);
  }

  async getHeightOfHash(hash: Uint8Array): Promise<number | undefined> {
    const h = await this.db.get(Columns.blockHashes, hash);
    return h === undefined ? undefined : readU64be(h);
  }

  async getCommit(height: number): Promise<Commit | undefined> {
    const c = await this.db.get(Columns.commits, u64be(height));
    return c === undefined ? undefined : decodeCommit(c);
  }

  async getReceipts(height: number): Promise<Receipt[] | undefined> {
    return (await this.getEncodedReceipts(height))?.map(decodeReceipt);
  }

  /** A block's receipts as stored: their canonical encodings, which hash into its receiptRoot. */
  async getEncodedReceipts(height: number): Promise<Uint8Array[] | undefined> {
    const r = await this.db.get(Columns.receipts, u64be(height));
    return r === undefined ? undefined : (decode(r) as Uint8Array[]);
  }

  async findTx(hash: Uint8Array): Promise<TxLocation | undefined> {
    const loc = await this.db.get(Columns.txIndex, hash);
    return loc === undefined ? undefined : { height: readU64be(loc), index: readU32be(loc, 8) };
  }

  /** A committed transaction with its receipt and its inclusion proof against the block's txRoot. */
  async getCommittedTx(hash: Uint8Array): Promise<
    | {
        tx: SignedTransaction;
        location: TxLocation;
        blockHash: Uint8Array;
        receipt: Receipt;
        proof: MerkleProof;
      }
    | undefined
  > {
    const location = await this.findTx(hash);
    if (location === undefined) return undefined;
    const recent = await this.recentBlock(location.height);
    if (recent === undefined) {
      throw new LedgerError("CORRUPT_DATABASE", `transaction index points at missing block ${location.height}`);
    }
    const envelope = recent.block.txs[location.index] as Uint8Array;
    return {
      tx: decodeTransaction(envelope),
      location,
      blockHash: recent.hash,
      receipt: recent.receipts[location.index] as Receipt,
      proof: recent.tree.proof(location.index),
    };
  }

  private recentBlock(height: number): Promise<RecentBlock | undefined> {
    let entry = this.recentBlocks.get(height);
    if (entry === undefined) {
      entry = Promise.all([this.getBlock(height), this.getReceipts(height)]).then(([block, receipts]) =>
        block === undefined || receipts === undefined
          ? undefined
          : { block, receipts, hash: blockHash(block.header), tree: new MerkleTree(block.txs) },
      );
      this.recentBlocks.set(height, entry);
      // Only blocks found are kept: a failed or empty read is tried again next time.
      const forget = () => this.recentBlocks.delete(height);
      entry.then((b) => b === undefined && forget(), forget);
      // Keep the newest few: lookups cluster on the blocks just committed.
      if (this.recentBlocks.size > 8) this.recentBlocks.delete(this.recentBlocks.keys().next().value as number);
    }
    return entry;
  }
}

function readRegistry(state: WorldState): Promise<ChainRegistry> {
  return loadRegistry({
    get: async (key) => state.get(GOV_CONTRACT, key),
    entries: (prefix) => state.iterate(GOV_CONTRACT, { prefix }),
  });
}

interface RecentBlock {
  readonly block: Block;
  readonly receipts: readonly Receipt[];
  readonly hash: Uint8Array;
  readonly tree: MerkleTree;
}

/** Contract and codec errors keep their codes; anything else is an execution error. */
function asLedgerError(e: unknown): LedgerError {
  if (e instanceof LedgerError) return e;
  if (e instanceof ContractError || e instanceof MessagingError) return new LedgerError(e.code, e.message);
  return new LedgerError("EXECUTION_ERROR", e instanceof Error ? e.message : String(e));
}

export function createLedger(opts: LedgerOptions): Promise<Ledger> {
  return Ledger.open(opts);
}
