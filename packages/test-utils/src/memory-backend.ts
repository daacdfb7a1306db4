// An in-memory ApiBackend for tests of the API, the SDK and tools built on them (test support: no
// package's src/ imports it). It admits and
// executes transactions of the native "kv" and "token" contracts with real envelopes, Merkle roots
// and commit signatures, but it is a test double: one validator, no consensus, no persistence, and
// its state "proofs" are empty (its stateRoot is a plain hash of the whole state). kv and token run
// as @cairn/contracts' own native contracts (the same code a node runs, so their rules cannot
// differ); the admins of `admins` may mint, every key when it is absent.
//
// Contracts: it has no WebAssembly engine. The native "contracts" contract's deploy and upgrade
// record a module (checked with WebAssembly.validate; its methods are its exported functions), and
// a test gives a contract its behaviour as a function (`registerContract`, `setContractHandler`),
// which both transactions and queries call. Without a handler, a listed method does nothing.

import type {
  ApiBackend,
  BlockView,
  CommittedBlockEvent,
  ContractView,
  EvidenceView,
  GovIdentityView,
  GovParamsView,
  IdentityView,
  MetricsExposition,
  NodeRecordView,
  NodeStatus,
  OrganizationView,
  ProposalFilter,
  ProposalView,
  QueryRequest,
  QueryResult,
  ReadAccess,
  Readiness,
  StateView,
  SubmitResult,
  TxLookup,
  ValidatorScheduleView,
} from "@cairn/api";
import { type Contract, ContractError, kvContract, MAX_CODE_BYTES, tokenContract } from "@cairn/contracts";
import {
  compareBytes,
  fromHex,
  generateKeyPair,
  type KeyPair,
  merkleProof,
  merkleRoot,
  sha256,
  sign,
  toHex,
  utf8,
  verify,
} from "@cairn/crypto";
import {
  type Block,
  type BlockHeader,
  blockHash,
  CONTRACT_NAME,
  type Commit,
  type ContractEvent,
  decode,
  decodeTransaction,
  encode,
  encodeCommit,
  encodeReceipt,
  MessagingError,
  RECEIPT_OK,
  type Receipt,
  type SignedTransaction,
  txSigningBytes,
  type Value,
  VoteType,
  validatorsHash,
  voteSigningBytes,
  ZERO_HASH,
} from "@cairn/messaging";

export interface MemoryBackendOptions {
  readonly chainId?: string;
  readonly maxMempool?: number;
  readonly maxTxTtl?: number;
  /** Produce a block this many ms after a submission; off (blocks only via produceBlock) by default. */
  readonly autoBlockMs?: number;
  /** Clock for block times; Date.now by default. */
  readonly now?: () => number;
  /** Keys allowed to deploy and upgrade contracts; anyone when absent. */
  readonly admins?: readonly Uint8Array[];
  /** Contracts that exist from the start (see `registerContract`). */
  readonly contracts?: readonly MemoryContract[];
  /** The read policy (`readPolicy`); "open" by default. */
  readonly readAccess?: ReadAccess;
  /** Registered identities from the start (see `setIdentity`). */
  readonly identities?: readonly MemoryIdentity[];
  /** What GET /gov/* reports (see `setGovernance`); an open chain (no organisations) by default. */
  readonly governance?: MemoryGovernance;
}

/**
 * The governance MemoryBackend reports through GET /gov/*, as a test describes it. It executes no
 * governance: a test that sends `gov` transactions registers a `gov` contract (`registerContract`).
 */
export interface MemoryGovernance {
  /** Organisation names; identities (`setIdentity`) belong to them. Empty: a chain without governance. */
  readonly organizations: readonly string[];
  /** Default 50. */
  readonly thresholdPercent?: number;
  /** Default 1000. */
  readonly proposalTtl?: number;
  /** Default 2. */
  readonly validatorDelay?: number;
  readonly proposals?: readonly MemoryProposal[];
  readonly nodes?: readonly NodeRecordView[];
  /** The validator schedule; by default the backend's one validator from height 1. */
  readonly schedule?: ValidatorScheduleView["schedule"];
}

/** A proposal as stored: open, or executed once `executedAt` is set; expiry is judged at height + 1. */
export interface MemoryProposal {
  readonly id: number;
  readonly action: string;
  readonly args: readonly Value[];
  readonly argNames?: readonly string[];
  readonly proposer: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly approvals: readonly string[];
  readonly executedAt?: number;
}

/** A registered identity of MemoryBackend, as a test describes it. */
export interface MemoryIdentity {
  readonly publicKey: Uint8Array;
  /** Default "org1". */
  readonly org?: string;
  readonly roles: readonly string[];
  /** Default true; false for a revoked identity. */
  readonly active?: boolean;
}

/** What a fake contract's handler sees: one call of one method. */
export interface MemoryCallContext {
  readonly contract: string;
  readonly method: string;
  /** The decoded args array. */
  readonly args: readonly Value[];
  /** The height of the block executing the transaction; for a query, the committed height. */
  readonly height: number;
  /** The transaction's signer; 32 zero bytes for a query. */
  readonly caller: Uint8Array;
  /** True for a query. */
  readonly readOnly: boolean;
  /** Adds an event to the transaction's receipt (discarded for a query and for a failed call). */
  emit(name: string, data: Value): void;
}

/**
 * A fake contract's behaviour: returns the method's result (undefined for none) or throws a
 * ContractFailure, whose code goes into the receipt or the failed query. Any other error is a
 * fault of the backend.
 */
export type MemoryContractHandler = (call: MemoryCallContext) => Value | undefined;

/** A contract for MemoryBackend, as a test describes it. */
export interface MemoryContract {
  /** Matches ^[a-z][a-z0-9_-]{0,31}$ and is not a native contract's name. */
  readonly name: string;
  /** Methods the contract has; calling another one fails with UNKNOWN_METHOD. */
  readonly methods: readonly string[];
  /** The module: gives the view's codeHash (its SHA-256) and codeSize. */
  readonly code?: Uint8Array;
  readonly version?: number;
  readonly deployer?: Uint8Array;
  readonly deployedAt?: number;
  readonly updatedAt?: number;
  readonly handler?: MemoryContractHandler;
}

/** A handler's refusal: the call fails with `code` (in the receipt, or as `ok: false` of a query). */
export class ContractFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ContractFailure";
    this.code = code;
  }
}

interface Waiter {
  readonly hashes: readonly Uint8Array[];
  readonly resolve: () => void;
}

class ExecError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ExecError";
    this.code = code;
  }
}

function argBytes(v: Value | undefined, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || (length !== undefined && v.length !== length)) {
    throw new ExecError("BAD_ARGS", `${what} must be ${length === undefined ? "binary" : `${length} bytes`}`);
  }
  return v;
}

/** The native contracts this backend runs: the node's own. */
const NATIVE: Readonly<Record<string, Contract>> = { kv: kvContract, token: tokenContract };

/** Native contracts' methods: kv's and token's from the contracts themselves; this double's own deploy. */
const METHODS: Record<string, readonly string[]> = {
  ...Object.fromEntries(Object.entries(NATIVE).map(([name, c]) => [name, Object.keys(c.methods)])),
  contracts: ["deploy", "upgrade"],
};

/** The methods of a native contract, or undefined (also for "constructor" and other Object keys). */
function nativeMethods(contract: string): readonly string[] | undefined {
  return Object.hasOwn(METHODS, contract) ? METHODS[contract] : undefined;
}

const METHOD_NAME = /^[a-z][A-Za-z0-9_]*$/;
const QUERY_CALLER = new Uint8Array(32);

interface ContractRecord {
  readonly view: ContractView;
  readonly handler: MemoryContractHandler | undefined;
}

function checkContractName(name: string): void {
  if (!CONTRACT_NAME.test(name)) throw new ExecError("BAD_ARGS", `a contract name matches ${CONTRACT_NAME.source}`);
  if (nativeMethods(name)) throw new ExecError("BAD_ARGS", `${name} is a native contract`);
}

/** The methods of a module: its exported functions with a method's name. */
function moduleMethods(code: Uint8Array): string[] {
  const bytes = code as Uint8Array<ArrayBuffer>;
  if (!WebAssembly.validate(bytes)) throw new ExecError("INVALID_MODULE", "not a valid WebAssembly module");
  return WebAssembly.Module.exports(new WebAssembly.Module(bytes))
    .filter((e) => e.kind === "function" && METHOD_NAME.test(e.name))
    .map((e) => e.name);
}

function contractView(c: MemoryContract): ContractView {
  return {
    name: c.name,
    kind: "wasm",
    methods: [...c.methods],
    ...(c.code === undefined ? {} : { codeHash: sha256(c.code), codeSize: c.code.length }),
    ...(c.version === undefined ? {} : { version: c.version }),
    ...(c.deployer === undefined ? {} : { deployer: c.deployer }),
    ...(c.deployedAt === undefined ? {} : { deployedAt: c.deployedAt }),
    ...(c.updatedAt === undefined ? {} : { updatedAt: c.updatedAt }),
  };
}

export class MemoryBackend implements ApiBackend {
  readonly chainId: string;
  readonly validator: KeyPair = generateKeyPair();
  readonly genesisHash: Uint8Array;
  readonly blocks: BlockView[] = [];
  /** Set false to make /health fail and submissions answer NOT_READY. */
  ready = true;
  /** Reasons GET /ready reports (and answers 503 for) even while `ready` is true, e.g. ["TOO_FEW_PEERS"]. */
  notReadyReasons: string[] = [];
  /** When set, decides the admission of each envelope before the normal checks (to inject errors). */
  admit: ((envelope: Uint8Array) => SubmitResult | undefined) | undefined;
  /** What `readAccess()` answers: set "members" to make the API demand signed reads. */
  readPolicy: ReadAccess;

  private readonly maxMempool: number;
  private readonly maxTxTtl: number;
  private readonly autoBlockMs: number | undefined;
  private readonly now: () => number;
  private readonly admins: readonly Uint8Array[] | undefined;
  private readonly contracts = new Map<string, ContractRecord>();
  private readonly pending = new Map<string, SignedTransaction>();
  private readonly committed = new Map<string, { height: number; index: number }>();
  private readonly rejected = new Map<string, { code: string; message: string }>();
  private readonly state = new Map<string, { contract: string; key: Uint8Array; value: Uint8Array }>();
  private readonly listeners = new Set<(e: CommittedBlockEvent) => void>();
  private readonly identities = new Map<string, IdentityView>();
  private governance: MemoryGovernance = { organizations: [] };
  private readonly waiters = new Set<Waiter>();
  private autoTimer: ReturnType<typeof setTimeout> | undefined;
  private producing: Promise<void> = Promise.resolve();

  constructor(opts: MemoryBackendOptions = {}) {
    this.chainId = opts.chainId ?? "cairn-test";
    this.maxMempool = opts.maxMempool ?? 10_000;
    this.maxTxTtl = opts.maxTxTtl ?? 10_000;
    this.autoBlockMs = opts.autoBlockMs;
    this.now = opts.now ?? Date.now;
    this.admins = opts.admins;
    for (const c of opts.contracts ?? []) this.registerContract(c);
    this.readPolicy = opts.readAccess ?? "open";
    for (const i of opts.identities ?? []) this.setIdentity(i);
    if (opts.governance !== undefined) this.setGovernance(opts.governance);
    this.genesisHash = sha256(utf8.encode(`genesis:${this.chainId}`));
  }

  get height(): number {
    return this.blocks.length;
  }

  /** Number of live event subscriptions (tests check that disconnects unsubscribe). */
  get subscribers(): number {
    return this.listeners.size;
  }

  status(): NodeStatus {
    const last = this.blocks.at(-1);
    let bytes = 0;
    for (const t of this.pending.values()) bytes += t.bytes.length;
    return {
      chainId: this.chainId,
      nodeId: toHex(this.validator.publicKey),
      moniker: "memory",
      version: "0.0.0-test",
      height: this.height,
      blockHash: last ? last.hash : ZERO_HASH,
      stateRoot: this.stateRoot(),
      blockTime: last ? last.block.header.time : 0,
      genesisHash: this.genesisHash,
      validators: [{ publicKey: this.validator.publicKey, power: 1, name: "memory" }],
      mempool: { size: this.pending.size, bytes, maxSize: this.maxMempool },
      consensus: { engine: "memory", height: this.height + 1, round: 0, step: "idle" },
      maxTxTtl: this.maxTxTtl,
      peers: [],
      network: { peers: 0, members: 0 },
      sync: { catchingUp: false },
      role: "validator",
    };
  }

  async submit(txs: readonly Uint8Array[]): Promise<SubmitResult[]> {
    const results = txs.map((t) => this.admitOne(t));
    if (this.autoBlockMs !== undefined && this.pending.size > 0 && this.autoTimer === undefined) {
      this.autoTimer = setTimeout(() => {
        this.autoTimer = undefined;
        void this.produceBlock();
      }, this.autoBlockMs);
    }
    return results;
  }

  private admitOne(bytes: Uint8Array): SubmitResult {
    const injected = this.admit?.(bytes);
    if (injected) return injected;
    if (!this.ready) return { ok: false, code: "NOT_READY", message: "node is not ready" };
    let s: SignedTransaction;
    try {
      s = decodeTransaction(bytes);
    } catch (err) {
      if (err instanceof MessagingError) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
    const fail = (code: string, message: string): SubmitResult => ({ ok: false, hash: s.hash, code, message });
    const { tx } = s;
    const key = toHex(s.hash);
    if (!verify(s.signature, txSigningBytes(s.body), tx.sender))
      return fail("BAD_SIGNATURE", "signature does not verify");
    if (tx.chainId !== this.chainId) return fail("WRONG_CHAIN", `this is chain ${this.chainId}`);
    if (tx.expiry <= this.height) return fail("EXPIRED", `expiry ${tx.expiry} is not after height ${this.height}`);
    if (tx.expiry > this.height + this.maxTxTtl)
      return fail("EXPIRY_TOO_FAR", `expiry is beyond ${this.maxTxTtl} blocks`);
    // Native methods are checked at admission; a deployed contract's at execution.
    const methods = nativeMethods(tx.contract);
    if (!methods && !this.contracts.has(tx.contract)) return fail("UNKNOWN_CONTRACT", `no contract ${tx.contract}`);
    if (methods && !methods.includes(tx.method)) return fail("UNKNOWN_METHOD", `no method ${tx.contract}.${tx.method}`);
    if (this.pending.has(key) || this.committed.has(key)) return fail("DUPLICATE", "transaction already known");
    if (this.pending.size >= this.maxMempool) return fail("MEMPOOL_FULL", "mempool is full");
    this.pending.set(key, s);
    return { ok: true, hash: s.hash };
  }

  /**
   * Adds a contract (or replaces one of that name) as if it were deployed; without `handler`, its
   * methods do nothing. Throws for a native or invalid name.
   */
  registerContract(c: MemoryContract): void {
    checkContractName(c.name);
    this.contracts.set(c.name, { view: contractView(c), handler: c.handler });
  }

  /** Gives a contract (registered or deployed by a transaction) its behaviour; upgrades keep it. */
  setContractHandler(name: string, handler: MemoryContractHandler | undefined): void {
    const c = this.contracts.get(name);
    if (!c) throw new Error(`no contract ${name}`);
    this.contracts.set(name, { view: c.view, handler });
  }

  /** Drops a pending transaction as the mempool would when it expires. */
  reject(hash: Uint8Array, code: string, message: string): void {
    const key = toHex(hash);
    if (!this.pending.delete(key)) return;
    this.rejected.set(key, { code, message });
    this.wake();
  }

  /**
   * Commits every pending transaction in a new block and notifies waiters and subscribers. Blocks
   * are made one after another, in call order, even when calls overlap.
   */
  produceBlock(): Promise<BlockView> {
    const made = this.producing.then(() => this.makeBlock());
    this.producing = made.then(
      () => {},
      () => {},
    );
    return made;
  }

  private async makeBlock(): Promise<BlockView> {
    const txs = [...this.pending.values()];
    this.pending.clear();
    const height = this.height + 1;
    const prev = this.blocks.at(-1);
    const time = Math.max(this.now(), prev?.block.header.time ?? 0);
    const receipts: Receipt[] = [];
    for (const s of txs) receipts.push(await this.execute(s, height, time));
    const envelopes = txs.map((s) => s.bytes);
    const header: BlockHeader = {
      chainId: this.chainId,
      height,
      time,
      prevHash: prev ? prev.hash : this.genesisHash,
      txRoot: merkleRoot(envelopes),
      stateRoot: this.stateRoot(),
      receiptRoot: merkleRoot(receipts.map(encodeReceipt)),
      lastCommitHash: prev?.commit ? sha256(encodeCommit(prev.commit)) : ZERO_HASH,
      validatorsHash: validatorsHash(this.status().validators),
      proposer: this.validator.publicKey,
      txCount: txs.length,
    };
    const block: Block = { header, txs: envelopes, lastCommit: prev?.commit ?? null };
    const hash = blockHash(header);
    const signature = sign(
      voteSigningBytes({ chainId: this.chainId, height, round: 0, type: VoteType.precommit, blockHash: hash }),
      this.validator.secretKey,
    );
    const commit: Commit = {
      height,
      round: 0,
      blockHash: hash,
      signatures: [{ validator: this.validator.publicKey, signature }],
    };
    const view: BlockView = { block, hash, receipts, commit };
    this.blocks.push(view);
    txs.forEach((s, index) => {
      this.committed.set(toHex(s.hash), { height, index });
    });
    this.wake();
    for (const l of [...this.listeners]) l({ view });
    return view;
  }

  private async execute(s: SignedTransaction, height: number, time: number): Promise<Receipt> {
    const { tx } = s;
    const events: ContractEvent[] = [];
    let gas = 0;
    const receipt = (code: string, message: string): Receipt => ({
      txHash: s.hash,
      code,
      message,
      events: code === RECEIPT_OK ? events : [],
      gasUsed: 100 + s.bytes.length + gas,
    });
    try {
      const a = tx.args;
      if (tx.contract === "contracts") {
        this.deployOrUpgrade(s, tx.method === "deploy", events);
      } else if (!nativeMethods(tx.contract)) {
        const out = this.invoke(tx.contract, tx.method, a, { height, caller: tx.sender }, events);
        if (!out.ok) throw new ExecError(out.code, out.message);
      } else {
        // The node's own native contract, over this backend's state; its writes apply only if it succeeds.
        const method = NATIVE[tx.contract]?.methods[tx.method];
        if (method === undefined) throw new ExecError("UNKNOWN_METHOD", `no method ${tx.contract}.${tx.method}`);
        const writes = new Map<string, Uint8Array | undefined>();
        const slot = (key: Uint8Array) => `${tx.contract}:${toHex(key)}`;
        method.check(a);
        gas += method.gas;
        await method.execute(
          {
            sender: tx.sender,
            height,
            time,
            storage: {
              get: (key) => (writes.has(slot(key)) ? writes.get(slot(key)) : this.get(tx.contract, key)),
              set: (key, value) => void writes.set(slot(key), value),
              delete: (key) => void writes.set(slot(key), undefined),
            },
            isAdmin: (key) => this.admins === undefined || this.admins.some((k) => compareBytes(k, key) === 0),
            hasRole: () => true,
            emit: (name, data) => void events.push({ contract: tx.contract, name, data }),
            // The in-memory backend has no organisations, so no collections.
            private: [],
            collectionMember: () => undefined,
            chargeGas: (amount) => {
              gas += amount;
            },
          },
          a,
        );
        for (const [k, value] of writes) {
          const key = fromHex(k.slice(tx.contract.length + 1));
          if (value === undefined) this.state.delete(k);
          else this.put(tx.contract, key, value);
        }
      }
      return receipt(RECEIPT_OK, "");
    } catch (err) {
      if (err instanceof ExecError || err instanceof ContractError) return receipt(err.code, err.message);
      throw err;
    }
  }

  private deployOrUpgrade(s: SignedTransaction, deploy: boolean, events: ContractEvent[]): void {
    const { tx } = s;
    const [name, code] = tx.args;
    if (tx.args.length !== 2) throw new ExecError("BAD_ARGS", "expected 2 arguments: name, code");
    if (typeof name !== "string") throw new ExecError("BAD_ARGS", "name must be a string");
    checkContractName(name);
    const module = argBytes(code, "code");
    if (module.length > MAX_CODE_BYTES) throw new ExecError("BAD_ARGS", `code is over ${MAX_CODE_BYTES} bytes`);
    if (this.admins && !this.admins.some((k) => compareBytes(k, tx.sender) === 0)) {
      throw new ExecError("UNAUTHORIZED", `only an admin key may ${tx.method}`);
    }
    const existing = this.contracts.get(name);
    if (deploy && existing) throw new ExecError("ALREADY_DEPLOYED", `a contract named ${name} exists: use upgrade`);
    if (!deploy && !existing) throw new ExecError("UNKNOWN_CONTRACT", `no contract ${name}`);
    const methods = moduleMethods(module);
    const height = this.height + 1;
    const version = deploy ? 1 : (existing?.view.version ?? 0) + 1;
    const codeHash = sha256(module);
    if (existing?.view.codeHash && compareBytes(existing.view.codeHash, codeHash) === 0) {
      throw new ExecError("SAME_CODE", `${name} already runs this code`);
    }
    const view: ContractView = {
      name,
      kind: "wasm",
      methods,
      codeHash,
      version,
      deployer: existing?.view.deployer ?? tx.sender,
      deployedAt: existing?.view.deployedAt ?? height,
      updatedAt: height,
      codeSize: module.length,
    };
    this.contracts.set(name, { view, handler: existing?.handler });
    events.push({ contract: "contracts", name: deploy ? "deployed" : "upgraded", data: [name, codeHash, version] });
  }

  /** Runs a deployed contract's method through its handler. */
  private invoke(
    contract: string,
    method: string,
    args: readonly Value[],
    at: { height: number; caller: Uint8Array },
    events: ContractEvent[] | undefined,
  ): { ok: true; output: Uint8Array } | { ok: false; code: string; message: string } {
    const c = this.contracts.get(contract);
    if (!c) return { ok: false, code: "UNKNOWN_CONTRACT", message: `no contract ${contract}` };
    if (!c.view.methods.includes(method)) {
      return { ok: false, code: "UNKNOWN_METHOD", message: `no method ${contract}.${method}` };
    }
    const emitted: ContractEvent[] = [];
    let result: Value | undefined;
    try {
      result = c.handler?.({
        contract,
        method,
        args,
        height: at.height,
        caller: at.caller,
        readOnly: events === undefined,
        emit: (name, data) => {
          emitted.push({ contract, name, data });
        },
      });
    } catch (err) {
      if (err instanceof ContractFailure) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
    events?.push(...emitted);
    return { ok: true, output: result === undefined ? new Uint8Array(0) : encode(result) };
  }

  private put(contract: string, key: Uint8Array, value: Uint8Array): void {
    this.state.set(`${contract}:${toHex(key)}`, { contract, key, value });
  }

  private get(contract: string, key: Uint8Array): Uint8Array | undefined {
    return this.state.get(`${contract}:${toHex(key)}`)?.value;
  }

  private stateRoot(): Uint8Array {
    const entries = [...this.state.values()].sort(
      (x, y) => x.contract.localeCompare(y.contract) || compareBytes(x.key, y.key),
    );
    return sha256(encode(entries.map((e) => [e.contract, e.key, e.value])));
  }

  private lookup(hash: Uint8Array): TxLookup {
    const key = toHex(hash);
    const p = this.pending.get(key);
    if (p) return { status: "pending", tx: p };
    const r = this.rejected.get(key);
    if (r) return { status: "rejected", ...r };
    const c = this.committed.get(key);
    if (!c) return { status: "unknown" };
    const view = this.blocks[c.height - 1] as BlockView;
    const envelope = view.block.txs[c.index] as Uint8Array;
    return {
      status: "committed",
      tx: decodeTransaction(envelope),
      height: c.height,
      index: c.index,
      blockHash: view.hash,
      receipt: view.receipts[c.index] as Receipt,
      proof: merkleProof(view.block.txs, c.index),
    };
  }

  private settled(hash: Uint8Array): boolean {
    const s = this.lookup(hash).status;
    return s === "committed" || s === "rejected";
  }

  private wake(): void {
    for (const w of [...this.waiters]) if (w.hashes.every((h) => this.settled(h))) w.resolve();
  }

  async waitForCommit(hashes: readonly Uint8Array[], timeoutMs: number): Promise<TxLookup[]> {
    if (!hashes.every((h) => this.settled(h))) {
      await new Promise<void>((resolve) => {
        const w: Waiter = {
          hashes,
          resolve: () => {
            clearTimeout(timer);
            this.waiters.delete(w);
            resolve();
          },
        };
        const timer = setTimeout(w.resolve, timeoutMs);
        this.waiters.add(w);
      });
    }
    return hashes.map((h) => this.lookup(h));
  }

  async getTx(hash: Uint8Array): Promise<TxLookup> {
    return this.lookup(hash);
  }

  async getBlock(height: number | "latest"): Promise<BlockView | undefined> {
    if (height === "latest") return this.blocks.at(-1);
    return height >= 1 ? this.blocks[height - 1] : undefined;
  }

  async getState(contract: string, key: Uint8Array): Promise<StateView> {
    if (!nativeMethods(contract) && !this.contracts.has(contract)) {
      throw new ExecError("UNKNOWN_CONTRACT", `no contract ${contract}`);
    }
    return {
      value: this.get(contract, key),
      height: this.height,
      stateRoot: this.stateRoot(),
      proof: { siblings: [], leaf: null },
    };
  }

  async query(req: QueryRequest): Promise<QueryResult> {
    const height = this.height;
    let args: Value;
    try {
      args = decode(req.args);
    } catch (err) {
      if (err instanceof MessagingError)
        return { ok: false, code: "BAD_ARGS", message: err.message, gasUsed: 0, height };
      throw err;
    }
    const gas = 100 + req.args.length;
    if (!Array.isArray(args))
      return { ok: false, code: "BAD_ARGS", message: "args must be an array", gasUsed: 0, height };
    if (nativeMethods(req.contract)) {
      const message = `${req.contract} is a native contract: read its state with GET /state/${req.contract}/KEY`;
      return { ok: false, code: "NOT_QUERYABLE", message, gasUsed: 0, height };
    }
    const out = this.invoke(req.contract, req.method, args, { height, caller: QUERY_CALLER }, undefined);
    if (!out.ok) return { ...out, gasUsed: gas, height };
    return { ok: true, output: out.output, gasUsed: gas + out.output.length, height };
  }

  async getContract(name: string): Promise<ContractView | undefined> {
    const native = nativeMethods(name);
    if (native) return { name, kind: "native", methods: [...native] };
    return this.contracts.get(name)?.view;
  }

  subscribe(listener: (event: CommittedBlockEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  evidence(): { items: readonly EvidenceView[]; total: number } {
    return { items: [], total: 0 };
  }

  readAccess(): ReadAccess {
    return this.readPolicy;
  }

  identity(publicKey: Uint8Array): IdentityView | undefined {
    return this.identities.get(toHex(publicKey));
  }

  /** Registers an identity, or replaces the one of its key (say, with other roles or `active: false`). */
  setIdentity(i: MemoryIdentity): void {
    this.identities.set(toHex(i.publicKey), { org: i.org ?? "org1", roles: [...i.roles], active: i.active ?? true });
  }

  /** Marks a key's identity revoked (it stays known, as on a chain). */
  revokeIdentity(publicKey: Uint8Array): void {
    const i = this.identity(publicKey);
    if (!i) throw new Error(`no identity ${toHex(publicKey)}`);
    this.identities.set(toHex(publicKey), { ...i, active: false });
  }

  /** Replaces what GET /gov/* reports. */
  setGovernance(g: MemoryGovernance): void {
    this.governance = g;
  }

  private govParamsOf(): { thresholdPercent: number; proposalTtl: number; validatorDelay: number } {
    const g = this.governance;
    return {
      thresholdPercent: g.thresholdPercent ?? 50,
      proposalTtl: g.proposalTtl ?? 1000,
      validatorDelay: g.validatorDelay ?? 2,
    };
  }

  /** Approvals needed with the current organisations: more than thresholdPercent of them, at least one. */
  private govNeeded(): number {
    const orgs = this.governance.organizations.length;
    return Math.max(1, Math.min(orgs, Math.floor((orgs * this.govParamsOf().thresholdPercent) / 100) + 1));
  }

  private proposalView(p: MemoryProposal): ProposalView {
    const status = p.executedAt !== undefined ? "executed" : this.height + 1 > p.expiresAt ? "expired" : "open";
    return {
      id: p.id,
      action: p.action,
      args: p.args,
      ...(p.argNames === undefined ? {} : { argNames: p.argNames }),
      proposer: p.proposer,
      ...(p.approvals[0] === undefined ? {} : { proposerOrg: p.approvals[0] }),
      createdAt: p.createdAt,
      expiresAt: p.expiresAt,
      ...(p.executedAt === undefined ? {} : { executedAt: p.executedAt }),
      approvals: p.approvals,
      needed: this.govNeeded(),
      status,
    };
  }

  async govProposals(filter: ProposalFilter): Promise<readonly ProposalView[]> {
    return (this.governance.proposals ?? [])
      .map((p) => this.proposalView(p))
      .filter((p) => filter.status === undefined || p.status === filter.status)
      .sort((a, b) => b.id - a.id)
      .slice(0, filter.limit);
  }

  async govProposal(id: number): Promise<ProposalView | undefined> {
    const p = this.governance.proposals?.find((x) => x.id === id);
    return p === undefined ? undefined : this.proposalView(p);
  }

  govIdentity(publicKey: Uint8Array): GovIdentityView | undefined {
    const i = this.identities.get(toHex(publicKey));
    if (i === undefined || this.governance.organizations.length === 0) return undefined;
    return { publicKey, ...i, active: i.active && this.governance.organizations.includes(i.org) };
  }

  govOrganizations(): readonly OrganizationView[] {
    const ids = [...this.identities.keys()].map((hex) => this.govIdentity(fromHex(hex)) as GovIdentityView);
    return this.governance.organizations.map((name) => ({ name, identities: ids.filter((i) => i.org === name) }));
  }

  govValidators(): ValidatorScheduleView {
    const height = this.height + 1;
    const schedule = this.governance.schedule ?? [{ from: 1, validators: this.status().validators }];
    const current = schedule.filter((e) => e.from <= height).at(-1) ?? schedule[0];
    return { height, validators: current?.validators ?? [], schedule };
  }

  govNodes(): readonly NodeRecordView[] {
    return this.governance.nodes ?? [];
  }

  govParams(): GovParamsView | undefined {
    const organizations = this.governance.organizations.length;
    if (organizations === 0) return undefined;
    return { ...this.govParamsOf(), organizations, needed: this.govNeeded() };
  }

  healthy(): boolean {
    return this.ready;
  }

  readiness(): Readiness {
    const reasons = [...(this.ready ? [] : ["NOT_HEALTHY"]), ...this.notReadyReasons];
    return { ready: reasons.length === 0, reasons, details: { height: this.height } };
  }

  /** A few of a node's metrics, written out in the Prometheus text format. */
  async metrics(): Promise<MetricsExposition> {
    const codes = new Map<string, number>();
    for (const b of this.blocks) for (const r of b.receipts) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
    const lines = [
      "# HELP cairn_ledger_height Height of the latest committed block",
      "# TYPE cairn_ledger_height gauge",
      `cairn_ledger_height ${this.height}`,
      "# HELP cairn_mempool_size Transactions in the mempool",
      "# TYPE cairn_mempool_size gauge",
      `cairn_mempool_size ${this.pending.size}`,
      "# HELP cairn_ledger_txs_committed_total Transactions committed, by receipt code",
      "# TYPE cairn_ledger_txs_committed_total counter",
      ...[...codes].map(([code, n]) => `cairn_ledger_txs_committed_total{code=${JSON.stringify(code)}} ${n}`),
    ];
    return { contentType: "text/plain; version=0.0.4; charset=utf-8", body: `${lines.join("\n")}\n` };
  }

  /** Stops the auto-block timer. */
  close(): void {
    if (this.autoTimer !== undefined) clearTimeout(this.autoTimer);
    this.autoTimer = undefined;
    for (const w of [...this.waiters]) w.resolve();
  }
}

/** Bytes of a LEB128-encoded unsigned integer. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/**
 * A minimal valid WebAssembly module whose exports are empty `() -> ()` functions named `methods`:
 * something to deploy in tests (MemoryBackend lists the exports as the contract's methods).
 */
export function wasmModuleExporting(methods: readonly string[]): Uint8Array {
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
  const n = methods.length;
  const exports = methods.flatMap((m, i) => {
    const name = [...utf8.encode(m)];
    return [...uleb(name.length), ...name, 0x00, ...uleb(i)];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [...uleb(n), ...new Array<number>(n).fill(0)]),
    ...section(7, [...uleb(n), ...exports]),
    ...section(10, [...uleb(n), ...methods.flatMap(() => [2, 0, 0x0b])]),
  ]);
}
