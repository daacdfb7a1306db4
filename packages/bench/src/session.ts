// A benchmark session on one running cluster: the target, the chain's identity and keys, and one
// follower of GET /events per node, which records when each node committed each height (and its
// hash, for the safety check) and hands the receipts to the round being measured.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseKeyFile } from "@cairn/client";
import type { KeyPair } from "@cairn/crypto";
import { type BlockEvent, followEvents } from "./events.ts";
import { settleWithin, sleep } from "./process.ts";
import type { BenchTarget } from "./target.ts";

export interface StatusJson {
  chainId: string;
  moniker: string;
  height: number;
  maxTxTtl: number;
  validators: { publicKey: string; power: number; name: string }[];
  consensus: {
    engine: string;
    height: number;
    round: number;
    step: string;
    raft?: { leader: string | null; term: number; role: string };
  };
  network: { peers: number; members: number };
}

export async function getJson<T>(url: string, timeoutMs = 5000): Promise<T> {
  const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Receives the blocks every node commits while a round is measured. */
export interface BlockSink {
  onBlock(node: number, e: BlockEvent, at: number): void;
}

/** Where and when one node committed a height. */
export interface CommitRecord {
  readonly hash: string;
  readonly at: number;
  readonly txCount: number;
}

/** Follows one node's GET /events for as long as the session lasts, reconnecting after failures. */
class NodeFollower {
  /** Height -> hash and the time this node's event arrived. */
  readonly commits = new Map<number, CommitRecord>();
  lastHeight = 0;
  connected = false;
  readonly #url: () => string;
  readonly #signal: AbortSignal;
  readonly #onBlock: (e: BlockEvent, at: number) => void;
  readonly done: Promise<void>;
  #ready: () => void = () => {};
  readonly ready: Promise<void>;

  constructor(url: () => string, signal: AbortSignal, onBlock: (e: BlockEvent, at: number) => void) {
    this.#url = url;
    this.#signal = signal;
    this.#onBlock = onBlock;
    this.ready = new Promise((r) => {
      this.#ready = r;
    });
    this.done = this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#signal.aborted) {
      const from = this.lastHeight > 0 ? this.lastHeight + 1 : undefined;
      const f = followEvents(
        this.#url(),
        (e, at) => {
          if (e.height <= this.lastHeight) return;
          this.lastHeight = e.height;
          this.commits.set(e.height, { hash: e.hash ?? "", at, txCount: e.txCount });
          this.#onBlock(e, at);
        },
        this.#signal,
        from,
      );
      void f.ready.then(() => {
        this.connected = true;
        this.#ready();
      });
      await f.done.catch(() => {});
      this.connected = false;
      if (!this.#signal.aborted) await sleep(300);
    }
  }
}

export interface SessionKeys {
  /** keys/admin.json: an admin of the chain (deploys and mints for the Wasm workload). */
  readonly admin: KeyPair | undefined;
  /** keys/client.json, client-1.json, ...: the registered senders. */
  readonly clients: readonly KeyPair[];
}

/** Reads admin.json and client.json, client-1.json ... from a `cairn testnet` keys directory. */
export function readKeys(dir: string): SessionKeys {
  const read = (f: string): KeyPair | undefined => {
    try {
      return parseKeyFile(readFileSync(join(dir, f), "utf8"));
    } catch {
      return undefined;
    }
  };
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    throw new Error(`cannot read the keys directory ${dir} (it should hold client.json, client-1.json, ...)`);
  }
  const clients: KeyPair[] = [];
  const first = read("client.json");
  if (first !== undefined) clients.push(first);
  const numbered = files
    .map((f) => /^client-(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  for (const k of numbered) {
    const key = read(`client-${k}.json`);
    if (key !== undefined) clients.push(key);
  }
  if (clients.length === 0) throw new Error(`no client keys (client.json, client-1.json, ...) in ${dir}`);
  return { admin: read("admin.json"), clients };
}

export class Session {
  readonly target: BenchTarget;
  readonly chainId: string;
  readonly maxTxTtl: number;
  /** The chain's consensus engine. */
  readonly engine: "tendermint" | "raft";
  readonly keys: SessionKeys;
  /** Node name -> validator key (hex), from each node's /status moniker. */
  readonly validatorKeys: ReadonlyMap<string, string>;
  readonly validators: StatusJson["validators"];
  /** Workload setups already done on this cluster (so rounds reuse them). */
  readonly prepared = new Map<string, unknown>();
  readonly #followers: NodeFollower[];
  readonly #abort: AbortController;
  #sink: BlockSink | undefined;
  /** performance.now() of the latest commit event from any node, and the highest height seen. */
  lastCommitAt = 0;
  maxHeight = 0;

  private constructor(
    target: BenchTarget,
    status: StatusJson,
    keys: SessionKeys,
    validatorKeys: Map<string, string>,
    abort: AbortController,
  ) {
    this.target = target;
    this.chainId = status.chainId;
    this.maxTxTtl = status.maxTxTtl;
    this.engine = status.consensus.engine === "raft" ? "raft" : "tendermint";
    this.validators = status.validators;
    this.keys = keys;
    this.validatorKeys = validatorKeys;
    this.#abort = abort;
    this.#followers = target.nodes().map(
      (_, i) =>
        new NodeFollower(
          () => (target.nodes()[i] as { url: string }).url,
          abort.signal,
          (e, at) => {
            if (e.height > this.maxHeight) this.maxHeight = e.height;
            this.lastCommitAt = at;
            this.#sink?.onBlock(i, e, at);
          },
        ),
    );
  }

  /**
   * Starts the target, waits until every node follows the others (peers connected, a block
   * committed), reads the keys and subscribes to every node's events.
   */
  static async open(target: BenchTarget, log: (s: string) => void = () => {}): Promise<Session> {
    await target.start();
    const nodes = target.nodes();
    const deadline = Date.now() + 90_000;
    let status: StatusJson | undefined;
    for (;;) {
      const st = await Promise.all(nodes.map((n) => getJson<StatusJson>(`${n.url}/status`).catch(() => undefined)));
      const ok = st.every(
        (s) => s !== undefined && s.height >= 1 && (nodes.length === 1 || s.network.peers >= nodes.length - 1),
      );
      if (ok) {
        status = st[0];
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the cluster did not connect and commit within 90 s: ${st
            .map(
              (s, i) =>
                `${nodes[i]?.name} ${s === undefined ? "down" : `height ${s.height}, ${s.network.peers} peers`}`,
            )
            .join("; ")}`,
        );
      }
      await sleep(250);
    }
    const validatorKeys = new Map<string, string>();
    for (const n of nodes) {
      const s = await getJson<StatusJson>(`${n.url}/status`);
      const v = s.validators.find((x) => x.name === s.moniker);
      if (v !== undefined) validatorKeys.set(n.name, v.publicKey);
    }
    const keys = readKeys(target.keysDir());
    const session = new Session(target, status as StatusJson, keys, validatorKeys, new AbortController());
    await settleWithin(Promise.all(session.#followers.map((f) => f.ready)), 15_000);
    log(`session: chain ${session.chainId}, ${nodes.length} validators, ${keys.clients.length} client keys`);
    return session;
  }

  /** Where the blocks go while a round is measured (undefined: nowhere). */
  setSink(sink: BlockSink | undefined): void {
    this.#sink = sink;
  }

  /** Height -> commit record of node i (everything since the session started). */
  commitsOf(i: number): ReadonlyMap<number, CommitRecord> {
    return (this.#followers[i] as NodeFollower).commits;
  }

  lastHeightOf(i: number): number {
    return (this.#followers[i] as NodeFollower).lastHeight;
  }

  /** Heights at which two nodes committed different blocks (a safety violation), first 10. */
  forks(): { height: number; hashes: Record<string, string> }[] {
    const out: { height: number; hashes: Record<string, string> }[] = [];
    const names = this.target.nodes().map((n) => n.name);
    for (let h = 1; h <= this.maxHeight && out.length < 10; h++) {
      const hashes: Record<string, string> = {};
      const distinct = new Set<string>();
      this.#followers.forEach((f, i) => {
        const c = f.commits.get(h);
        if (c !== undefined && c.hash !== "") {
          hashes[names[i] as string] = c.hash;
          distinct.add(c.hash);
        }
      });
      if (distinct.size > 1) out.push({ height: h, hashes });
    }
    return out;
  }

  /** Status of the first node that answers. */
  async status(): Promise<StatusJson> {
    let last: unknown;
    for (const n of this.target.nodes()) {
      try {
        return await getJson<StatusJson>(`${n.url}/status`);
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no node answers GET /status: ${(last as Error)?.message}`);
  }

  /** Waits (bounded) until every listed node has committed `height`. */
  async waitForHeight(nodes: readonly number[], height: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (nodes.every((i) => this.lastHeightOf(i) >= height)) return true;
      await sleep(100);
    }
    return false;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await settleWithin(Promise.allSettled(this.#followers.map((f) => f.done)), 5000);
    await this.target.stop();
  }
}
