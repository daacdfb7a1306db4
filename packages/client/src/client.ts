// A client of a node's HTTP API that runs wherever `fetch` does: Node, browsers, workers.
import { fromHex, type KeyPair, PUBLIC_KEY_LENGTH, toHex } from "@cairn/crypto";
import {
  decode,
  encode,
  MessagingError,
  type PrivateWrite,
  privateWriteToValue,
  type QueryResultJson,
  type SignedTransaction,
  type Value,
} from "@cairn/messaging";
import { bytesOf, textBytes } from "./bytes.ts";
import { CairnApiError, CairnClientError } from "./errors.ts";
import { eventsUrl, type SubscribeOptions, sleep, subscribeEvents } from "./events.ts";
import { createGovApi, type GovApi } from "./gov.ts";
import { Metrics, parseMetrics } from "./metrics.ts";
import type { PrivateDataInfo, PrivateHashInfo } from "./private.ts";
import { createSigner, type SendOptions, type Signer, type SignerOptions, type SubmitOptions } from "./signer.ts";
import { createTransport } from "./transport.ts";
import { decodeBalance } from "./tx.ts";
import type {
  BatchSubmitResult,
  BlockEvent,
  BlockInfo,
  ConsensusEventsInfo,
  ContractInfo,
  LogsInfo,
  QueryResult,
  StateInfo,
  StatusInfo,
  SubmitResult,
  TxInfo,
  TxTraceInfo,
} from "./types.ts";

export interface ClientOptions {
  /** Base URL of the node's API, e.g. http://127.0.0.1:26657. */
  readonly url: string;
  /** A fetch implementation; the global one by default. */
  readonly fetch?: typeof fetch;
  /** Extra headers on every request (say, for a proxy in front of the node). */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long signers reuse the chain id and height they fetched, ms. Default 5000. */
  readonly statusCacheMs?: number;
  /**
   * Signs every read with this key (every request but GET /status and POST /txs, the event stream
   * included), as a chain whose read policy is "members" requires: the key must be an active
   * identity with the route's role (docs/api.md, "Signed reads"). Harmless on an open chain.
   */
  readonly readKey?: KeyPair;
}

export interface WaitOptions {
  /** Default 30000. */
  readonly timeoutMs?: number;
  /** Polling interval, ms. Default 250. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export interface CairnClient {
  readonly url: string;
  status(): Promise<StatusInfo>;
  /** Submits one transaction: resolves with its outcome, throws CairnApiError if the node refuses it. */
  submit(tx: SignedTransaction | Uint8Array, opts?: SubmitOptions): Promise<SubmitResult>;
  /** Submits a batch: each item succeeds or fails on its own (see `results`). */
  submit(txs: readonly (SignedTransaction | Uint8Array)[], opts?: SubmitOptions): Promise<BatchSubmitResult>;
  /** A transaction's status; an unknown hash gives status "unknown" rather than an error. */
  getTx(hash: Uint8Array | string): Promise<TxInfo>;
  /**
   * The transaction's journey through this node's layers (trace points with their times); throws
   * CairnApiError TRACE_NOT_FOUND when this node did not receive it through its API.
   */
  getTxTrace(hash: Uint8Array | string): Promise<TxTraceInfo>;
  /** Polls until the transaction is committed or rejected; throws TIMEOUT otherwise. */
  waitForCommit(hash: Uint8Array | string, opts?: WaitOptions): Promise<TxInfo>;
  getBlock(height: number | "latest", opts?: { full?: boolean }): Promise<BlockInfo>;
  /** A state value with its proof; an absent key gives `value: null` rather than an error. Strings are UTF-8 keys. */
  getState(contract: string, key: Uint8Array | string): Promise<StateInfo>;
  /** An account's token balance (0 if it has none). */
  balance(account: Uint8Array | string): Promise<bigint>;
  /**
   * Runs a read-only method of a deployed contract on the committed state. A failure of the
   * contract is a result (`ok: false`, `code`); an unknown contract throws CairnApiError
   * UNKNOWN_CONTRACT (404).
   */
  query(
    contract: string,
    method: string,
    args?: readonly Value[],
    opts?: { signal?: AbortSignal },
  ): Promise<QueryResult>;
  /** A contract's description, or undefined when no contract has that name. */
  getContract(name: string): Promise<ContractInfo | undefined>;
  /** Calls `onBlock` for each committed block until `signal` aborts. */
  subscribe(onBlock: (block: BlockEvent) => void | Promise<void>, opts?: SubscribeOptions): Promise<void>;
  /**
   * The URL of GET /events for a browser's `EventSource` (which cannot send headers): with
   * `readKey`, signed through query parameters, and then good for a connection within 60 s only:
   * after an error, open a new EventSource with a fresh URL (and `from` the next height).
   */
  eventsUrl(opts?: { from?: number }): Promise<string>;
  signer(key: KeyPair, opts?: SignerOptions): Signer;
  /** The consensus engine's recent events after sequence number `after` (GET /consensus/events). */
  consensusEvents(opts?: { after?: number; limit?: number }): Promise<ConsensusEventsInfo>;
  /** The node's recent log lines (GET /logs; auditors and admins on a members-only chain). */
  logs(opts?: { after?: number; limit?: number; layer?: string; level?: string }): Promise<LogsInfo>;
  /** The node's Prometheus metrics, parsed (GET /metrics). */
  metrics(): Promise<Metrics>;
  /**
   * Submits a signed transaction that names private writes, with their plaintext (POST /txs/private):
   * the node must belong to a member organisation of every collection written.
   */
  submitPrivate(tx: SignedTransaction, writes: readonly PrivateWrite[], opts?: SubmitOptions): Promise<SubmitResult>;
  /** A private key's plaintext: a signed read (the client's read key) from a member node. */
  getPrivate(collection: string, key: Uint8Array | string): Promise<PrivateDataInfo>;
  /** The committed hash of a private key, as every node holds it (`valueHash` absent: never written). */
  getPrivateHash(collection: string, key: Uint8Array | string): Promise<PrivateHashInfo>;
  /** On-chain governance: proposals, organisations, validators, nodes; propose, approve, rotate, revoke. */
  readonly gov: GovApi;
}

/** Codes after which a signer refreshes the chain status and signs the call anew, once. */

/** A query's return value: null for none, or for bytes that are not one canonical value. */
function decodeOutput(hex: string): Value {
  if (hex === "") return null;
  try {
    return decode(fromHex(hex));
  } catch {
    return null;
  }
}

function envelopeOf(t: SignedTransaction | Uint8Array): Uint8Array {
  return t instanceof Uint8Array ? t : t.bytes;
}

export type { SendOptions, Signer, SignerOptions, SubmitOptions, SubscribeOptions };

export function createClient(opts: ClientOptions): CairnClient {
  const t = createTransport(opts);
  const { base, call, status } = t;

  /** POSTs a msgpack body to a submit route (POST /txs, POST /txs/private), waiting for the commit when asked. */
  function post<T>(path: string, body: Uint8Array, o: SubmitOptions): Promise<T> {
    const query = new URLSearchParams();
    if (o.wait === "commit") {
      query.set("wait", "commit");
      if (o.timeoutMs !== undefined) query.set("timeout", String(Math.max(0, Math.floor(o.timeoutMs))));
    }
    const qs = query.toString();
    return call<T>(
      `${path}${qs === "" ? "" : `?${qs}`}`,
      {
        method: "POST",
        headers: { "content-type": "application/msgpack" },
        // Canonical encodings are ArrayBuffer-backed; fetch's types want that said.
        body: body as Uint8Array<ArrayBuffer>,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      [],
      // Public: a transaction is signed itself.
      false,
    );
  }

  async function submit(
    input: SignedTransaction | Uint8Array | readonly (SignedTransaction | Uint8Array)[],
    o: SubmitOptions = {},
  ): Promise<SubmitResult | BatchSubmitResult> {
    const body = Array.isArray(input)
      ? encode((input as readonly (SignedTransaction | Uint8Array)[]).map(envelopeOf))
      : encode(envelopeOf(input as SignedTransaction | Uint8Array));
    return post("/txs", body, o);
  }

  const submitPrivate = (
    tx: SignedTransaction,
    writes: readonly PrivateWrite[],
    o: SubmitOptions = {},
  ): Promise<SubmitResult> => post("/txs/private", encode([tx.bytes, writes.map(privateWriteToValue)]), o);

  const privateKeyHex = (key: Uint8Array | string) => toHex(textBytes(key));
  const getPrivate = (collection: string, key: Uint8Array | string): Promise<PrivateDataInfo> =>
    call<PrivateDataInfo>(`/private/${encodeURIComponent(collection)}/${privateKeyHex(key)}`);
  const getPrivateHash = (collection: string, key: Uint8Array | string): Promise<PrivateHashInfo> =>
    call<PrivateHashInfo>(`/private/${encodeURIComponent(collection)}/${privateKeyHex(key)}/hash`, {}, [404]);

  const hashHex = (hash: Uint8Array | string): string => toHex(bytesOf(hash, "hash", 32));

  const getTx = (hash: Uint8Array | string): Promise<TxInfo> => call<TxInfo>(`/txs/${hashHex(hash)}`, {}, [404]);
  const getTxTrace = (hash: Uint8Array | string): Promise<TxTraceInfo> =>
    call<TxTraceInfo>(`/txs/${hashHex(hash)}/trace`);

  async function waitForCommit(hash: Uint8Array | string, o: WaitOptions = {}): Promise<TxInfo> {
    const deadline = Date.now() + (o.timeoutMs ?? 30_000);
    const pollMs = o.pollMs ?? 250;
    for (;;) {
      const info = await getTx(hash);
      if (info.status === "committed" || info.status === "rejected") return info;
      if (Date.now() + pollMs > deadline) {
        throw new CairnClientError("TIMEOUT", `transaction ${hashHex(hash)} is still ${info.status}`);
      }
      await sleep(pollMs, o.signal);
    }
  }

  const getBlock = (height: number | "latest", o: { full?: boolean } = {}): Promise<BlockInfo> =>
    call<BlockInfo>(`/blocks/${height === "latest" ? "latest" : String(height)}${o.full ? "?txs=full" : ""}`);

  // Keys always travel as hex: no escaping, and no "." or ".." path segments a URL parser would eat.
  const getState = (contract: string, key: Uint8Array | string): Promise<StateInfo> => {
    return call<StateInfo>(`/state/${encodeURIComponent(contract)}/${toHex(textBytes(key))}?encoding=hex`, {}, [404]);
  };

  async function balance(account: Uint8Array | string): Promise<bigint> {
    const s = await getState("token", bytesOf(account, "account", PUBLIC_KEY_LENGTH));
    return decodeBalance(s.value === null ? undefined : bytesOf(s.value, "balance"));
  }

  async function query(
    contract: string,
    method: string,
    args: readonly Value[] = [],
    o: { signal?: AbortSignal } = {},
  ): Promise<QueryResult> {
    let body: Uint8Array;
    try {
      body = encode([contract, method, args as Value[]]);
    } catch (err) {
      if (err instanceof MessagingError) throw new CairnClientError("BAD_ARGS", err.message, { cause: err });
      throw err;
    }
    const r = await call<QueryResultJson>("/query", {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: body as Uint8Array<ArrayBuffer>,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (!r.ok) {
      const { code, message, gasUsed, height } = r;
      return { ok: false, output: null, outputJson: null, outputHex: "", gasUsed, height, code, message };
    }
    return {
      ok: true,
      output: decodeOutput(r.outputHex),
      outputJson: r.output,
      outputHex: r.outputHex,
      gasUsed: r.gasUsed,
      height: r.height,
    };
  }

  async function getContract(name: string): Promise<ContractInfo | undefined> {
    try {
      return await call<ContractInfo>(`/contracts/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof CairnApiError && err.code === "UNKNOWN_CONTRACT") return undefined;
      throw err;
    }
  }

  const queryString = (o: Record<string, string | number | undefined>): string => {
    const q = Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join("&");
    return q === "" ? "" : `?${q}`;
  };

  const metrics = async (): Promise<Metrics> => new Metrics(parseMetrics(await t.text("/metrics")));

  return {
    url: base,
    status,
    consensusEvents: (o = {}) =>
      call<ConsensusEventsInfo>(`/consensus/events${queryString({ after: o.after, limit: o.limit })}`),
    logs: (o = {}) =>
      call<LogsInfo>(`/logs${queryString({ after: o.after, limit: o.limit, layer: o.layer, level: o.level })}`),
    metrics,
    submit: submit as CairnClient["submit"],
    getTx,
    getTxTrace,
    waitForCommit,
    getBlock,
    getState,
    balance,
    query,
    getContract,
    subscribe: (onBlock, o) => subscribeEvents(t, onBlock, o),
    eventsUrl: (o) => eventsUrl(t, o),
    signer: (key, so) => createSigner(t, { submit, balance, submitPrivate }, key, so),
    submitPrivate,
    getPrivate,
    getPrivateHash,
    gov: createGovApi((path, accept = []) => call(path, {}, accept)),
  };
}
