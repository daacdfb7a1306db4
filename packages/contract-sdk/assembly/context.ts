// Who is calling and when, and what the call gives back: events and the return value.
import { Writer } from "./codec";
import * as env from "./env";

export namespace context {
  /** The 32-byte public key that signed the transaction (a query: 32 zero bytes or its signer). */
  export function caller(): Uint8Array {
    const k = new Uint8Array(32);
    env.caller(k.dataStart);
    return k;
  }

  /** Height of the block being executed (a query: the committed height). */
  export function height(): u64 {
    return <u64>env.block_height();
  }

  /** That block's time in ms (the proposer's clock, the same on every node). */
  export function time(): u64 {
    return <u64>env.block_time();
  }
}

/** Emits an event: a name (1..64 UTF-8 bytes) and one canonical value (up to 16 KiB). */
export function emit(name: string, data: Writer): void {
  const n = String.UTF8.encode(name);
  const d = data.finish();
  env.emit(changetype<usize>(n), n.byteLength, d.dataStart, d.length);
}

/** Sets the call's return value (one canonical value, up to 64 KiB); the last call wins. */
export function returnValue(w: Writer): void {
  const b = w.finish();
  env.ret(b.dataStart, b.length);
}
