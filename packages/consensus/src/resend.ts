// The wire format of retransmitted consensus messages (`ConsensusTransport.resend`, the
// `consensus-resend` request): one request carries many messages, since opening a stream per
// message per peer cost more than the messages themselves.

/** The most bytes of messages one batch carries (a node refuses requests over 1 MiB). */
export const RESEND_BATCH_BYTES = 512 * 1024;

/**
 * The messages in order, each prefixed by its length (4 bytes, big-endian), in batches of at most
 * RESEND_BATCH_BYTES; a larger message goes alone.
 */
export function encodeResendBatches(messages: readonly Uint8Array[]): Uint8Array[] {
  const batches: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let size = 0;
  const close = () => {
    if (group.length === 0) return;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const m of group) {
      view.setUint32(at, m.length);
      out.set(m, at + 4);
      at += 4 + m.length;
    }
    batches.push(out);
    group = [];
    size = 0;
  };
  for (const m of messages) {
    if (size > 0 && size + 4 + m.length > RESEND_BATCH_BYTES) close();
    group.push(m);
    size += 4 + m.length;
  }
  close();
  return batches;
}

/** The messages of one batch, or undefined when it is not one (empty, a zero length, a length past the end). */
export function decodeResendBatch(bytes: Uint8Array): Uint8Array[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return undefined;
    const len = view.getUint32(at);
    if (len === 0 || at + 4 + len > bytes.length) return undefined;
    out.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out.length === 0 ? undefined : out;
}
