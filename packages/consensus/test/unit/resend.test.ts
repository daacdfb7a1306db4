import { describe, expect, it } from "vitest";
import { decodeResendBatch, encodeResendBatches, RESEND_BATCH_BYTES } from "../../src/index.ts";

const msg = (len: number, fill: number) => new Uint8Array(len).fill(fill);

describe("consensus-resend batches", () => {
  it("carry many messages per batch, in order, and decode to the same bytes", () => {
    const messages = [msg(150, 1), msg(3, 2), msg(400, 3)];
    const batches = encodeResendBatches(messages);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.length).toBe(150 + 3 + 400 + 3 * 4);
    expect(decodeResendBatch(batches[0] as Uint8Array)).toEqual(messages);
  });

  it("split at RESEND_BATCH_BYTES; a larger message goes alone", () => {
    const big = msg(RESEND_BATCH_BYTES + 10, 7);
    const half = msg(RESEND_BATCH_BYTES / 2, 8);
    const batches = encodeResendBatches([half, half, big, msg(10, 9)]);
    expect(batches.map((b) => decodeResendBatch(b)?.length)).toEqual([1, 1, 1, 1]);
    expect(batches.every((b, i) => i === 2 || b.length <= RESEND_BATCH_BYTES)).toBe(true);
    // (compared as buffers: vitest's deep equality is slow on half a megabyte)
    const decoded = batches.flatMap((b) => decodeResendBatch(b) ?? []);
    const want = [half, half, big, msg(10, 9)];
    expect(decoded.map((d, i) => Buffer.from(d).equals(want[i] as Uint8Array))).toEqual([true, true, true, true]);
    const small = encodeResendBatches(Array.from({ length: 100 }, (_, i) => msg(100, i)));
    expect(small).toHaveLength(1);
    expect(encodeResendBatches([])).toEqual([]);
  });

  it("refuse what is not a batch: empty, a zero length, a length past the end, a torn prefix", () => {
    const [one] = encodeResendBatches([msg(20, 1)]);
    expect(decodeResendBatch(new Uint8Array(0))).toBeUndefined();
    expect(decodeResendBatch(new Uint8Array([0, 0, 0, 0]))).toBeUndefined();
    expect(decodeResendBatch((one as Uint8Array).subarray(0, 10))).toBeUndefined();
    expect(decodeResendBatch(new Uint8Array([...(one as Uint8Array), 0, 0]))).toBeUndefined();
    // A lone consensus message (the format before batches) is not a batch either.
    expect(decodeResendBatch(new Uint8Array([0x92, 0x01, 0x02, 0x03, 0x04]))).toBeUndefined();
  });
});
