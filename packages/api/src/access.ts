// Signed reads (docs/api.md, "Signed reads"): on a chain whose read policy is "members", every
// route but the public ones needs a request signed by an active identity holding the route's
// role. The one access table is READ_ACCESS below; server.ts applies it in one preHandler hook.
import { equalBytes, fromHex } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import {
  READ_KEY_HEADER,
  READ_KEY_PARAM,
  READ_MAX_SKEW_MS,
  READ_SIGNATURE_HEADER,
  READ_SIGNATURE_PARAM,
  READ_TIME_HEADER,
  READ_TIME_PARAM,
  readBodyHash,
  readSigningBytes,
} from "@cairn/messaging";
import type { ApiBackend, IdentityView, ReadAccess } from "./backend.ts";
import { ApiError } from "./errors.ts";

/**
 * - public: never needs a signature;
 * - member: any active identity (GET /txs/:hash further limits a plain member to its own transactions);
 * - auditor: an active identity with role auditor or admin;
 * - signed: like member, but on every chain, open or not: the route answers according to who asks
 *   (private data: the reader's organisation must be a member of the collection).
 */
export type ReadLevel = "public" | "member" | "auditor" | "signed";

/** Roles that may read everything (blocks, events, evidence, anyone's transactions). */
export const READ_ALL_ROLES: readonly string[] = ["auditor", "admin"];

/**
 * The access table: "METHOD /route" (the route pattern as registered with fastify) to its level on
 * a "members" chain. HEAD follows GET. On an "open" chain every route is public.
 *
 * A registered route that is neither here nor under a READ_ACCESS_PREFIXES entry is "auditor":
 * a new route stays closed to ordinary members until someone decides otherwise. When you add a
 * route, add it here and to the table in docs/api.md.
 */
export const READ_ACCESS: Readonly<Record<string, ReadLevel>> = Object.freeze({
  "GET /health": "public",
  "GET /ready": "public",
  "GET /metrics": "public",
  "GET /status": "public",
  // Transactions carry their own signature and are checked by role at admission.
  "POST /txs": "public",
  // The plaintext travels with a signed transaction; the node checks its own membership.
  "POST /txs/private": "public",
  // The plaintext of a private key: a signed read on every chain, then the collection's rules.
  "GET /private/:collection/:key": "signed",
  // The hash every node holds of a private key: what a non-member may see.
  "GET /private/:collection/:key/hash": "member",
  // CORS preflights never carry credentials.
  "OPTIONS *": "public",
  "GET /state/:contract/:key": "member",
  "POST /query": "member",
  "GET /contracts/:name": "member",
  // Member, but a transaction whose sender is someone else needs a READ_ALL_ROLES role (see readsTx).
  "GET /txs/:hash": "member",
  // Like GET /txs/:hash: another's transaction needs a READ_ALL_ROLES role.
  "GET /txs/:hash/trace": "member",
  // The console's page, script and styles: no data in them (the page signs its own reads).
  "GET /console": "public",
  "GET /console/": "public",
  "GET /console/:file": "public",
  // Votes and steps are what every validator gossips; a member may watch them.
  "GET /consensus/events": "member",
  // Log lines can name peers, keys and errors: auditors and admins.
  "GET /logs": "auditor",
  "GET /blocks/latest": "auditor",
  "GET /blocks/:height": "auditor",
  "GET /events": "auditor",
  "GET /evidence": "auditor",
  "GET /evidence/:id": "auditor",
});

/** Route families: a route pattern starting with one of these prefixes has its level (first match wins). */
export const READ_ACCESS_PREFIXES: readonly (readonly [string, ReadLevel])[] = Object.freeze([
  // Governance reads (proposals, organisations, identities): any member may follow governance.
  ["GET /gov/", "member"],
]);

/** Level of a registered route that the table does not name. */
export const DEFAULT_READ_LEVEL: ReadLevel = "auditor";

/** The one route whose read signature may also travel as query parameters (EventSource cannot set headers). */
const PARAM_ROUTE = "GET /events";

/** The level of a route, or undefined for a request no route matched (answered 404 as usual). */
export function routeLevel(method: string, route: string | undefined): ReadLevel | undefined {
  if (route === undefined) return undefined;
  const id = `${method === "HEAD" ? "GET" : method} ${route}`;
  if (Object.hasOwn(READ_ACCESS, id)) return READ_ACCESS[id];
  for (const [prefix, level] of READ_ACCESS_PREFIXES) if (id.startsWith(prefix)) return level;
  return DEFAULT_READ_LEVEL;
}

/** The identity a signed read was made by (set on the request for the route handlers). */
export interface Reader {
  readonly publicKey: Uint8Array;
  readonly identity: IdentityView;
  /** Holds a READ_ALL_ROLES role. */
  readonly readsAll: boolean;
}

/** What the guard needs of a request. */
export interface ReadRequestView {
  readonly method: string;
  /** The raw request target: path and query string as received. */
  readonly url: string;
  /** The matched route pattern, undefined when no route matched. */
  readonly route: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body's bytes as received; undefined for a request without a body. */
  readonly body: Uint8Array | undefined;
}

const KEY_HEX = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;
const TIME = /^\d{1,15}$/;
const PARAM_NAMES: ReadonlySet<string> = new Set([READ_KEY_PARAM, READ_TIME_PARAM, READ_SIGNATURE_PARAM]);

function header(h: ReadRequestView["headers"], name: string): string | undefined {
  const v = h[name];
  // A repeated header: never valid (and not silently the first one).
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * Splits a request target into the target a read signature covers (the cairn-key/-time/-sig
 * query parameters removed, everything else byte for byte) and the values of those parameters.
 */
export function splitReadParams(url: string): { target: string; params: Map<string, string[]> } {
  const params = new Map<string, string[]>();
  const q = url.indexOf("?");
  if (q < 0) return { target: url, params };
  const kept: string[] = [];
  for (const part of url.slice(q + 1).split("&")) {
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    if (!PARAM_NAMES.has(name)) {
      kept.push(part);
      continue;
    }
    const values = params.get(name) ?? [];
    values.push(eq < 0 ? "" : part.slice(eq + 1));
    params.set(name, values);
  }
  return { target: kept.length === 0 ? url.slice(0, q) : `${url.slice(0, q)}?${kept.join("&")}`, params };
}

function badSignature(message: string): ApiError {
  return new ApiError("BAD_READ_SIGNATURE", message);
}

function describeRoute(method: string, route: string): string {
  return `${method === "HEAD" ? "GET" : method} ${route}`;
}

/** Checks reads against the backend's read policy and identities. */
export class ReadGuard {
  private readonly backend: ApiBackend;
  private readonly now: () => number;
  private chainId: string | undefined;

  constructor(backend: ApiBackend, now: () => number = Date.now) {
    this.backend = backend;
    this.now = now;
  }

  policy(): ReadAccess {
    return this.backend.readAccess?.() ?? "open";
  }

  /**
   * Undefined when the request needs no signature (an open chain, a public route, no route);
   * otherwise the verified reader allowed at the route's level. Throws the 401/403 ApiError.
   * Order: signature present and well-formed, time, signature, identity, active, role; so an
   * unsigned caller learns nothing about which keys are members.
   */
  check(req: ReadRequestView): Reader | undefined {
    const level = routeLevel(req.method, req.route);
    if (level === undefined || level === "public") return undefined;
    if (this.policy() === "open" && level !== "signed") return undefined;
    const route = describeRoute(req.method, req.route as string);

    // Only GET /events takes the signature as query parameters; elsewhere they are ordinary ones.
    const { target, params } =
      route === PARAM_ROUTE ? splitReadParams(req.url) : { target: req.url, params: new Map<string, string[]>() };
    const key = header(req.headers, READ_KEY_HEADER);
    const time = header(req.headers, READ_TIME_HEADER);
    const signature = header(req.headers, READ_SIGNATURE_HEADER);
    const inHeaders = key !== undefined || time !== undefined || signature !== undefined;
    const inParams = params.size > 0;
    if (inHeaders && inParams) {
      throw badSignature("give the read signature either as x-cairn-* headers or as cairn-* query parameters");
    }
    let given: { key?: string; time?: string; signature?: string };
    if (inParams) {
      const one = (name: string): string | undefined => {
        const v = params.get(name);
        if (v !== undefined && v.length > 1) throw badSignature(`query parameter ${name} is repeated`);
        return v?.[0];
      };
      given = { key: one(READ_KEY_PARAM), time: one(READ_TIME_PARAM), signature: one(READ_SIGNATURE_PARAM) };
    } else if (inHeaders) {
      given = { key, time, signature };
    } else {
      const hint = req.url.includes(`${READ_KEY_PARAM}=`)
        ? " (cairn-* query parameters are taken only by GET /events)"
        : "";
      throw new ApiError(
        "READ_SIGNATURE_REQUIRED",
        `${route} on this chain needs a signed read: x-cairn-key, x-cairn-time and x-cairn-signature${hint}`,
      );
    }
    const names = inParams
      ? { key: READ_KEY_PARAM, time: READ_TIME_PARAM, signature: READ_SIGNATURE_PARAM }
      : { key: READ_KEY_HEADER, time: READ_TIME_HEADER, signature: READ_SIGNATURE_HEADER };
    if (given.key === undefined || !KEY_HEX.test(given.key)) {
      throw badSignature(`${names.key} must be a public key: 64 hex digits`);
    }
    if (given.time === undefined || !TIME.test(given.time)) {
      throw badSignature(`${names.time} must be the signing time in whole milliseconds since the epoch`);
    }
    if (given.signature === undefined || !SIGNATURE_HEX.test(given.signature)) {
      throw badSignature(`${names.signature} must be an Ed25519 signature: 128 hex digits`);
    }

    const signedAt = Number(given.time);
    const now = this.now();
    if (Math.abs(now - signedAt) > READ_MAX_SKEW_MS) {
      throw new ApiError(
        "READ_SIGNATURE_EXPIRED",
        `the read was signed at ${signedAt}, ${Math.round((signedAt - now) / 1000)} s off the node's clock ` +
          `(${now}); the limit is ±${READ_MAX_SKEW_MS / 1000} s: sign again, and check the clock`,
      );
    }

    const publicKey = fromHex(given.key);
    this.chainId ??= this.backend.status().chainId;
    const message = readSigningBytes({
      chainId: this.chainId,
      method: req.method,
      target,
      time: signedAt,
      bodyHash: readBodyHash(req.body),
    });
    if (!nativeVerify(fromHex(given.signature), message, publicKey)) {
      throw badSignature(
        `the read signature does not verify for ${req.method} ${target} on chain ${this.chainId}` +
          " (see docs/api.md, Signed reads)",
      );
    }

    const identity = this.backend.identity?.(publicKey);
    if (identity === undefined) {
      throw new ApiError(
        "UNKNOWN_IDENTITY",
        `key ${given.key.toLowerCase()} is not a registered identity of this chain`,
      );
    }
    if (!identity.active) {
      throw new ApiError("IDENTITY_REVOKED", `the identity ${given.key.toLowerCase()} (${identity.org}) is revoked`);
    }
    const reader: Reader = {
      publicKey,
      identity,
      readsAll: identity.roles.some((r) => READ_ALL_ROLES.includes(r)),
    };
    if (level === "auditor" && !reader.readsAll) {
      throw new ApiError("ROLE_REQUIRED", `${route} needs the role auditor or admin`);
    }
    return reader;
  }

  /**
   * Whether a read that passed `check` at `level` would still pass now (for a long-lived event
   * stream): the policy may have opened or closed, the identity may have been revoked or lost its role.
   */
  stillAllowed(reader: Reader | undefined, level: ReadLevel): boolean {
    if (level === "public" || (this.policy() === "open" && level !== "signed")) return true;
    if (reader === undefined) return false;
    const identity = this.backend.identity?.(reader.publicKey);
    if (identity === undefined || !identity.active) return false;
    return level === "member" || identity.roles.some((r) => READ_ALL_ROLES.includes(r));
  }

  /**
   * Whether `reader` may see a transaction sent by `sender` through GET /txs/:hash: any read on an
   * open chain or without a reader, its own transactions, and anyone's with a READ_ALL_ROLES role.
   */
  readsTx(reader: Reader | undefined, sender: Uint8Array): boolean {
    return reader === undefined || reader.readsAll || equalBytes(reader.publicKey, sender);
  }
}
