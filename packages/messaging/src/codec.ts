import { Unpackr } from "msgpackr";
import { checkCanonical } from "./canonical.ts";
import { MessagingError } from "./errors.ts";

/**
 * The values Cairn's canonical encoding carries: a subset of MessagePack with exactly one encoding
 * per value. No maps (their key order is free), no floats (not deterministic across platforms),
 * no extension types.
 */
export type Value = null | boolean | number | bigint | string | Uint8Array | readonly Value[];

const MAX_UINT64 = (1n << 64n) - 1n;
const MIN_INT64 = -(1n << 63n);
/** Nesting bound: keeps hostile input from exhausting the stack. */
export const MAX_DEPTH = 32;

// Decoding checks the canonical form first (./canonical.ts), then lets msgpackr build the value.
// int64AsType "auto" (numbers when safe, bigints beyond) exists at run time but is missing from
// msgpackr's typings.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: false,
  moreTypes: false,
  int64AsType: "auto" as "number",
});

const textEncoder = new TextEncoder();

/** Growable output buffer for the encoder. */
class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function writeInt(w: Writer, v: number | bigint): void {
  // Small values take the common number path; only 64-bit values need bigint arithmetic.
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) {
      throw new MessagingError("UNSUPPORTED_VALUE", `only integers are encodable (got ${v}); floats are not canonical`);
    }
    if (v >= 0) {
      if (v < 0x80) w.u8(v);
      else if (v <= 0xff) {
        w.u8(0xcc);
        w.u8(v);
      } else if (v <= 0xffff) {
        w.u8(0xcd);
        w.u16(v);
      } else if (v <= 0xffffffff) {
        w.u8(0xce);
        w.u32(v);
      } else writeBig(w, BigInt(v));
    } else {
      if (v >= -32) w.u8(v & 0xff);
      else if (v >= -0x80) {
        w.u8(0xd0);
        w.u8(v & 0xff);
      } else if (v >= -0x8000) {
        w.u8(0xd1);
        w.u16(v & 0xffff);
      } else if (v >= -0x80000000) {
        w.u8(0xd2);
        w.u32(v >>> 0);
      } else writeBig(w, BigInt(v));
    }
    return;
  }
  if (v > MAX_UINT64 || v < MIN_INT64) throw new MessagingError("UNSUPPORTED_VALUE", `integer ${v} is outside 64 bits`);
  if (v >= -0x80000000n && v <= 0xffffffffn) writeInt(w, Number(v));
  else writeBig(w, v);
}

function writeBig(w: Writer, v: bigint): void {
  w.ensure(9);
  if (v >= 0n) {
    w.buf[w.pos++] = 0xcf;
    w.view.setBigUint64(w.pos, v);
  } else {
    w.buf[w.pos++] = 0xd3;
    w.view.setBigInt64(w.pos, v);
  }
  w.pos += 8;
}

function writeLength(w: Writer, n: number, fix: number, fixMax: number, c8: number, c16: number, c32: number): void {
  if (n <= fixMax && fix >= 0) w.u8(fix | n);
  else if (n <= 0xff && c8 >= 0) {
    w.u8(c8);
    w.u8(n);
  } else if (n <= 0xffff) {
    w.u8(c16);
    w.u16(n);
  } else {
    w.u8(c32);
    w.u32(n);
  }
}

function writeValue(w: Writer, v: Value, depth: number): void {
  if (v === null) w.u8(0xc0);
  else if (v === false) w.u8(0xc2);
  else if (v === true) w.u8(0xc3);
  else if (typeof v === "number" || typeof v === "bigint") writeInt(w, v);
  else if (typeof v === "string") {
    const b = textEncoder.encode(v);
    writeLength(w, b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    w.bytes(b);
  } else if (v instanceof Uint8Array) {
    writeLength(w, v.length, -1, -1, 0xc4, 0xc5, 0xc6);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    if (depth >= MAX_DEPTH) throw new MessagingError("TOO_DEEP", `values nest at most ${MAX_DEPTH} levels`);
    writeLength(w, v.length, 0x90, 15, -1, 0xdc, 0xdd);
    for (const item of v) writeValue(w, item, depth + 1);
  } else {
    const kind = v instanceof Map ? "a map" : typeof v === "object" ? "an object" : typeof v;
    throw new MessagingError("UNSUPPORTED_VALUE", `${kind} cannot be encoded canonically (use arrays)`);
  }
}

/**
 * Encodes a value in Cairn's canonical MessagePack form: every integer, string, binary and array
 * uses the shortest header the MessagePack specification allows, so one value has one encoding.
 */
export function encode(value: Value): Uint8Array {
  // One scratch writer serves every call (encoding is synchronous): only the result is allocated.
  const w = scratch;
  w.pos = 0;
  writeValue(w, value, 0);
  return w.buf.slice(0, w.pos);
}

const scratch = new Writer();

function normalise(v: unknown): Value {
  // msgpackr returns Buffers for bin; Cairn hands out plain Uint8Array views of them.
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalise(v[i]);
    return v as Value[];
  }
  return v as Value;
}

/**
 * Decodes canonical bytes. Input that is malformed, has trailing bytes, uses a type outside
 * `Value`, or is not the canonical encoding of what it decodes to is rejected, never re-encoded.
 */
export function decode(bytes: Uint8Array): Value {
  checkCanonical(bytes, MAX_DEPTH);
  try {
    return normalise(unpackr.unpack(bytes));
  } catch (err) {
    throw new MessagingError("MALFORMED", `not valid MessagePack: ${(err as Error).message}`);
  }
}
