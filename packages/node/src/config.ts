import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApiGuards } from "@cairn/api";
import { encodeKeyFile, parseKeyFile } from "@cairn/client";
import type { RaftOptions, TendermintOptions } from "@cairn/consensus";
import { generateKeyPair, type KeyPair } from "@cairn/crypto";
import { defaultChainParams, type Genesis, type GenesisJson, genesisToJson, parseGenesis } from "@cairn/ledger";
import { NodeError } from "./errors.ts";

/** A node's configuration file (HOME/config.json). Every field has a default. */
export interface NodeConfig {
  readonly moniker: string;
  readonly api: {
    readonly host: string;
    readonly port: number;
    /**
     * Timeouts, connection caps and the per-client write rate (docs/operations.md "Hostile
     * clients"); each field has a default (@cairn/api defaultApiGuards).
     */
    readonly limits?: Partial<ApiGuards>;
  };
  readonly consensus: {
    /**
     * "solo" for a one-validator chain without a network; "tendermint" or "raft" for a cluster, and
     * it must be the engine the chain's genesis names (`consensus`, default "tendermint").
     */
    readonly engine: "solo" | "tendermint" | "raft";
    /** solo: how long a partial block waits for more transactions (ms). */
    readonly blockInterval: number;
    /** tendermint, raft: how often an idle chain makes an empty block (ms). */
    readonly emptyBlockInterval?: number;
    /** tendermint: least time from one height's start to the next's (ms; docs/consensus.md; default 120). */
    readonly minBlockInterval?: number;
    /** tendermint: step timeouts (ms; docs/consensus.md), each defaulting as in the engine. */
    readonly timeouts?: Partial<TendermintTimeouts>;
    /** tendermint, teaching mode (`cairn cluster --teach`): wait this long before each proposal and vote sent (ms). */
    readonly stepPaceMs?: number;
    /** raft: election timeout range and heartbeat interval (ms; docs/consensus.md). */
    readonly raft?: Partial<RaftOptions>;
  };
  /** The peer-to-peer network (tendermint only): listen address and bootstrap peers (multiaddrs with /p2p/ids). */
  readonly p2p?: { readonly listen: string; readonly bootstrap: readonly string[] };
  readonly mempool: { readonly maxTxs: number; readonly maxBytes: number };
  /** Snapshots this node takes and serves, and joining by state sync (docs/state-sync.md). */
  readonly stateSync: {
    /** On a node with an empty ledger: restore a peer's snapshot instead of replaying every block. */
    readonly enable: boolean;
    /** Take a snapshot after every this-many blocks (0: take none). */
    readonly snapshotInterval: number;
    /** Snapshots kept on disk (HOME/data/snapshots), older ones deleted. */
    readonly snapshotKeep: number;
    /** Target bytes of a snapshot chunk. */
    readonly chunkBytes: number;
  };
  readonly storage: { readonly sync: boolean };
  /** e.g. "info" or "info,consensus=debug" */
  readonly logLevel: string;
  /** Worker threads verifying signatures (default: one per core). */
  readonly verifyWorkers?: number;
  /** Gas bound of a read-only contract query (POST /query), so reads cannot tie up the node. */
  readonly maxQueryGas: number;
}

/** The Tendermint step timeouts a config may set: each step waits base + round × delta ms. */
export type TendermintTimeouts = Pick<
  TendermintOptions,
  | "timeoutPropose"
  | "timeoutProposeDelta"
  | "timeoutPrevote"
  | "timeoutPrevoteDelta"
  | "timeoutPrecommit"
  | "timeoutPrecommitDelta"
>;

export const defaultNodeConfig: NodeConfig = {
  moniker: "node0",
  api: { host: "127.0.0.1", port: 26657 },
  consensus: { engine: "solo", blockInterval: 50 },
  mempool: { maxTxs: 100_000, maxBytes: 128 * 1024 * 1024 },
  stateSync: { enable: false, snapshotInterval: 1_000, snapshotKeep: 2, chunkBytes: 1024 * 1024 },
  storage: { sync: true },
  logLevel: "info",
  maxQueryGas: 10_000_000,
};

/** Where a node keeps its files. */
export function homePaths(home: string) {
  return {
    home,
    config: join(home, "config.json"),
    genesis: join(home, "genesis.json"),
    keys: join(home, "keys"),
    validatorKey: join(home, "keys", "validator.json"),
    peerKey: join(home, "keys", "peer.key"),
    adminKey: join(home, "keys", "admin.json"),
    data: join(home, "data"),
    /** The validator's safety record, beside the database (inside the Docker data volume), not in it. */
    safetyRecord: join(home, "data", "safety-record.bin"),
    /** Snapshots this node serves to nodes joining by state sync. */
    snapshots: join(home, "data", "snapshots"),
  };
}

/** Reads a key file in the SDK's format (@cairn/client `parseKeyFile`), naming the file on error. */
export async function readKeyFile(path: string): Promise<KeyPair> {
  try {
    return parseKeyFile(await readFile(path, "utf8"));
  } catch (cause) {
    throw new NodeError("BAD_KEY_FILE", `cannot use key file ${path}: ${(cause as Error).message}`, { cause });
  }
}

export async function writeKeyFile(path: string, k: KeyPair): Promise<void> {
  // Secret keys are readable by the owner only.
  await writeFile(path, encodeKeyFile(k), { mode: 0o600, flag: "wx" });
}

export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new NodeError("MISSING_FILE", `cannot read ${what} at ${path}; run \`cairn init --home <dir>\` first`, {
      cause,
    });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new NodeError("BAD_JSON", `${what} at ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

export async function loadConfig(home: string): Promise<NodeConfig> {
  const raw = (await readJson(homePaths(home).config, "node config")) as Partial<NodeConfig>;
  const c: NodeConfig = {
    ...defaultNodeConfig,
    ...raw,
    api: { ...defaultNodeConfig.api, ...raw.api },
    consensus: { ...defaultNodeConfig.consensus, ...raw.consensus },
    mempool: { ...defaultNodeConfig.mempool, ...raw.mempool },
    stateSync: { ...defaultNodeConfig.stateSync, ...raw.stateSync },
    storage: { ...defaultNodeConfig.storage, ...raw.storage },
  };
  if (!Number.isInteger(c.api.port) || c.api.port < 0 || c.api.port > 65535) {
    throw new NodeError("BAD_CONFIG", `config.api.port must be 0-65535, got ${c.api.port}`);
  }
  if (!["solo", "tendermint", "raft"].includes(c.consensus.engine)) {
    throw new NodeError(
      "BAD_CONFIG",
      `config.consensus.engine "${c.consensus.engine}" is unknown (engines: solo, tendermint, raft)`,
    );
  }
  const mbi = c.consensus.minBlockInterval;
  if (mbi !== undefined && (!Number.isSafeInteger(mbi) || mbi < 0 || mbi > 60_000)) {
    throw new NodeError("BAD_CONFIG", `config.consensus.minBlockInterval must be 0 to 60000 ms, got ${mbi}`);
  }
  const ss = c.stateSync;
  if (typeof ss.enable !== "boolean")
    throw new NodeError("BAD_CONFIG", "config.stateSync.enable must be true or false");
  if (!Number.isSafeInteger(ss.snapshotInterval) || ss.snapshotInterval < 0) {
    throw new NodeError(
      "BAD_CONFIG",
      `config.stateSync.snapshotInterval must be 0 or more blocks, got ${ss.snapshotInterval}`,
    );
  }
  if (!Number.isSafeInteger(ss.snapshotKeep) || ss.snapshotKeep < 1) {
    throw new NodeError("BAD_CONFIG", `config.stateSync.snapshotKeep must be 1 or more, got ${ss.snapshotKeep}`);
  }
  if (!Number.isSafeInteger(ss.chunkBytes) || ss.chunkBytes < 1024 || ss.chunkBytes > 8 * 1024 * 1024) {
    throw new NodeError("BAD_CONFIG", `config.stateSync.chunkBytes must be 1024 to 8388608, got ${ss.chunkBytes}`);
  }
  if (!Number.isSafeInteger(c.maxQueryGas) || c.maxQueryGas < 1) {
    throw new NodeError("BAD_CONFIG", `config.maxQueryGas must be a positive integer, got ${c.maxQueryGas}`);
  }
  for (const [k, v] of Object.entries(c.api.limits ?? {})) {
    if (!Number.isSafeInteger(v) || (v as number) < 1) {
      throw new NodeError("BAD_CONFIG", `config.api.limits.${k} must be a positive integer, got ${v}`);
    }
  }
  if (c.consensus.engine !== "solo" && c.p2p === undefined) {
    throw new NodeError(
      "BAD_CONFIG",
      `config.p2p (listen, bootstrap) is required with the ${c.consensus.engine} engine`,
    );
  }
  return c;
}

export async function loadGenesis(home: string): Promise<Genesis> {
  return parseGenesis(await readJson(homePaths(home).genesis, "genesis"));
}

/** The config's engine must be the one the chain runs: its genesis decides what a certificate is. */
export function checkEngine(config: NodeConfig, genesis: Genesis): void {
  const chain = genesis.consensus ?? "tendermint";
  const engine = config.consensus.engine;
  if (engine === "solo" ? chain !== "tendermint" : engine !== chain) {
    throw new NodeError(
      "BAD_CONFIG",
      `config.consensus.engine is "${engine}" but the chain's genesis runs ${chain}: set config.consensus.engine to "${chain}"`,
    );
  }
}

export interface InitOptions {
  readonly home: string;
  readonly chainId?: string;
  readonly moniker?: string;
  readonly apiPort?: number;
  /** Initial token balance of the admin key. */
  readonly adminBalance?: bigint;
}

export interface InitResult {
  readonly home: string;
  readonly chainId: string;
  readonly validator: KeyPair;
  readonly admin: KeyPair;
}

/**
 * Creates a one-node development chain in `home`: a validator key, an admin key holding tokens,
 * a genesis with this node as the only validator, and a config. Refuses to overwrite.
 */
export async function initHome(opts: InitOptions): Promise<InitResult> {
  const p = homePaths(opts.home);
  if (existsSync(p.genesis) || existsSync(p.config)) {
    throw new NodeError("HOME_EXISTS", `${opts.home} already holds a node; choose another --home or remove it first`);
  }
  await mkdir(p.keys, { recursive: true, mode: 0o700 });
  const validator = generateKeyPair();
  const admin = generateKeyPair();
  const chainId = opts.chainId ?? "cairn-dev";
  const moniker = opts.moniker ?? "node0";
  const genesis: Genesis = {
    chainId,
    genesisTime: Date.now(),
    validators: [{ publicKey: validator.publicKey, power: 1, name: moniker }],
    admins: [admin.publicKey],
    accounts: [{ publicKey: admin.publicKey, balance: opts.adminBalance ?? 1_000_000_000_000n }],
    members: [],
    params: defaultChainParams,
  };
  const genesisJson: GenesisJson = genesisToJson(genesis);
  const config: NodeConfig = {
    ...defaultNodeConfig,
    moniker,
    api: { ...defaultNodeConfig.api, port: opts.apiPort ?? defaultNodeConfig.api.port },
  };
  await writeKeyFile(p.validatorKey, validator);
  await writeKeyFile(p.adminKey, admin);
  await writeFile(p.genesis, `${JSON.stringify(genesisJson, null, 2)}\n`, { flag: "wx" });
  await writeFile(p.config, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx" });
  return { home: opts.home, chainId, validator, admin };
}
