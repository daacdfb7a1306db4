import { describe, expect, it } from "vitest";
import { createMemoryHost } from "../../src/index.ts";

const b = (...xs: number[]) => new Uint8Array(xs);
const list = (k: Uint8Array | undefined) => (k === undefined ? undefined : [...k]);

describe("createMemoryHost", () => {
  it("walks keys with a prefix in byte order, not string order", () => {
    const host = createMemoryHost({
      entries: [
        [b(1, 0xff), b(1)],
        [b(1), b(2)],
        [b(1, 0x80), b(3)],
        [b(2), b(4)],
        [b(0, 1), b(5)],
        [b(1, 0x7f, 9), b(6)],
      ],
    });
    const walk = (prefix: Uint8Array) => {
      const out: number[][] = [];
      for (let k = host.storageNext(prefix, undefined); k !== undefined; k = host.storageNext(prefix, k))
        out.push([...k]);
      return out;
    };
    expect(walk(b(1))).toEqual([[1], [1, 0x7f, 9], [1, 0x80], [1, 0xff]]);
    expect(walk(b())).toEqual([[0, 1], [1], [1, 0x7f, 9], [1, 0x80], [1, 0xff], [2]]);
    expect(walk(b(3))).toEqual([]);
    // An `after` below the prefix starts at the prefix; one past the range ends it.
    expect(list(host.storageNext(b(1), b(0, 5)))).toEqual([1]);
    expect(list(host.storageNext(b(1), b(1, 0xff)))).toBeUndefined();
    expect(list(host.storageNext(b(1), b(1, 0x7f)))).toEqual([1, 0x7f, 9]);
  });

  it("sets, overwrites and deletes, keeping the order", () => {
    const host = createMemoryHost();
    host.storageSet(b(3), b(30));
    host.storageSet(b(1), b(10));
    host.storageSet(b(2), b(20));
    host.storageSet(b(1), b(11));
    host.storageDelete(b(2));
    host.storageDelete(b(9));
    expect(host.entries().map(([k, v]) => [k[0], v[0]])).toEqual([
      [1, 11],
      [3, 30],
    ]);
    expect(host.size).toBe(2);
    expect(list(host.storageGet(b(1)))).toEqual([11]);
    expect(host.storageGet(b(2))).toBeUndefined();
  });

  it("copies what it stores and records events", () => {
    const host = createMemoryHost({ height: 5, time: 99 });
    const key = b(1);
    const value = b(2);
    host.storageSet(key, value);
    key[0] = 7;
    value[0] = 7;
    expect(list(host.storageGet(b(1)))).toEqual([2]);
    host.emit("Transfer", b(1, 2));
    expect(host.events).toEqual([{ name: "Transfer", data: b(1, 2) }]);
    expect([host.height, host.time, host.caller.length]).toEqual([5, 99, 32]);
  });
});
