// Signed reads: on a chain whose read policy is "members", a request to a protected API route
// carries an Ed25519 signature by a registered identity over READ_SIGN_DOMAIN || encode([...])
// below (docs/api.md, "Signed reads"). The SDK signs with @noble/curves, the node verifies with
// OpenSSL; both build the message here so they cannot disagree.
import { concatBytes, sha256, utf8 } from "@cairn/crypto";
import { encode } from "./codec.ts";

/** Prefix of the bytes a read signature covers (distinct from the transaction and vote domains). */
export const READ_SIGN_DOMAIN = utf8.encode("CAIRN_READ_V1\0");

/** Request headers of a signed read. */
export const READ_KEY_HEADER = "x-cairn-key";
export const READ_TIME_HEADER = "x-cairn-time";
export const READ_SIGNATURE_HEADER = "x-cairn-signature";
/** The same three values as query parameters: only on GET /events (browsers' EventSource cannot set headers). */
export const READ_KEY_PARAM = "cairn-key";
export const READ_TIME_PARAM = "cairn-time";
export const READ_SIGNATURE_PARAM = "cairn-sig";

/** How far (ms) a read's time may be from the node's clock, either way. */
export const READ_MAX_SKEW_MS = 60_000;

/** What a read signature covers. */
export interface ReadRequest {
  readonly chainId: string;
  /** Upper-case HTTP method: "GET", "POST". */
  readonly method: string;
  /**
   * The request target as the node receives it: path and query string exactly as sent
   * ("/state/kv/6b6579?encoding=hex"), without the cairn-key/-time/-sig parameters.
   */
  readonly target: string;
  /** Milliseconds since the epoch (a safe integer). */
  readonly time: number;
  /** SHA-256 of the request body's bytes; of the empty string for a request without a body. */
  readonly bodyHash: Uint8Array;
}

/** READ_SIGN_DOMAIN || encode([chainId, method, target, time, bodyHash]). */
export function readSigningBytes(r: ReadRequest): Uint8Array {
  return concatBytes(READ_SIGN_DOMAIN, encode([r.chainId, r.method, r.target, r.time, r.bodyHash]));
}

/** SHA-256 of a request body (empty when there is none). */
export function readBodyHash(body: Uint8Array | undefined): Uint8Array {
  return sha256(body ?? new Uint8Array(0));
}
