// The HTTP side of a client: requests to the node's API, answers as CairnApiError when refused,
// reads signed with the client's read key, and the chain status cached for signers and signatures.
import { type KeyPair, sign, toHex } from "@cairn/crypto";
import {
  READ_KEY_HEADER,
  READ_SIGNATURE_HEADER,
  READ_TIME_HEADER,
  readBodyHash,
  readSigningBytes,
} from "@cairn/messaging";
import { CairnApiError, CairnClientError } from "./errors.ts";
import type { StatusInfo } from "./types.ts";

export interface TransportOptions {
  readonly url: string;
  readonly fetch?: typeof fetch;
  readonly headers?: Readonly<Record<string, string>>;
  readonly statusCacheMs?: number;
  readonly readKey?: KeyPair;
}

export interface Transport {
  /** The base URL, without a trailing slash. */
  readonly base: string;
  readonly fetch: typeof fetch;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /**
   * Performs a request; answers with a status in `accept` are returned, others thrown as
   * CairnApiError. Signed with the read key unless `signed` is false (GET /status, POST /txs).
   */
  call<T>(path: string, init?: RequestInit, accept?: readonly number[], signed?: boolean): Promise<T>;
  /** A signed GET whose answer is text (GET /metrics); an error status is thrown as CairnApiError. */
  text(path: string): Promise<string>;
  /** The x-cairn-* values of a read of `path` signed with the read key; undefined without one. */
  signRead(
    method: string,
    path: string,
    body: Uint8Array | undefined,
  ): Promise<{ key: string; time: string; signature: string } | undefined>;
  /** The signed read's headers ({} without a read key). */
  readHeaders(method: string, path: string, body: Uint8Array | undefined): Promise<Record<string, string>>;
  toApiError(res: Response, body: unknown): CairnApiError;
  status(): Promise<StatusInfo>;
  /** Chain id, height and TTL bound, cached for `statusCacheMs` unless `force`. */
  chainStatus(force: boolean): Promise<StatusInfo>;
}

export function createTransport(opts: TransportOptions): Transport {
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
  /** Sends a request (signed with `readKey` when `signed`) and reads its body as text. */
  async function request(path: string, init: RequestInit, signed: boolean): Promise<{ res: Response; text: string }> {
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
    return { res, text: await res.text() };
  }

  const parse = (text: string): unknown => {
    try {
      return text === "" ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  };

  async function text(path: string): Promise<string> {
    const r = await request(path, {}, true);
    if (!r.res.ok) throw toApiError(r.res, parse(r.text));
    return r.text;
  }

  async function call<T>(
    path: string,
    init: RequestInit = {},
    accept: readonly number[] = [],
    signed = true,
  ): Promise<T> {
    const { res, text } = await request(path, init, signed);
    const body = parse(text);
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

  return {
    base,
    fetch: doFetch,
    headers: opts.headers,
    call,
    text,
    signRead,
    readHeaders,
    toApiError,
    status,
    chainStatus,
  };
}
