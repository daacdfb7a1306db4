// Micro-benchmarks of Cairn's building blocks: `npm run bench [-- options]`.
//
// Each case is timed with tinybench; cases that process a batch (a 1,000-signature verification, a
// block of 1,000 transfers) also report the cost per item. Results go to a table on stdout and to
// benchmarks/results/micro-latest.json (with the machine they ran on). When a previous run is there
// (or given with `--compare FILE`), the table has a "vs last" column with the change of each case's
// mean time, and cases more than `--threshold` % (15) slower are listed as regressions.
// Sized to finish in well under two minutes on 2 cores.
import { hash as nodeHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  buildExampleToken,
  type ContentionReport,
  describeContention,
  describeMachine,
  formatMs,
  formatNumber,
  freshSigners,
  intOption,
  kvPut,
  LoadMonitor,
  type MachineInfo,
  machineInfo,
  markdownTable,
  parseArgs,
  signedCall,
  tokenTransfers,
  WASM_TOKEN,
  waitForQuiet,
} from "@cairn/bench";
import { type ContractCall, call, contracts } from "@cairn/client";
import {
  createTendermint,
  decodeConsensusMessage,
  type Effect,
  encodeConsensusMessage,
  proposerSchedule,
  signProposal,
  signVote,
  verifyCommit,
} from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { equalBytes, generateKeyPair, merkleRoot, sha256, sign, verify } from "@cairn/crypto";
import { createNativeSigner, type NativeSigner, nativeSign, nativeVerify, VerifyPool } from "@cairn/crypto/native";
import { createLedger, defaultChainParams, type ExecutedBlock, type Genesis, type Ledger } from "@cairn/ledger";
import { governanceContract } from "@cairn/management";
import { Mempool } from "@cairn/mempool";
import {
  type Block,
  blockHash,
  type Commit,
  decodeBlock,
  decodeTransaction,
  encode,
  encodeBlock,
  encodeTxBody,
  type SignedTransaction,
  txSigningBytes,
  type Validator,
  type Value,
  VoteType,
  voteSigningBytes,
  withSignature,
} from "@cairn/messaging";
import { type Database, openDatabase } from "@cairn/storage";
import { createMemoryHost } from "@cairn/test-utils";
import { createVm, prepareContract } from "@cairn/vm";
import { Bench, type BenchOptions, type Fn, type FnOptions, type FnReturnedObject } from "tinybench";
import { type CaseChange, compareRuns, DEFAULT_THRESHOLD_PCT, formatChange } from "./compare.ts";

const USAGE = `usage: npm run bench -- [--compare FILE] [--threshold PCT] [--fail-on-regression] [--json FILE] [--filter REGEX] [--quick] [--workers N] [--wait-quiet]
  --compare FILE  compare with this earlier results JSON (default: benchmarks/results/micro-latest.json,
                  read before this run replaces it) and print the ratio table of both runs
  --threshold PCT a case whose mean time grew by more than PCT % is a regression (default 15)
  --fail-on-regression  exit with status 1 when there is a regression
  --json FILE     where to write the results (default benchmarks/results/micro-latest.json;
                  micro-partial.json for --filter or --quick runs)
  --filter REGEX  only the cases whose name matches
  --quick         a quarter of the time budget (noisier)
  --workers N     VerifyPool / mempool verification workers (default 2)
  --wait-quiet    before each group, wait (up to 2 min) until other processes leave the CPU idle`;

const opts = parseArgs(
  process.argv.slice(2),
  {
    compare: "string",
    threshold: "string",
    "fail-on-regression": "boolean",
    json: "string",
    filter: "string",
    quick: "boolean",
    workers: "string",
    "wait-quiet": "boolean",
  },
  USAGE,
);
const ROOT = new URL("../../", import.meta.url).pathname;
const FILTER = opts.has("filter") ? new RegExp(String(opts.get("filter")), "i") : undefined;
const SCALE = opts.has("quick") ? 0.25 : 1;
// A partial or quick run never replaces the full results others compare against.
const DEFAULT_OUT = FILTER === undefined && SCALE === 1 ? "micro-latest.json" : "micro-partial.json";
const JSON_OUT = resolve(String(opts.get("json") ?? join(ROOT, "benchmarks/results", DEFAULT_OUT)));
const WORKERS = intOption(opts, "workers", 2);
const THRESHOLD_PCT = intOption(opts, "threshold", DEFAULT_THRESHOLD_PCT);
// The run to compare with, read now: this run may overwrite the file.
const BASELINE_FILE = resolve(String(opts.get("compare") ?? join(ROOT, "benchmarks/results/micro-latest.json")));
const BASELINE = readBaseline(BASELINE_FILE, opts.has("compare"));

function readBaseline(file: string, required: boolean): MicroResults | undefined {
  if (!existsSync(file)) {
    if (required) {
      process.stderr.write(`--compare: no file ${file}\n`);
      process.exit(2);
    }
    return undefined;
  }
  const before = JSON.parse(readFileSync(file, "utf8")) as MicroResults;
  if (before.kind !== "cairn-micro" || !Array.isArray(before.results)) {
    process.stderr.write(
      `${file} is not a micro-benchmark results file (kind ${String(before.kind)}); not comparing\n`,
    );
    if (required) process.exit(2);
    return undefined;
  }
  return before;
}

/** One measured case, as stored in the JSON file. */
export interface MicroResult {
  readonly name: string;
  readonly group: string;
  /** Operations (task calls) per second: 1000 / mean latency. */
  readonly opsPerSec: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Relative margin of error of the mean at 95% confidence, percent. */
  readonly rmePct: number;
  readonly samples: number;
  /** Items one operation handles (signatures, leaves, transactions...); 1 for single operations. */
  readonly items: number;
  readonly itemLabel: string;
  /** Mean cost of one item, microseconds. */
  readonly perItemUs: number;
  /** Items per second. */
  readonly itemsPerSec: number;
  /** Extra measurements of the case (e.g. the execute / commit split of a block), in ms. */
  readonly breakdownMs?: Readonly<Record<string, number>>;
  /** Cores other processes used while the case's group ran: above ~0.1 the numbers are perturbed. */
  readonly otherCores: number;
}

export interface MicroResults {
  readonly kind: "cairn-micro";
  readonly machine: MachineInfo;
  readonly options: { readonly quick: boolean; readonly workers: number; readonly filter?: string };
  readonly durationSec: number;
  /** CPU use of other processes during the run: numbers taken on a busy machine are not comparable. */
  readonly contention: ContentionReport;
  readonly results: MicroResult[];
  /** Ratios between cases of the run (e.g. the Wasm token's cost per transfer over the native token's). */
  readonly ratios?: MicroRatio[];
  /** The previous run this one was compared with, and the cases slower than the threshold. */
  readonly comparison?: {
    readonly file: string;
    readonly date: string;
    readonly thresholdPct: number;
    readonly regressions: readonly {
      readonly name: string;
      readonly thenMs: number;
      readonly nowMs: number;
      readonly changePct: number;
    }[];
  };
}

export interface MicroRatio {
  readonly name: string;
  readonly ratio: number;
}

interface CaseSpec {
  readonly name: string;
  readonly fn: Fn;
  readonly items?: number;
  readonly itemLabel?: string;
  readonly fnOptions?: FnOptions;
  /** Filled while the case runs; averaged into breakdownMs. */
  readonly breakdown?: Map<string, number[]>;
}

const results: MicroResult[] = [];
const ratios: MicroRatio[] = [];
const cleanups: (() => Promise<void>)[] = [];
const started = performance.now();

async function runGroup(group: string, options: BenchOptions, cases: readonly CaseSpec[]): Promise<void> {
  const selected = cases.filter((c) => FILTER === undefined || FILTER.test(c.name) || FILTER.test(group));
  if (selected.length === 0) return;
  const scaled: BenchOptions = {
    ...options,
    time: Math.round((options.time ?? 500) * SCALE),
    warmupTime: Math.round((options.warmupTime ?? 100) * SCALE),
  };
  const bench = new Bench({ name: group, throws: true, ...scaled });
  for (const c of selected) bench.add(c.name, c.fn, c.fnOptions);
  if (opts.has("wait-quiet")) await waitForQuiet(120_000, 0.15, (s) => process.stderr.write(`${s}\n`));
  process.stderr.write(`running ${group}: ${selected.map((c) => c.name).join("; ")}\n`);
  const monitor = new LoadMonitor();
  const cpu0 = process.cpuUsage();
  await bench.run();
  const cpu = process.cpuUsage(cpu0);
  const { otherCores } = monitor.stop((cpu.user + cpu.system) / 1e6);
  for (const c of selected) {
    const task = bench.getTask(c.name);
    const r = task?.result;
    if (r === undefined || (r.state !== "completed" && r.state !== "aborted-with-statistics")) {
      throw new Error(`case ${c.name} did not complete (${r?.state})`);
    }
    const items = c.items ?? 1;
    const meanMs = r.latency.mean;
    const breakdownMs =
      c.breakdown === undefined
        ? undefined
        : Object.fromEntries([...c.breakdown].map(([k, v]) => [k, v.reduce((s, x) => s + x, 0) / v.length]));
    results.push({
      name: c.name,
      group,
      opsPerSec: 1000 / meanMs,
      meanMs,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      rmePct: r.latency.rme,
      samples: r.latency.samplesCount,
      items,
      itemLabel: c.itemLabel ?? "op",
      perItemUs: (meanMs * 1000) / items,
      itemsPerSec: (1000 * items) / meanMs,
      ...(breakdownMs === undefined ? {} : { breakdownMs }),
      otherCores: Math.round(otherCores * 100) / 100,
    });
  }
}

/** A task that prepares its input untimed and reports only the timed part (tinybench's overriddenDuration). */
function timedPart(prepare: () => Promise<() => Promise<void>>): Fn {
  return async (): Promise<FnReturnedObject> => {
    const work = await prepare();
    const t0 = performance.now();
    await work();
    return { overriddenDuration: performance.now() - t0 };
  };
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `cairn-bench-${prefix}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function record(map: Map<string, number[]>, key: string, ms: number): void {
  const a = map.get(key);
  if (a === undefined) map.set(key, [ms]);
  else a.push(ms);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const CHAIN_ID = "cairn-bench";
const admin = generateKeyPair();
const adminSigner = createNativeSigner(admin.secretKey, admin.publicKey);
const sampleTx = kvPut(CHAIN_ID, adminSigner, 500, "bench-", 1);
const message = txSigningBytes(sampleTx.body);
const nobleSig = sign(message, admin.secretKey);

async function cryptoCases(): Promise<void> {
  const data256 = new Uint8Array(randomBytes(256));
  const leaves = (n: number) => Array.from({ length: n }, () => new Uint8Array(randomBytes(sampleTx.bytes.length)));
  const leaves1k = leaves(1_000);
  const leaves10k = leaves(10_000);

  await runGroup("crypto: single operations", { time: 500, warmupTime: 100 }, [
    { name: "ed25519 sign, noble", fn: () => sign(message, admin.secretKey) },
    { name: "ed25519 verify, noble", fn: () => verify(nobleSig, message, admin.publicKey) },
    { name: "ed25519 sign, native one-shot (nativeSign)", fn: () => nativeSign(message, admin.secretKey) },
    { name: "ed25519 sign, native key object (createNativeSigner)", fn: () => adminSigner.sign(message) },
    { name: "ed25519 verify, native (nativeVerify)", fn: () => nativeVerify(nobleSig, message, admin.publicKey) },
    { name: "sha256 256 B, noble (sha256)", fn: () => sha256(data256) },
    { name: "sha256 256 B, node:crypto hash() (reference)", fn: () => nodeHash("sha256", data256, "buffer") },
  ]);

  // 1,000 signatures by 50 senders over distinct messages (the key-object cache holds them all).
  const senders = Array.from({ length: 50 }, () => generateKeyPair());
  const items = Array.from({ length: 1_000 }, (_, i) => {
    const kp = senders[i % senders.length] as (typeof senders)[number];
    const msg = new Uint8Array(randomBytes(message.length));
    return { publicKey: kp.publicKey, message: msg, signature: sign(msg, kp.secretKey) };
  });
  const pool = new VerifyPool({ workers: WORKERS });
  const inline = new VerifyPool({ workers: 0 });
  cleanups.push(() => pool.close());
  const checkAll = (r: boolean[]) => {
    if (r.length !== items.length || r.some((ok) => !ok)) throw new Error("VerifyPool: a valid signature failed");
  };
  await runGroup("crypto: batches", { time: 1500, warmupTime: 300, iterations: 10 }, [
    {
      name: `VerifyPool.verifyBatch 1,000 sigs (${WORKERS} workers)`,
      fn: async () => checkAll(await pool.verifyBatch(items)),
      items: 1_000,
      itemLabel: "sig",
      fnOptions: { async: true },
    },
    {
      name: "VerifyPool.verifyBatch 1,000 sigs (inline, 0 workers)",
      fn: async () => checkAll(await inline.verifyBatch(items)),
      items: 1_000,
      itemLabel: "sig",
      fnOptions: { async: true },
    },
    { name: "merkleRoot 1k leaves", fn: () => merkleRoot(leaves1k), items: 1_000, itemLabel: "leaf" },
    { name: "merkleRoot 10k leaves", fn: () => merkleRoot(leaves10k), items: 10_000, itemLabel: "leaf" },
  ]);
}

/** A block of 1,000 pre-signed 194 B kv puts at `height` (roots are placeholders: nothing executes it). */
function sampleBlock(height: number, proposer: Uint8Array = admin.publicKey): Block {
  const txs = Array.from({ length: 1_000 }, (_, i) => kvPut(CHAIN_ID, adminSigner, 500, "block-", i));
  const zero = new Uint8Array(32);
  const lastCommit: Commit = {
    height: height - 1,
    round: 0,
    blockHash: zero,
    signatures: [{ validator: admin.publicKey, signature: sampleTx.signature }],
  };
  return {
    header: {
      chainId: CHAIN_ID,
      height,
      time: Date.now(),
      prevHash: zero,
      txRoot: zero,
      stateRoot: zero,
      receiptRoot: zero,
      lastCommitHash: zero,
      validatorsHash: zero,
      proposer,
      txCount: txs.length,
    },
    txs: txs.map((t) => t.bytes),
    lastCommit,
  };
}

async function messagingCases(): Promise<void> {
  const signature = sampleTx.signature;
  const block = sampleBlock(42);
  const blockBytes = encodeBlock(block);
  await runGroup("messaging: transactions", { time: 500, warmupTime: 100 }, [
    {
      name: `tx encode: body + envelope + hash (withSignature), ${sampleTx.bytes.length} B kv put`,
      fn: () => withSignature(sampleTx.tx, signature),
    },
    { name: "tx encode: body only (encodeTxBody)", fn: () => encodeTxBody(sampleTx.tx) },
    { name: "tx decode (decodeTransaction)", fn: () => decodeTransaction(sampleTx.bytes) },
  ]);
  await runGroup("messaging: blocks", { time: 1000, warmupTime: 200, iterations: 10 }, [
    {
      name: `block encode, 1,000 txs (encodeBlock, ${Math.round(blockBytes.length / 1024)} KiB)`,
      fn: () => encodeBlock(block),
      items: 1_000,
      itemLabel: "tx",
    },
    { name: "block decode, 1,000 txs (decodeBlock)", fn: () => decodeBlock(blockBytes), items: 1_000, itemLabel: "tx" },
  ]);
}

async function storageCases(): Promise<void> {
  const db = await openDatabase(join(await tempDir("storage"), "db"));
  cleanups.push(() => db.close());
  const value = new Uint8Array(randomBytes(100));
  const writeBatch = (sync: boolean) => async () => {
    const batch = db.batch();
    for (let i = 0; i < 1_000; i++) batch.put(0x10, new Uint8Array(randomBytes(33)), value);
    await batch.write({ sync });
  };
  await runGroup("storage", { time: 1500, warmupTime: 200, iterations: 10 }, [
    {
      name: "LevelDB batch of 1,000 puts (33 B keys, 100 B values), sync",
      fn: writeBatch(true),
      items: 1_000,
      itemLabel: "put",
      fnOptions: { async: true },
    },
    {
      name: "LevelDB batch of 1,000 puts (33 B keys, 100 B values), no sync",
      fn: writeBatch(false),
      items: 1_000,
      itemLabel: "put",
      fnOptions: { async: true },
    },
  ]);
}

/** A fresh ledger in a temp dir whose genesis funds `accounts`; the bench `admin` key is its admin. */
async function freshLedger(
  name: string,
  accounts: readonly Uint8Array[],
  validator: NativeSigner,
  organizations?: Genesis["organizations"],
): Promise<Ledger> {
  const db: Database = await openDatabase(join(await tempDir(name), "db"));
  cleanups.push(() => db.close());
  const genesis: Genesis = {
    chainId: CHAIN_ID,
    genesisTime: Date.now() - 1000,
    validators: [{ publicKey: validator.publicKey, power: 1, name: "bench" }],
    admins: [admin.publicKey],
    accounts: accounts.map((publicKey) => ({ publicKey, balance: 1_000_000_000_000n })),
    members: [],
    // Organisations make the chain permissioned: every sender's roles are checked (docs/governance.md).
    ...(organizations === undefined ? {} : { organizations }),
    params: defaultChainParams,
  };
  const contracts = createNativeRegistry(organizations === undefined ? [] : [governanceContract]);
  return createLedger({ db, genesis, contracts });
}

/** A fresh ledger (see freshLedger) with a new validator key, ready to commit blocks. */
async function freshChain(name: string, accounts: readonly Uint8Array[]): Promise<Chain> {
  const [validator] = freshSigners(1) as [NativeSigner];
  return new Chain(await freshLedger(name, accounts, validator), validator);
}

/** One ledger with one validator: executes and commits blocks the way a node does. */
class Chain {
  readonly ledger: Ledger;
  readonly validator: NativeSigner;
  #lastCommit: Commit | null = null;
  constructor(ledger: Ledger, validator: NativeSigner) {
    this.ledger = ledger;
    this.validator = validator;
  }
  get height(): number {
    return this.ledger.head().height;
  }
  /** Executes `txs` as the next block and commits it (fsync); the two phases' times in ms. */
  async block(txs: SignedTransaction[]): Promise<{ executed: ExecutedBlock; executeMs: number; commitMs: number }> {
    const height = this.height + 1;
    const t0 = performance.now();
    const executed = await this.ledger.execute({
      time: Date.now(),
      proposer: this.validator.publicKey,
      txs,
      lastCommit: this.#lastCommit,
    });
    const t1 = performance.now();
    const signature = this.validator.sign(
      voteSigningBytes({ chainId: CHAIN_ID, height, round: 0, type: VoteType.precommit, blockHash: executed.hash }),
    );
    const commit: Commit = {
      height,
      round: 0,
      blockHash: executed.hash,
      signatures: [{ validator: this.validator.publicKey, signature }],
    };
    await this.ledger.commit(executed, commit);
    this.#lastCommit = commit;
    return { executed, executeMs: t1 - t0, commitMs: performance.now() - t1 };
  }
}

/** Throws unless every receipt of the block is OK (`what` names the block in the message). */
function allOk(executed: ExecutedBlock, what: string): void {
  const bad = executed.receipts.find((r) => r.code !== "OK");
  if (bad !== undefined) throw new Error(`${what}: a transaction failed with ${bad.code}: ${bad.message}`);
}

const BLOCK_TRANSFERS = 1_000;

/**
 * A case: execute + commit of a block of 1,000 pre-signed `contract.transfer` calls by `senders`
 * (each to a new account), signed untimed; the execute / commit split goes to `breakdown`.
 */
function transferBlock(
  chain: Chain,
  senders: readonly NativeSigner[],
  contract: string,
  breakdown: Map<string, number[]>,
): Fn {
  let blocks = 0;
  return timedPart(async () => {
    const txs = tokenTransfers({
      chainId: CHAIN_ID,
      senders,
      expiry: chain.height + 500,
      contract,
      count: BLOCK_TRANSFERS,
    });
    return async () => {
      const cpu0 = process.cpuUsage();
      const { executed, executeMs, commitMs } = await chain.block(txs);
      const cpu = process.cpuUsage(cpu0);
      record(breakdown, "execute", executeMs);
      record(breakdown, "commit", commitMs);
      // CPU of the whole process, V8's GC helper threads included: more than the wall time when they work.
      record(breakdown, "process CPU", (cpu.user + cpu.system) / 1000);
      if (blocks++ === 0) allOk(executed, `${contract} transfers`);
    };
  });
}

async function ledgerCases(): Promise<void> {
  const senders = freshSigners(100);
  const chain = await freshChain(
    "ledger",
    senders.map((s) => s.publicKey),
  );
  const breakdown = new Map<string, number[]>();
  await runGroup("ledger", { time: 0, warmupTime: 0, warmupIterations: 2, iterations: 12 }, [
    {
      name: "ledger execute+commit, block of 1,000 token transfers (fsync)",
      fn: transferBlock(chain, senders, "token", breakdown),
      items: BLOCK_TRANSFERS,
      itemLabel: "transfer",
      fnOptions: { async: true },
      breakdown,
    },
  ]);
}

/** Whether any of the cases (or their group) passes --filter: to skip an expensive setup. */
function wanted(group: string, names: readonly string[]): boolean {
  return FILTER === undefined || FILTER.test(group) || names.some((n) => FILTER.test(n));
}

async function contractCases(): Promise<void> {
  const CALLS = "contracts: deploy and calls";
  const TRANSFERS = "contracts: token transfers, Wasm vs native";
  const names = {
    prepare: "contract deploy: prepareContract (verify + instrument) of the example token",
    supply: "contract call: token supply() query, createVm + memory host (module cached)",
    transfer: "contract call: token transfer(), createVm + memory host (module cached)",
    native: "native token: ledger execute+commit, block of 1,000 transfers (fsync)",
    wasm: "Wasm token: ledger execute+commit, block of 1,000 transfers (fsync)",
  };
  const runCalls = wanted(CALLS, [names.prepare, names.supply, names.transfer]);
  const runTransfers = wanted(TRANSFERS, [names.native, names.wasm]);
  if (!runCalls && !runTransfers) return;
  // Untimed: `buildContract` of packages/contract-examples/contracts/token.
  const wasm = await buildExampleToken();
  const prepared = prepareContract(wasm);
  const kib = (wasm.length / 1024).toFixed(1);

  if (runCalls) {
    const vm = createVm();
    const alice = new Uint8Array(32).fill(1);
    const bob = new Uint8Array(32).fill(2);
    const host = createMemoryHost({ caller: alice, height: 7, time: Date.now() });
    const GAS = defaultChainParams.maxTxGas;
    const call = (method: string, args: Value[], readOnly = false) => {
      const r = vm.call({ ...prepared, method, input: encode(args), gasLimit: GAS, host, readOnly });
      if (!r.ok) throw new Error(`${method} failed: ${r.code}: ${r.message}`);
      return r;
    };
    call("init", ["Bench", "BNCH"]);
    call("mint", [alice, 1n << 62n]);
    const supplyGas = call("supply", [], true).gasUsed;
    const transferGas = call("transfer", [bob, 1]).gasUsed;
    const supplyInput = encode([]);
    const transferInput = encode([bob, 1]);
    await runGroup(CALLS, { time: 1000, warmupTime: 200 }, [
      { name: `${names.prepare} (${kib} KiB)`, fn: () => prepareContract(wasm) },
      {
        name: `${names.supply}, ${supplyGas} gas`,
        fn: () => vm.call({ ...prepared, method: "supply", input: supplyInput, gasLimit: GAS, host, readOnly: true }),
      },
      {
        name: `${names.transfer}, ${transferGas} gas`,
        fn: () => vm.call({ ...prepared, method: "transfer", input: transferInput, gasLimit: GAS, host }),
      },
    ]);
  }

  if (runTransfers) {
    const senders = freshSigners(100);
    const native = await freshChain(
      "contracts-native",
      senders.map((s) => s.publicKey),
    );
    // The Wasm token: deployed, initialised and minted to the senders in one setup block (untimed).
    const wasmChain = await freshChain("contracts-wasm", []);
    const setupCall = (c: ContractCall) =>
      signedCall({ chainId: CHAIN_ID, signer: adminSigner, expiry: wasmChain.height + 500, ...c });
    const setup = await wasmChain.block([
      setupCall(contracts.deploy(WASM_TOKEN, wasm)),
      setupCall(call(WASM_TOKEN, "init", ["Bench token", "BNCH"])),
      ...senders.map((s) => setupCall(call(WASM_TOKEN, "mint", [s.publicKey, 1_000_000_000_000]))),
    ]);
    allOk(setup.executed, "Wasm token setup (deploy, init, mint)");
    const nativeBreakdown = new Map<string, number[]>();
    const wasmBreakdown = new Map<string, number[]>();
    await runGroup(TRANSFERS, { time: 0, warmupTime: 0, warmupIterations: 2, iterations: 12 }, [
      {
        name: names.native,
        fn: transferBlock(native, senders, "token", nativeBreakdown),
        items: BLOCK_TRANSFERS,
        itemLabel: "transfer",
        fnOptions: { async: true },
        breakdown: nativeBreakdown,
      },
      {
        name: names.wasm,
        fn: transferBlock(wasmChain, senders, WASM_TOKEN, wasmBreakdown),
        items: BLOCK_TRANSFERS,
        itemLabel: "transfer",
        fnOptions: { async: true },
        breakdown: wasmBreakdown,
      },
    ]);
    const n = results.find((r) => r.name === names.native);
    const w = results.find((r) => r.name === names.wasm);
    if (n !== undefined && w !== undefined) {
      ratios.push({ name: "Wasm / native token transfer, execute+commit", ratio: w.perItemUs / n.perItemUs });
      const part = (r: MicroResult, k: string) => r.breakdownMs?.[k] ?? Number.NaN;
      ratios.push({
        name: "Wasm / native token transfer, execute only",
        ratio: part(w, "execute") / part(n, "execute"),
      });
      ratios.push({
        name: "Wasm / native token transfer, process CPU (all threads)",
        ratio: part(w, "process CPU") / part(n, "process CPU"),
      });
    }
  }
}

async function mempoolCases(): Promise<void> {
  const ledger = await freshLedger("mempool", [], freshSigners(1)[0] as NativeSigner);
  const pool = new VerifyPool({ workers: WORKERS });
  cleanups.push(() => pool.close());
  const mempool = new Mempool({ admission: ledger, verifier: pool, maxTxBytes: defaultChainParams.maxTxBytes });
  let n = 0;
  const admit = timedPart(async () => {
    const txs = Array.from({ length: 1_000 }, () => kvPut(CHAIN_ID, adminSigner, 500, "mempool-", n++));
    const envelopes = txs.map((t) => t.bytes);
    return async () => {
      const res = await mempool.add(envelopes);
      const bad = res.find((r) => !r.ok);
      if (bad !== undefined && !bad.ok) throw new Error(`mempool refused a valid tx: ${bad.code} ${bad.message}`);
      mempool.removeCommitted(txs);
    };
  });
  await runGroup("mempool", { time: 0, warmupTime: 0, warmupIterations: 3, iterations: 20 }, [
    {
      name: `mempool.add 1,000 pre-signed kv txs (VerifyPool ${WORKERS} workers)`,
      fn: admit,
      items: 1_000,
      itemLabel: "tx",
      fnOptions: { async: true },
    },
  ]);
}

/**
 * The ledger's admission checks (chain, expiry, replay index, contract arguments) of 1,000 kv puts
 * by 50 senders, on an open chain and on a permissioned one, where each sender's identity and role
 * is also looked up in the governance registry (`ChainRegistry.authorize`). Signatures are not
 * verified here (the mempool's VerifyPool does that): this is the part that runs on the main thread.
 */
async function admissionCases(): Promise<void> {
  const names = {
    open: "admission: Ledger.checkAdmission 1,000 kv txs, open chain",
    permissioned: "admission: Ledger.checkAdmission 1,000 kv txs, permissioned chain (identity + role per sender)",
  };
  if (!wanted("admission", Object.values(names))) return;
  const senders = freshSigners(50);
  const [validator] = freshSigners(1) as [NativeSigner];
  const open = await freshLedger("admission-open", [], validator);
  const permissioned = await freshLedger("admission-permissioned", [], validator, [
    {
      name: "org0",
      members: [
        { publicKey: admin.publicKey, roles: ["admin", "client"] },
        ...senders.map((s) => ({ publicKey: s.publicKey, roles: ["client" as const] })),
      ],
    },
    { name: "org1", members: [{ publicKey: freshSigners(1)[0]!.publicKey, roles: ["admin", "client"] }] },
  ]);
  if (!permissioned.registry.permissioned) throw new Error("admission bench: the chain is not permissioned");
  const batch = Array.from({ length: 1_000 }, (_, i) =>
    kvPut(CHAIN_ID, senders[i % senders.length] as NativeSigner, 500, "admission-", i),
  );
  const check = (ledger: Ledger) => async () => {
    const res = await ledger.checkAdmission(batch);
    const bad = res.find((r) => r !== null);
    if (bad != null) throw new Error(`admission refused a valid tx: ${bad.code} ${bad.message}`);
  };
  // A stranger is refused on the permissioned chain: the check runs, it is not a no-op.
  const stranger = kvPut(CHAIN_ID, freshSigners(1)[0] as NativeSigner, 500, "admission-x", 0);
  const [refusal] = await permissioned.checkAdmission([stranger]);
  if (refusal?.code !== "UNKNOWN_IDENTITY") throw new Error(`admission bench: a stranger got ${refusal?.code}`);
  await runGroup("admission", { time: 1000, warmupTime: 200 }, [
    { name: names.open, fn: check(open), items: 1_000, itemLabel: "tx", fnOptions: { async: true } },
    { name: names.permissioned, fn: check(permissioned), items: 1_000, itemLabel: "tx", fnOptions: { async: true } },
  ]);
}

/**
 * Consensus message handling in the Tendermint state machine of a validator of 4 (not the
 * proposer), with OpenSSL Ed25519: a proposal carrying a real 1,000-transaction block (signature
 * check, header decode and hash; the ledger's re-execution is the ledger case, so `validate`
 * answers true), and the 6 votes that decide the height (3 prevotes, then 3 precommits, with this
 * validator's own precommit signed and the commit emitted). Also the gossip envelope of a vote and
 * the check of a commit certificate that block sync does for every block it receives.
 */
async function consensusCases(): Promise<void> {
  const names = {
    proposal: "consensus: Tendermint onProposal, 1,000-tx block, 4 validators (verify, hash, sign prevote)",
    votes: "consensus: Tendermint onVote x6 to decide a height, 4 validators (verify, tally, sign precommit, commit)",
    gossip: "consensus: vote gossip message encode + decode (encodeConsensusMessage / decodeConsensusMessage)",
    certificate: "consensus: verifyCommit, certificate of 3 of 4 validators (block sync)",
  };
  if (!wanted("consensus", Object.values(names))) return;
  const signers = freshSigners(4);
  const validators: Validator[] = signers.map((s, i) => ({ publicKey: s.publicKey, power: 1, name: `v${i}` }));
  const height = 1;
  const proposerKey = proposerSchedule(validators)(height, 0).publicKey;
  const proposerAt = signers.findIndex((s) => equalBytes(s.publicKey, proposerKey));
  const selfAt = (proposerAt + 1) % signers.length;
  const self = signers[selfAt] as NativeSigner;
  const others = signers.filter((_, i) => i !== selfAt);
  const blockBytes = encodeBlock(sampleBlock(height, proposerKey));
  const hash = blockHash(decodeBlock(blockBytes).header);
  const proposal = signProposal(CHAIN_ID, signers[proposerAt] as NativeSigner, {
    height,
    round: 0,
    polRound: -1,
    blockHash: hash,
    block: blockBytes,
  });
  const vote = (type: VoteType) =>
    others.map((s) => signVote(CHAIN_ID, s, { type, height, round: 0, blockHash: hash }));
  const prevotes = vote(VoteType.prevote);
  const precommits = vote(VoteType.precommit);
  const machine = () => {
    const m = createTendermint({
      chainId: CHAIN_ID,
      validators,
      self: self.publicKey,
      height,
      signer: self,
      verify: nativeVerify,
      validate: () => true,
    });
    m.start();
    return m;
  };
  const needEffect = (effects: Effect[], type: Effect["type"], what: string) => {
    if (!effects.some((e) => e.type === type)) {
      const got = effects.map((e) => (e.type === "reject" ? `reject ${e.code}: ${e.reason}` : e.type)).join(", ");
      throw new Error(`${what}: expected a ${type} effect, got ${got || "none"}`);
    }
  };
  const onProposal = timedPart(async () => {
    const m = machine();
    return async () => needEffect(m.onProposal(proposal), "broadcast", "onProposal");
  });
  const onVotes = timedPart(async () => {
    const m = machine();
    m.onProposal(proposal);
    return async () => {
      const effects = [...prevotes, ...precommits].flatMap((v) => m.onVote(v));
      needEffect(effects, "commit", "onVote");
    };
  });
  const gossip = encodeConsensusMessage({ kind: "vote", vote: prevotes[0] as (typeof prevotes)[number] });
  const commit: Commit = {
    height,
    round: 0,
    blockHash: hash,
    signatures: precommits.map((v) => ({ validator: v.validator, signature: v.signature })),
  };
  verifyCommit(CHAIN_ID, commit, hash, validators, nativeVerify);
  await runGroup("consensus", { time: 1000, warmupTime: 200 }, [
    { name: names.proposal, fn: onProposal, fnOptions: { async: true } },
    { name: names.votes, fn: onVotes, items: 6, itemLabel: "vote", fnOptions: { async: true } },
    {
      name: names.gossip,
      fn: () => decodeConsensusMessage(encodeConsensusMessage(decodeConsensusMessage(gossip))),
    },
    {
      name: names.certificate,
      fn: () => verifyCommit(CHAIN_ID, commit, hash, validators, nativeVerify),
      items: 3,
      itemLabel: "sig",
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Output

function printResults(machine: MachineInfo, changes: Map<string, CaseChange> | undefined): void {
  const rows = results.map((r) => [
    r.name,
    r.opsPerSec,
    formatMs(r.meanMs),
    formatMs(r.p99Ms),
    `±${formatNumber(r.rmePct)}%`,
    r.samples,
    r.items === 1 ? "" : `${formatNumber(r.perItemUs)} µs/${r.itemLabel} (${formatNumber(r.itemsPerSec)}/s)`,
    r.otherCores.toFixed(2),
    ...(changes === undefined ? [] : [formatChange(changes.get(r.name))]),
  ]);
  const header = ["Case", "ops/s", "mean", "p99", "margin", "samples", "per item", "busy*"];
  if (changes !== undefined) header.push("vs last**");
  process.stdout.write(`\nCairn micro-benchmarks: ${describeMachine(machine)}\n\n`);
  process.stdout.write(`${markdownTable(header, rows)}\n`);
  process.stdout.write(
    "\n* busy: cores other processes used while the case ran; above ~0.1 the case competed for the CPU.\n",
  );
  if (changes !== undefined && BASELINE !== undefined) {
    process.stdout.write(
      `** vs last: change of the mean time per operation since ${BASELINE_FILE} (${BASELINE.machine.date}); + is slower; SLOWER: more than ${THRESHOLD_PCT} % slower with a quiet CPU in both runs.\n`,
    );
  }
  for (const r of results) {
    if (r.breakdownMs === undefined) continue;
    const parts = Object.entries(r.breakdownMs).map(([k, v]) => `${k} ${formatMs(v)}`);
    process.stdout.write(`\n${r.name}: mean ${parts.join(", ")}\n`);
  }
  for (const q of ratios) process.stdout.write(`\n${q.name}: ${q.ratio.toFixed(2)}x\n`);
}

/** The regressions against the previous run, loud enough to be seen at the end of the output. */
function printRegressions(changes: Map<string, CaseChange>, machine: MachineInfo): void {
  const before = BASELINE as MicroResults;
  const c0 = before.machine.calibration;
  const c1 = machine.calibration;
  const speed =
    c0 === undefined
      ? ""
      : ` Machine speed then / now: Ed25519 verify ${c0.ed25519VerifyUs} / ${c1.ed25519VerifyUs} µs (when it moved, every case moves with it).`;
  const all = [...changes.values()];
  const regressions = all.filter((c) => c.regression);
  const busy = all.filter((c) => c.slowerWhileBusy);
  process.stdout.write(`\nCompared with ${BASELINE_FILE} (${describeMachine(before.machine)}).${speed}\n`);
  if (regressions.length === 0) {
    process.stdout.write(`No case is more than ${THRESHOLD_PCT} % slower than in the previous run.\n`);
  } else {
    process.stdout.write(
      `\n!!! ${regressions.length} REGRESSION${regressions.length === 1 ? "" : "S"}: mean time more than ${THRESHOLD_PCT} % above the previous run !!!\n`,
    );
    for (const c of regressions) {
      process.stdout.write(`  - ${c.name}: ${formatMs(c.thenMs)} -> ${formatMs(c.nowMs)} (${formatChange(c)})\n`);
    }
  }
  if (busy.length > 0) {
    process.stdout.write(
      `${busy.length} more case${busy.length === 1 ? " was" : "s were"} slower while another process used the CPU (not conclusive; rerun with --wait-quiet): ${busy.map((c) => c.name).join("; ")}\n`,
    );
  }
}

function printComparison(file: string, machine: MachineInfo): void {
  const before = BASELINE;
  if (before === undefined) return;
  const old = new Map(before.results.map((r) => [r.name, r]));
  const rows = results.map((r) => {
    const o = old.get(r.name);
    const busy = (x: MicroResult | undefined) => (x?.otherCores === undefined ? "?" : x.otherCores.toFixed(2));
    if (o === undefined) return [r.name, "-", formatNumber(r.opsPerSec), "new", `- / ${busy(r)}`];
    const ratio = r.opsPerSec / o.opsPerSec;
    const flag = ratio >= 1.1 ? " faster" : ratio <= 0.9 ? " SLOWER" : "";
    return [
      r.name,
      formatNumber(o.opsPerSec),
      formatNumber(r.opsPerSec),
      `${ratio.toFixed(2)}x${flag}`,
      `${busy(o)} / ${busy(r)}`,
    ];
  });
  process.stdout.write(`\nCompared with ${file}: ${describeMachine(before.machine)}\n`);
  const c0 = before.machine.calibration;
  const c1 = machine.calibration;
  if (c0 !== undefined) {
    process.stdout.write(
      `Machine speed then / now: Ed25519 verify ${c0.ed25519VerifyUs} / ${c1.ed25519VerifyUs} µs, SHA-256 ${c0.sha256Us} / ${c1.sha256Us} µs` +
        " (when these moved, every case moves with them)\n",
    );
  }
  process.stdout.write("(ratio = ops/s now / ops/s then; > 1 is faster; differences under ~10% are noise)\n\n");
  process.stdout.write(`${markdownTable(["Case", "ops/s then", "ops/s now", "ratio", "busy* then / now"], rows)}\n`);
}

const machine = machineInfo();
const monitor = new LoadMonitor();
const cpuStart = process.cpuUsage();
try {
  await cryptoCases();
  await messagingCases();
  await storageCases();
  await ledgerCases();
  await mempoolCases();
  await admissionCases();
  await consensusCases();
  await contractCases();
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}
const cpu = process.cpuUsage(cpuStart);
const contention = monitor.stop((cpu.user + cpu.system) / 1e6);
const changes = BASELINE === undefined ? undefined : compareRuns(BASELINE.results, results, THRESHOLD_PCT);
const regressions = [...(changes?.values() ?? [])].filter((c) => c.regression);
const out: MicroResults = {
  kind: "cairn-micro",
  machine,
  options: { quick: SCALE !== 1, workers: WORKERS, ...(FILTER === undefined ? {} : { filter: FILTER.source }) },
  durationSec: Math.round((performance.now() - started) / 100) / 10,
  contention,
  results,
  ...(ratios.length === 0 ? {} : { ratios }),
  ...(BASELINE === undefined
    ? {}
    : {
        comparison: {
          file: BASELINE_FILE,
          date: BASELINE.machine.date,
          thresholdPct: THRESHOLD_PCT,
          regressions: regressions.map((c) => ({
            name: c.name,
            thenMs: c.thenMs,
            nowMs: c.nowMs,
            changePct: Math.round(c.change * 1000) / 10,
          })),
        },
      }),
};
printResults(machine, changes);
process.stdout.write(`\nLoad: ${describeContention(contention)}\n`);
if (contention.otherCores > 0.2) {
  process.stdout.write("WARNING: other processes were using the CPU; these numbers are not reliable.\n");
}
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`\nWrote ${JSON_OUT} (${out.durationSec} s)\n`);
if (opts.has("compare")) printComparison(BASELINE_FILE, machine);
if (changes !== undefined) printRegressions(changes, machine);
if (regressions.length > 0 && opts.has("fail-on-regression")) process.exitCode = 1;
