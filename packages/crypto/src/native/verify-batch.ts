import type { VerifyItem } from "../ed25519.ts";
import { nativeVerify } from "./ed25519.ts";

export type { VerifyItem };

// Items cross to a worker packed in one transferable buffer: per item
// [publicKey length u8][signature length u8][message length u32 BE][publicKey][signature][message].
export function packItems(items: readonly VerifyItem[]): ArrayBuffer {
  let size = 0;
  for (const it of items) size += 6 + it.publicKey.length + it.signature.length + it.message.length;
  const buf = new ArrayBuffer(size);
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  let off = 0;
  for (const it of items) {
    bytes[off] = it.publicKey.length;
    bytes[off + 1] = it.signature.length;
    view.setUint32(off + 2, it.message.length);
    off += 6;
    bytes.set(it.publicKey, off);
    off += it.publicKey.length;
    bytes.set(it.signature, off);
    off += it.signature.length;
    bytes.set(it.message, off);
    off += it.message.length;
  }
  return buf;
}

/** Verifies every packed item; result byte i is 1 when item i verified. */
export function verifyPacked(buf: ArrayBuffer, count: number): Uint8Array {
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  const out = new Uint8Array(count);
  let off = 0;
  for (let i = 0; i < count; i++) {
    const pkLen = bytes[off] as number;
    const sigLen = bytes[off + 1] as number;
    const msgLen = view.getUint32(off + 2);
    off += 6;
    const pk = bytes.subarray(off, off + pkLen);
    off += pkLen;
    const sig = bytes.subarray(off, off + sigLen);
    off += sigLen;
    const msg = bytes.subarray(off, off + msgLen);
    off += msgLen;
    out[i] = nativeVerify(sig, msg, pk) ? 1 : 0;
  }
  return out;
}
