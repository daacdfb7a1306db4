import { VmError } from "./errors.ts";

// WebAssembly binary primitives. Every read is bounds-checked and fails with INVALID_MODULE, so a
// hostile module can never surface as a RangeError or a silently wrong value.

const utf8 = new TextDecoder("utf-8", { fatal: true });

function malformed(what: string): never {
  throw new VmError("INVALID_MODULE", `malformed module: ${what}`);
}

export class Reader {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) malformed("unexpected end");
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128, at most 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b > 0x0f) malformed("u32 out of range");
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return malformed("u32 too long");
  }

  /** Signed LEB128, at most 32 bits. */
  s32(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 2 ** shift;
        if (result < -(2 ** 31) || result >= 2 ** 31) malformed("s32 out of range");
        return result;
      }
    }
    return malformed("s32 too long");
  }

  /** Signed LEB128 up to 64 bits: only skipped, its value is never needed. */
  skipS64(): void {
    for (let i = 0; i < 10; i++) if ((this.u8() & 0x80) === 0) return;
    malformed("s64 too long");
  }

  take(n: number): Uint8Array {
    if (n > this.end - this.pos) malformed("unexpected end");
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(): string {
    const bytes = this.take(this.u32());
    try {
      return utf8.decode(bytes);
    } catch {
      return malformed("name is not UTF-8");
    }
  }
}

const utf8Encoder = new TextEncoder();

export class Writer {
  private buf = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  u32(v: number): this {
    let n = v >>> 0;
    do {
      const b = n & 0x7f;
      n >>>= 7;
      this.u8(n === 0 ? b : b | 0x80);
    } while (n !== 0);
    return this;
  }

  /** Signed LEB128 of a safe integer (used for i32.const and i64.const immediates). */
  sleb(v: number): this {
    let n = v;
    for (;;) {
      const b = ((n % 128) + 128) % 128;
      n = Math.floor(n / 128);
      const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
      this.u8(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** A 5-byte signed LEB128 placeholder for a non-negative value below 2^34; returns its offset. */
  placeholder(): number {
    const at = this.length;
    this.bytes(PADDED_ZERO);
    return at;
  }

  patch(at: number, v: number): void {
    if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** 34) {
      throw new VmError("INVALID_MODULE", "a metered block costs too much gas");
    }
    let n = v;
    for (let i = 0; i < 4; i++) {
      this.buf[at + i] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[at + 4] = n;
  }

  /** A vector or section payload: its byte length then the bytes. */
  sized(body: Uint8Array): this {
    return this.u32(body.length).bytes(body);
  }

  /** A name: its UTF-8 bytes, sized (Reader.name reads it back). */
  name(s: string): this {
    return this.sized(utf8Encoder.encode(s));
  }

  /** A section: its id and sized payload; nothing when there is no payload. */
  section(id: number, payload: Uint8Array | undefined): this {
    return payload === undefined ? this : this.u8(id).sized(payload);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const PADDED_ZERO = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x00]);
