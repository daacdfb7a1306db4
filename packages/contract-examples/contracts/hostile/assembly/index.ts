// A contract that misbehaves on purpose, one way per method, for the tests of the VM's bounds
// (docs/contracts.md: gas metering, the stack bound, memory maximum, host-call limits). Each
// failure must end the call with a clear code and leave the node, and the next call, unharmed.
import { Args, returnValue, storage, utf8, Writer } from "@cairn/contract-sdk";

// The host's emit, declared here so that the event's data can be one 1 MiB region: built with
// the SDK's Writer (which doubles its buffer) it would run out of the 4 MiB memory first.
@external("cairn", "emit")
declare function hostEmit(nPtr: usize, nLen: i32, dPtr: usize, dLen: i32): void;

/** spin(): an infinite loop. Ends with OUT_OF_GAS, having used exactly the gas limit. */
export function spin(): void {
  Args.read().done();
  let n: u64 = 0;
  while (true) {
    n++;
    // Never true (n would have to wrap around 2^64): keeps the loop's work from being optimised away.
    if (n == 0) storage.setU64(utf8("spun"), n);
  }
}

function down(depth: u64): u64 {
  return down(depth + 1) + depth;
}

/** recurse(): unbounded recursion. Ends with CALL_DEPTH_EXCEEDED from the VM's stack bound. */
export function recurse(): void {
  Args.read().done();
  returnValue(new Writer().u64(down(0)));
}

/**
 * bomb(): grows the memory one page at a time, and keeps asking once it is at the 64-page
 * maximum. Every page requested is charged, so it ends with OUT_OF_GAS, not with the host's memory.
 */
export function bomb(): void {
  Args.read().done();
  let pages: i32 = memory.size();
  while (true) {
    if (memory.grow(1) >= 0) pages++;
    if (pages < 0) storage.setU64(utf8("pages"), <u64>pages);
  }
}

/**
 * hog(): allocates arrays of 1 MiB, 2 MiB, 4 MiB, ... and keeps them, until one cannot be allocated
 * in the 4 MiB memory.
 */
export function hog(): void {
  Args.read().done();
  const kept = new Array<Uint8Array>();
  let size: i32 = 1 << 20;
  while (true) {
    const a = new Uint8Array(size);
    a[size - 1] = 1;
    kept.push(a);
    size <<= 1;
  }
}

/** hugeEvent(): emits an event whose data (one canonical byte string) is 1 MiB: over the 16 KiB bound. */
export function hugeEvent(): void {
  Args.read().done();
  const n: i32 = 1 << 20;
  // bin32 header (0xc6 + 4-byte big-endian length) and n zero bytes.
  const data = new Uint8Array(n + 5);
  data[0] = 0xc6;
  data[1] = <u8>(n >>> 24);
  data[2] = <u8>(n >>> 16);
  data[3] = <u8>(n >>> 8);
  data[4] = <u8>n;
  const name = String.UTF8.encode("huge");
  hostEmit(changetype<usize>(name), name.byteLength, data.dataStart, data.length);
}

/** bigWrite(): writes a value of 64 KiB + 1 byte: over the storage value bound. */
export function bigWrite(): void {
  Args.read().done();
  storage.set(utf8("big"), new Uint8Array(64 * 1024 + 1));
}

/** ok() -> "ok": a well-behaved method, to show that calls still work after the others. */
export function ok(): void {
  Args.read().done();
  returnValue(new Writer().str("ok"));
}
