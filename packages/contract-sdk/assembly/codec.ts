// The canonical encoding (docs/spec/encoding.md) on the contract side: `Args` reads a call's input,
// `Writer` builds return values and event data.
import * as env from "./env";
import { fail } from "./errors";

const BAD_ARGS = "BAD_ARGS";

/**
 * The call's arguments: the canonical `args` array, read element by element in order. Every
 * missing, malformed or mistyped element fails the call with `BAD_ARGS`. The host only runs a
 * call whose input it decoded canonically, so the reader checks types and bounds but does not
 * re-check shortest forms.
 */
export class Args {
  private data: Uint8Array;
  private pos: i32 = 0;
  private total: i32 = 0;
  // Elements left to read at each nesting level; [0] is the top-level args array.
  private left: Array<i32> = new Array<i32>();

  /** Reads the call's input (`input_len`/`input_read`). */
  static read(): Args {
    const len = env.input_len();
    const data = new Uint8Array(len);
    if (len > 0) env.input_read(data.dataStart);
    return Args.from(data);
  }

  /** Reads canonical bytes that hold an array, e.g. a value this contract stored with `Writer`. */
  static from(data: Uint8Array): Args {
    const a = new Args(data);
    const n = a.header("input is not an array");
    a.total = n;
    a.left.push(n);
    return a;
  }

  private constructor(data: Uint8Array) {
    this.data = data;
  }

  /** Number of elements in the args array. */
  count(): i32 {
    return this.total;
  }

  /** Number of elements not read yet at the current nesting level. */
  remaining(): i32 {
    this.closeFinished();
    return this.left[this.left.length - 1];
  }

  str(): string {
    const b = this.take("a string");
    let n: i32 = 0;
    if (b >= 0xa0 && b <= 0xbf) n = b & 0x1f;
    else if (b == 0xd9) n = this.uintN(1, "a string");
    else if (b == 0xda) n = this.uintN(2, "a string");
    else if (b == 0xdb) n = this.uintN(4, "a string");
    else this.mistyped("a string");
    this.need(n, "a string");
    const s = String.UTF8.decodeUnsafe(this.data.dataStart + <usize>this.pos, <usize>n);
    this.pos += n;
    return s;
  }

  bytes(): Uint8Array {
    const b = this.take("bytes");
    let n: i32 = 0;
    if (b == 0xc4) n = this.uintN(1, "bytes");
    else if (b == 0xc5) n = this.uintN(2, "bytes");
    else if (b == 0xc6) n = this.uintN(4, "bytes");
    else this.mistyped("bytes");
    this.need(n, "bytes");
    const out = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A 32-byte public key (an account), given as bytes. */
  key(): Uint8Array {
    const k = this.bytes();
    if (k.length != 32) fail(BAD_ARGS, this.where() + ": expected a 32-byte key, got " + k.length.toString() + " bytes");
    return k;
  }

  u64(): u64 {
    const b = this.take("an unsigned integer");
    if (b <= 0x7f) return <u64>b;
    if (b == 0xcc) return this.be(1, "an unsigned integer");
    if (b == 0xcd) return this.be(2, "an unsigned integer");
    if (b == 0xce) return this.be(4, "an unsigned integer");
    if (b == 0xcf) return this.be(8, "an unsigned integer");
    this.mistyped("an unsigned integer");
    return 0;
  }

  i64(): i64 {
    const b = this.take("an integer");
    if (b <= 0x7f) return <i64>b;
    if (b >= 0xe0) return <i64>(<i8>b);
    if (b == 0xcc) return <i64>this.be(1, "an integer");
    if (b == 0xcd) return <i64>this.be(2, "an integer");
    if (b == 0xce) return <i64>this.be(4, "an integer");
    if (b == 0xcf) {
      const v = this.be(8, "an integer");
      if (v > <u64>i64.MAX_VALUE) fail(BAD_ARGS, this.where() + ": integer does not fit i64");
      return <i64>v;
    }
    if (b == 0xd0) return <i64>(<i8>this.be(1, "an integer"));
    if (b == 0xd1) return <i64>(<i16>this.be(2, "an integer"));
    if (b == 0xd2) return <i64>(<i32>this.be(4, "an integer"));
    if (b == 0xd3) return <i64>this.be(8, "an integer");
    this.mistyped("an integer");
    return 0;
  }

  bool(): bool {
    const b = this.take("a boolean");
    if (b == 0xc2) return false;
    if (b == 0xc3) return true;
    this.mistyped("a boolean");
    return false;
  }

  /** Whether the next element is nil (without reading it). */
  isNil(): bool {
    this.closeFinished();
    return this.left[this.left.length - 1] > 0 && this.pos < this.data.length && this.data[this.pos] == 0xc0;
  }

  /** Reads a nil element. */
  nil(): void {
    if (this.take("nil") != 0xc0) this.mistyped("nil");
  }

  /**
   * Enters a nested array and returns its length; its elements are read next with the same
   * methods, and reading carries on with the outer elements once they are all read.
   */
  array(): i32 {
    this.take("an array");
    this.pos--;
    const n = this.header(this.where() + ": expected an array");
    this.left.push(n);
    return n;
  }

  /** Fails with `BAD_ARGS` if elements are left: a call with extra arguments is a mistake. */
  done(): void {
    this.closeFinished();
    if (this.left.length > 1 || this.left[0] != 0) {
      fail(BAD_ARGS, "expected " + this.total.toString() + " argument(s) to be read, but more were given");
    }
    if (this.pos != this.data.length) fail(BAD_ARGS, "trailing bytes after the arguments");
  }

  // Where the reader is, for messages: the top-level argument index (from 0).
  private where(): string {
    return "argument " + (this.total - this.left[0] - 1).toString();
  }

  private closeFinished(): void {
    while (this.left.length > 1 && this.left[this.left.length - 1] == 0) this.left.pop();
  }

  // Counts one element at the current level and returns its first byte.
  private take(what: string): i32 {
    this.closeFinished();
    const level = this.left.length - 1;
    if (this.left[level] == 0) {
      fail(BAD_ARGS, "missing argument " + this.total.toString() + ": expected " + what);
    }
    this.left[level] = this.left[level] - 1;
    this.need(1, what);
    return <i32>this.data[this.pos++];
  }

  private header(message: string): i32 {
    if (this.pos >= this.data.length) fail(BAD_ARGS, message);
    const b = <i32>this.data[this.pos++];
    if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
    if (b == 0xdc) return this.uintN(2, "an array");
    if (b == 0xdd) return this.uintN(4, "an array");
    fail(BAD_ARGS, message);
    return 0;
  }

  private need(n: i32, what: string): void {
    if (n < 0 || this.data.length - this.pos < n) fail(BAD_ARGS, "truncated input while reading " + what);
  }

  private be(n: i32, what: string): u64 {
    this.need(n, what);
    let v: u64 = 0;
    for (let i = 0; i < n; i++) v = (v << 8) | <u64>this.data[this.pos + i];
    this.pos += n;
    return v;
  }

  // A length; lengths beyond i32 cannot fit the input, so they are reported as truncation.
  private uintN(n: i32, what: string): i32 {
    const v = this.be(n, what);
    if (v > <u64>i32.MAX_VALUE) fail(BAD_ARGS, "truncated input while reading " + what);
    return <i32>v;
  }

  private mistyped(what: string): void {
    fail(BAD_ARGS, this.where() + ": expected " + what);
  }
}

/** Builds one canonical value: call `array(n)` and then write its n elements, and so on. */
export class Writer {
  private buf: Uint8Array = new Uint8Array(64);
  private len: i32 = 0;

  nil(): Writer {
    this.byte(0xc0);
    return this;
  }

  bool(b: bool): Writer {
    this.byte(b ? 0xc3 : 0xc2);
    return this;
  }

  u64(n: u64): Writer {
    if (n <= 0x7f) this.byte(<u8>n);
    else if (n <= 0xff) this.head(0xcc, n, 1);
    else if (n <= 0xffff) this.head(0xcd, n, 2);
    else if (n <= 0xffffffff) this.head(0xce, n, 4);
    else this.head(0xcf, n, 8);
    return this;
  }

  i64(n: i64): Writer {
    // A non-negative value always takes the unsigned form.
    if (n >= 0) return this.u64(<u64>n);
    if (n >= -32) this.byte(<u8>n);
    else if (n >= -128) this.head(0xd0, <u64>n, 1);
    else if (n >= -32768) this.head(0xd1, <u64>n, 2);
    else if (n >= -2147483648) this.head(0xd2, <u64>n, 4);
    else this.head(0xd3, <u64>n, 8);
    return this;
  }

  str(s: string): Writer {
    const b = Uint8Array.wrap(String.UTF8.encode(s));
    const n = b.length;
    if (n <= 31) this.byte(<u8>(0xa0 | n));
    else if (n <= 0xff) this.head(0xd9, <u64>n, 1);
    else if (n <= 0xffff) this.head(0xda, <u64>n, 2);
    else this.head(0xdb, <u64>n, 4);
    this.raw(b);
    return this;
  }

  bytes(b: Uint8Array): Writer {
    const n = b.length;
    if (n <= 0xff) this.head(0xc4, <u64>n, 1);
    else if (n <= 0xffff) this.head(0xc5, <u64>n, 2);
    else this.head(0xc6, <u64>n, 4);
    this.raw(b);
    return this;
  }

  /** An array header: the next `len` values written are its elements. */
  array(len: i32): Writer {
    if (len < 0) fail("BAD_ENCODING", "negative array length");
    if (len <= 15) this.byte(<u8>(0x90 | len));
    else if (len <= 0xffff) this.head(0xdc, <u64>len, 2);
    else this.head(0xdd, <u64>len, 4);
    return this;
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private ensure(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length << 1;
    if (size < this.len + n) size = this.len + n;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len), 0);
    this.buf = next;
  }

  private byte(b: u8): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  // A type byte followed by the low `n` bytes of `v`, big-endian.
  private head(type: u8, v: u64, n: i32): void {
    this.ensure(1 + n);
    this.buf[this.len++] = type;
    for (let i = n - 1; i >= 0; i--) this.buf[this.len++] = <u8>(v >> (<u64>(i << 3)));
  }

  private raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}
