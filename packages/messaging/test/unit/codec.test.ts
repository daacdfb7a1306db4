import { toHex } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import { decode, encode, MessagingError, type Value } from "../../src/index.ts";

const hex = (v: Value) => toHex(encode(v));
const fromHexStr = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MessagingError) return e.code;
    throw e;
  }
  return "NO_ERROR";
}

describe("canonical encoding", () => {
  it("uses the shortest header for every integer", () => {
    const cases: [Value, string][] = [
      [0, "00"],
      [127, "7f"],
      [128, "cc80"],
      [255, "ccff"],
      [256, "cd0100"],
      [65535, "cdffff"],
      [65536, "ce00010000"],
      [2 ** 32 - 1, "ceffffffff"],
      [2 ** 32, "cf0000000100000000"],
      [Number.MAX_SAFE_INTEGER, "cf001fffffffffffff"],
      [2n ** 64n - 1n, "cfffffffffffffffff"],
      [5n, "05"],
      [-1, "ff"],
      [-32, "e0"],
      [-33, "d0df"],
      [-128, "d080"],
      [-129, "d1ff7f"],
      [-32768, "d18000"],
      [-32769, "d2ffff7fff"],
      [-(2 ** 31), "d280000000"],
      [-(2 ** 31) - 1, "d3ffffffff7fffffff"],
      [-(2n ** 63n), "d38000000000000000"],
    ];
    for (const [v, h] of cases) expect(hex(v), String(v)).toBe(h);
  });

  it("uses the shortest header for strings, binaries and arrays", () => {
    expect(hex("")).toBe("a0");
    expect(hex("a".repeat(31)).slice(0, 2)).toBe("bf");
    expect(hex("a".repeat(32)).slice(0, 4)).toBe("d920");
    expect(hex("é".repeat(128)).slice(0, 6)).toBe("da0100");
    expect(hex(new Uint8Array(0))).toBe("c400");
    expect(hex(new Uint8Array(256)).slice(0, 6)).toBe("c50100");
    expect(hex([])).toBe("90");
    expect(hex(new Array(16).fill(null)).slice(0, 6)).toBe("dc0010");
    expect(hex([null, true, false])).toBe("93c0c3c2");
  });

  it("round-trips every kind of value, with 64-bit integers as bigint beyond 2^53", () => {
    const v: Value = [1, -5, 2 ** 40, 2n ** 60n, "héllo", new Uint8Array([1, 2, 3]), [[], [null]], true];
    const back = decode(encode(v)) as Value[];
    expect(back[2]).toBe(2 ** 40);
    expect(back[3]).toBe(2n ** 60n);
    expect(back[5]).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back[5])).toBe(false);
    expect(hex(back)).toBe(hex(v));
  });

  it("refuses to encode floats, maps, objects and values outside 64 bits", () => {
    expect(codeOf(() => encode(1.5))).toBe("UNSUPPORTED_VALUE");
    expect(codeOf(() => encode(Number.NaN))).toBe("UNSUPPORTED_VALUE");
    expect(codeOf(() => encode(new Map() as unknown as Value))).toBe("UNSUPPORTED_VALUE");
    expect(codeOf(() => encode({ a: 1 } as unknown as Value))).toBe("UNSUPPORTED_VALUE");
    expect(codeOf(() => encode(2n ** 64n))).toBe("UNSUPPORTED_VALUE");
    expect(codeOf(() => encode(undefined as unknown as Value))).toBe("UNSUPPORTED_VALUE");
  });

  it("rejects non-canonical input instead of re-encoding it", () => {
    const nonCanonical = [
      "cc05", // 5 as uint8
      "cd0005", // 5 as uint16
      "d000", // 0 as int8
      "cf0000000000000001", // 1 as uint64
      "d30000000100000000", // 2^32 as int64 (must be uint64)
      "d90161", // "a" as str8
      "dc000100", // [0] as array16
      "c50001ff", // bin as bin16
      "cb3ff0000000000000", // 1.0 as float64
      "ca3f800000", // 1.0 as float32
      "8100", // a map
      "c0c0", // trailing bytes
      "a2c328", // invalid UTF-8
      "d6ff00000001", // timestamp extension
    ];
    for (const h of nonCanonical) {
      const code = codeOf(() => decode(fromHexStr(h)));
      expect(["NON_CANONICAL", "MALFORMED"], h).toContain(code);
    }
  });

  it("rejects truncated input and excessive nesting", () => {
    expect(codeOf(() => decode(fromHexStr("92")))).toBe("MALFORMED");
    expect(codeOf(() => decode(fromHexStr("c40501")))).toBe("MALFORMED");
    expect(codeOf(() => decode(new Uint8Array(0)))).toBe("MALFORMED");
    let deep: Value = [];
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(codeOf(() => encode(deep))).toBe("TOO_DEEP");
    const deepBytes = new Uint8Array(41).fill(0x91);
    deepBytes[40] = 0x90;
    expect(["TOO_DEEP", "MALFORMED"]).toContain(codeOf(() => decode(deepBytes)));
  });

  it("never throws anything but a MessagingError on random bytes", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(1 + (rand() % 40));
      for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
      try {
        const v = decode(b);
        // Whatever decodes must be canonical: re-encoding gives the same bytes.
        expect(toHex(encode(v))).toBe(toHex(b));
      } catch (e) {
        expect(e).toBeInstanceOf(MessagingError);
      }
    }
  });
});

describe("the one-pass canonical check", () => {
  // The definition of canonical is "equal to the canonical encoding of what it decodes to"; the
  // decoder checks it in one pass instead. Both must give the same answer on every input.
  function viaReencode(b: Uint8Array): boolean {
    let v: unknown;
    try {
      v = unpackr.unpack(b);
    } catch {
      return false;
    }
    try {
      return toHex(encode(normaliseForOracle(v))) === toHex(b);
    } catch {
      return false;
    }
  }

  it("agrees with decode-and-re-encode on random and mutated inputs", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const samples: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) {
      const b = new Uint8Array(1 + (rand() % 24));
      for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
      samples.push(b);
    }
    // Mutations of valid encodings find the near-misses random bytes rarely hit.
    const valid = encode([
      1,
      300,
      -40,
      2 ** 33,
      -(2 ** 40),
      "héllo",
      new Uint8Array(300),
      [[], [true, null]],
      "x".repeat(40),
    ]);
    for (let i = 0; i < 5000; i++) {
      const b = valid.slice();
      b[rand() % b.length] = rand() & 0xff;
      samples.push(b);
    }
    let accepted = 0;
    for (const b of samples) {
      let ours: boolean;
      try {
        decode(b);
        ours = true;
      } catch (e) {
        expect(e).toBeInstanceOf(MessagingError);
        ours = false;
      }
      expect(ours, toHex(b)).toBe(viaReencode(b));
      if (ours) accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

import { Unpackr } from "msgpackr";

const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: false,
  moreTypes: false,
  int64AsType: "auto" as "number",
});

function normaliseForOracle(v: unknown, depth = 0): Value {
  if (depth > 32) throw new Error("deep");
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map((x) => normaliseForOracle(x, depth + 1));
  return v as Value;
}
