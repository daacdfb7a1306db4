import { CryptoError } from "./errors.ts";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

type NodeBuffer = { from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: "hex"): string } };
// Node's Buffer encodes hex natively into a flat string; the loop below is for browsers. (A string
// built by += is a rope, slow to hash when used as a Map key.)
const NodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/** Lower-case hex of `bytes`, no prefix. */
export function toHex(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX[bytes[i] as number] as string;
  return parts.join("");
}

/** Parses lower- or upper-case hex (an optional 0x prefix is allowed). Throws on odd length or bad digits. */
export function fromHex(hex: string): Uint8Array {
  const s = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new CryptoError("BAD_HEX", "expected an even-length hexadecimal string");
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order, the order every sorted structure in Cairn uses. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

export const utf8 = {
  encode: (s: string): Uint8Array => textEncoder.encode(s),
  /** Throws on invalid UTF-8. */
  decode: (b: Uint8Array): string => textDecoder.decode(b),
};
