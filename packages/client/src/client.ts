// A client of a node's HTTP API that runs wherever `fetch` does: Node, browsers, workers.
import { fromHex, type KeyPair, PUBLIC_KEY_LENGTH, sign, toHex } from "@cairn/crypto";
import {
  decode,
  encode,
  MessagingError,
  type QueryResultJson,
  READ_KEY_HEADER,
  READ_KEY_PARAM,
  READ_SIGNATURE_HEADER,
  READ_SIGNATURE_PARAM,
  READ_TIME_HEADER,
  READ_TIME_PARAM,
  readBodyHash,
  readSigningBytes,
  type SignedTransaction,
  signTransaction,
  type Value,
} from "@cairn/messaging";
import { bytesOf } from "./bytes.ts";
import { CairnApiError, CairnClientError } from "./errors.ts";
import { createGovApi, type GovApi } from "./gov.ts";
import { SseParser } from "./sse.ts";
import { buildTransaction, type ContractCall, decodeBalance } from "./tx.ts";
import type {
  BatchSubmitResult,
  BlockEvent,
  BlockInfo,
  ContractInfo,
  QueryResult,
  StateInfo,
  StatusInfo,
  SubmitResult,
  TxInfo,
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

export interface SubmitOptions {
  /** Hold the request until the transactions commit (or the timeout passes). */
  readonly wait?: "commit";
  /** With `wait`: how long the node waits, ms (the node bounds it). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface WaitOptions {
  /** Default 30000. */
  readonly timeoutMs?: number;
  /** Polling interval, ms. Default 250. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export interface SubscribeOptions {
  /** Aborting ends the subscription; the returned promise then resolves. */
  readonly signal?: AbortSignal;
  /** First height to deliver (blocks before now are replayed). Default: only new blocks. */
  readonly from?: number;
  /** Reconnect, resuming after the last block seen, when the stream drops. Default true. */
  readonly reconnect?: boolean;
  /** Pause before reconnecting, ms. Default 1000. */
  readonly retryMs?: number;
  /** Told about each dropped connection before a reconnect. */
  readonly onError?: (err: unknown) => void;
}

export interface SignerOptions {
  /** Blocks a transaction stays valid for; capped by the chain's maxTxTtl. Default 1000. */
  readonly ttl?: number;
}

export interface SendOptions extends SubmitOptions {
  /** An explicit expiry height instead of height + ttl. */
  readonly expiry?: number;
}

/** Signs and sends contract calls as one account. */
export interface Signer {
  readonly key: KeyPair;
  /** The account address: the public key, hex. */
  readonly address: string;
  /** Builds and signs a call with the chain id and an expiry from the (cached) node status. */
  sign(call: ContractCall, opts?: { expiry?: number; nonce?: Uint8Array }): Promise<SignedTransaction>;
  send(call: ContractCall, opts?: SendOptions): Promise<SubmitResult>;
  send(calls: readonly ContractCall[], opts?: SendOptions): Promise<BatchSubmitResult>;
  balance(): Promise<bigint>;
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
  /** On-chain governance: proposals, organisations, validators, nodes; propose, approve, rotate, revoke. */
  readonly gov: GovApi;
}

/** Codes after which a signer refreshes the chain status and signs the call anew, once. */
const STALE_STATUS_CODES = new Set(["EXPIRED", "EXPIRY_TOO_FAR", "WRONG_CHAIN"]);

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new CairnClientError("ABORTED", "aborted");
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

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

export function createClient(opts: ClientOptions): CairnClient {
  const base = opts.url.replace(/\/+$/, "");
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const cacheMs = opts.statusCacheMs ?? 5000;

  // A signed read covers the request target as the node receives it: the path after the base
  // URL's own path (a proxy in front of the node strips that), and the query string.
  const basePath = new URL(base, "http://localhost").pathname.replace(/\/+$/, "");
  function targetOf(path: string): string {
    const u = new URL(`${base}${path}`, "http://localhost");
    const p = basePath !== "" && u.pathname.startsWith(basePath) ? u.pathname.slice(basePath.length) : u.pathname;
    return `${p}${u.search}`;
  }

  /** The x-cairn-* values of a read of `path` signed with `readKey`; undefined without one. */
  async function signRead(
    method: string,
    path: string,
    body: Uint8Array | undefined,
  ): Promise<{ key: string; time: string; signature: string } | undefined> {
    const key = opts.readKey;
    if (key === undefined) return undefined;
    const { chainId } = await chainStatus(false);
    const time = Date.now();
    const message = readSigningBytes({ chainId, method, target: targetOf(path), time, bodyHash: readBodyHash(body) });
    return { key: toHex(key.publicKey), time: String(time), signature: toHex(sign(message, key.secretKey)) };
  }

  async function readHeaders(
    method: string,
    path: string,
    body: Uint8Array | undefined,
  ): Promise<Record<string, string>> {
    const s = await signRead(method, path, body);
    if (s === undefined) return {};
    return { [READ_KEY_HEADER]: s.key, [READ_TIME_HEADER]: s.time, [READ_SIGNATURE_HEADER]: s.signature };
  }

  /**
   * Performs a request; answers with a status in `accept` are returned, others thrown as
   * CairnApiError. Signed with `readKey` unless `signed` is false (the public GET /status, POST /txs).
   */
  async function call<T>(
    path: string,
    init: RequestInit = {},
    accept: readonly number[] = [],
    signed = true,
  ): Promise<T> {
    let res: Response;
    const sent = init.body instanceof Uint8Array ? init.body : undefined;
    const signature = signed ? await readHeaders(init.method ?? "GET", path, sent) : {};
    try {
      res = await doFetch(`${base}${path}`, {
        ...init,
        headers: {
          accept: "application/json",
          ...opts.headers,
          ...(init.headers as Record<string, string>),
          ...signature,
        },
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new CairnClientError("NETWORK", `cannot reach ${base}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok || accept.includes(res.status)) {
      if (body === undefined) throw new CairnClientError("BAD_RESPONSE", `${path}: the node sent no JSON`);
      return body as T;
    }
    throw toApiError(res, body);
  }

  function toApiError(res: Response, body: unknown): CairnApiError {
    const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const retry = Number(res.headers.get("retry-after"));
    return new CairnApiError(
      typeof e?.code === "string" ? e.code : `HTTP_${res.status}`,
      res.status,
      typeof e?.message === "string" ? e.message : `HTTP ${res.status} ${res.statusText}`,
      res.headers.has("retry-after") && Number.isFinite(retry) ? retry : undefined,
      body,
    );
  }

  const status = (): Promise<StatusInfo> => call<StatusInfo>("/status", {}, [], false);

  async function submit(
    input: SignedTransaction | Uint8Array | readonly (SignedTransaction | Uint8Array)[],
    o: SubmitOptions = {},
  ): Promise<SubmitResult | BatchSubmitResult> {
    const batch = Array.isArray(input);
    const body = batch
      ? encode((input as readonly (SignedTransaction | Uint8Array)[]).map(envelopeOf))
      : encode(envelopeOf(input as SignedTransaction | Uint8Array));
    const query = new URLSearchParams();
    if (o.wait === "commit") {
      query.set("wait", "commit");
      if (o.timeoutMs !== undefined) query.set("timeout", String(Math.max(0, Math.floor(o.timeoutMs))));
    }
    const qs = query.toString();
    return call(
      `/txs${qs === "" ? "" : `?${qs}`}`,
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

  const hashHex = (hash: Uint8Array | string): string => toHex(bytesOf(hash, "hash", 32));

  const getTx = (hash: Uint8Array | string): Promise<TxInfo> => call<TxInfo>(`/txs/${hashHex(hash)}`, {}, [404]);

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
    const k = typeof key === "string" ? new TextEncoder().encode(key) : key;
    return call<StateInfo>(`/state/${encodeURIComponent(contract)}/${toHex(k)}?encoding=hex`, {}, [404]);
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

  async function subscribe(onBlock: (b: BlockEvent) => void | Promise<void>, o: SubscribeOptions = {}): Promise<void> {
    const { signal } = o;
    let next = o.from;
    for (;;) {
      if (signal?.aborted) return;
      let res: Response;
      try {
        // Signed anew for each connection: a signature is good for 60 s, a stream for as long as it lasts.
        const path = `/events${next === undefined ? "" : `?from=${next}`}`;
        res = await doFetch(`${base}${path}`, {
          headers: { accept: "text/event-stream", ...opts.headers, ...(await readHeaders("GET", path, undefined)) },
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        if (signal?.aborted) return;
        if (o.reconnect === false) throw new CairnClientError("NETWORK", `cannot reach ${base}`, { cause: err });
        o.onError?.(err);
        await sleep(o.retryMs ?? 1000, signal).catch(() => {});
        continue;
      }
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => "");
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        throw toApiError(res, body);
      }
      // Callbacks run one at a time, in height order; a throwing callback ends the subscription.
      let chain = Promise.resolve();
      let failed: unknown;
      const parser = new SseParser((m) => {
        if (m.event !== "block" || failed !== undefined) return;
        let block: BlockEvent;
        try {
          block = JSON.parse(m.data) as BlockEvent;
        } catch {
          failed = new CairnClientError("BAD_RESPONSE", "an event's data is not JSON");
          return;
        }
        next = block.height + 1;
        chain = chain
          .then(() => onBlock(block))
          .catch((err) => {
            failed ??= err;
          });
      });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let dropped: unknown;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(decoder.decode(value, { stream: true }));
          await chain;
          if (failed !== undefined) break;
        }
      } catch (err) {
        dropped = err;
      } finally {
        await reader.cancel().catch(() => {});
      }
      await chain;
      if (failed !== undefined) throw failed;
      if (signal?.aborted) return;
      if (o.reconnect === false) {
        if (dropped !== undefined) throw new CairnClientError("NETWORK", "event stream broke", { cause: dropped });
        return;
      }
      o.onError?.(dropped ?? new CairnClientError("NETWORK", "event stream ended"));
      await sleep(o.retryMs ?? 1000, signal).catch(() => {});
    }
  }

  async function eventsUrl(o: { from?: number } = {}): Promise<string> {
    const path = `/events${o.from === undefined ? "" : `?from=${o.from}`}`;
    const s = await signRead("GET", path, undefined);
    if (s === undefined) return `${base}${path}`;
    const sep = o.from === undefined ? "?" : "&";
    return `${base}${path}${sep}${READ_KEY_PARAM}=${s.key}&${READ_TIME_PARAM}=${s.time}&${READ_SIGNATURE_PARAM}=${s.signature}`;
  }

  // Chain id, height and TTL bound, shared by this client's signers (and read signatures).
  let cached: { status: StatusInfo; at: number } | undefined;
  let refreshing: Promise<StatusInfo> | undefined;
  function chainStatus(force: boolean): Promise<StatusInfo> {
    if (!force && cached && Date.now() - cached.at < cacheMs) return Promise.resolve(cached.status);
    refreshing ??= status()
      .then((s) => {
        cached = { status: s, at: Date.now() };
        return s;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }

  function signer(key: KeyPair, so: SignerOptions = {}): Signer {
    async function signWith(
      c: ContractCall,
      force: boolean,
      o: { expiry?: number; nonce?: Uint8Array },
    ): Promise<SignedTransaction> {
      const s = await chainStatus(force);
      const ttl = Math.max(1, Math.min(so.ttl ?? 1000, s.maxTxTtl));
      const tx = buildTransaction({
        chainId: s.chainId,
        sender: key.publicKey,
        contract: c.contract,
        method: c.method,
        args: c.args,
        expiry: o.expiry ?? s.height + ttl,
        ...(o.nonce ? { nonce: o.nonce } : {}),
      });
      return signTransaction(tx, key.secretKey);
    }

    async function send(
      calls: ContractCall | readonly ContractCall[],
      o: SendOptions = {},
    ): Promise<SubmitResult | BatchSubmitResult> {
      const expiry = o.expiry === undefined ? {} : { expiry: o.expiry };
      if (Array.isArray(calls)) {
        const txs = await Promise.all(calls.map((c) => signWith(c, false, expiry)));
        return submit(txs, o);
      }
      const single = calls as ContractCall;
      try {
        return await submit(await signWith(single, false, expiry), o);
      } catch (err) {
        // A stale cached height (or a chain reset) shows up as an expiry error: refresh and re-sign once.
        if (!(err instanceof CairnApiError) || !STALE_STATUS_CODES.has(err.code) || o.expiry !== undefined) throw err;
        return submit(await signWith(single, true, expiry), o);
      }
    }

    return {
      key,
      address: toHex(key.publicKey),
      sign: (c, o = {}) => signWith(c, false, o),
      send: send as Signer["send"],
      balance: () => balance(key.publicKey),
    };
  }

  return {
    url: base,
    status,
    submit: submit as CairnClient["submit"],
    getTx,
    waitForCommit,
    getBlock,
    getState,
    balance,
    query,
    getContract,
    subscribe,
    eventsUrl,
    signer,
    gov: createGovApi((path, accept = []) => call(path, {}, accept)),
  };
}
