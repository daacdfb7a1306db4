import { MessagingError } from "./errors.ts";

// A single pass over MessagePack bytes that accepts exactly the canonical encodings of codec.ts:
// shortest headers, no maps, floats, extensions or 0xc1, valid UTF-8, at most MAX_DEPTH levels of
// arrays, and nothing after the value. It replaces "decode, re-encode, compare", which cost twice
// as much on the admission path; the unit tests hold the two definitions to the same answers.

const utf8 = new TextDecoder("utf-8", { fatal: true });

function fail(code: "MALFORMED" | "NON_CANONICAL" | "TOO_DEEP", message: string): never {
  throw new MessagingError(code, code === "MALFORMED" ? `not valid MessagePack: ${message}` : message);
}

function checkUtf8(b: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    if ((b[i] as number) >= 0x80) {
      try {
        utf8.decode(b.subarray(start, end));
      } catch {
        fail("NON_CANONICAL", "a string is not valid UTF-8");
      }
      return;
    }
  }
}

/** Throws MALFORMED, NON_CANONICAL or TOO_DEEP unless `b` is one canonical value. */
export function checkCanonical(b: Uint8Array, maxDepth: number): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.length;
  // Elements still expected by each open array, innermost last.
  const open: number[] = [];
  let pos = 0;
  const need = (k: number) => {
    if (pos + k > n) fail("MALFORMED", "unexpected end of data");
  };
  if (n === 0) fail("MALFORMED", "no data");
  for (;;) {
    need(1);
    const t = b[pos++] as number;
    let arrayLength = -1;
    let skip = 0;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // fixint, negative fixint, nil, false, true: one byte, always canonical
    } else if (t >= 0xa0 && t <= 0xbf) {
      skip = t & 0x1f;
      need(skip);
      checkUtf8(b, pos, pos + skip);
    } else if (t >= 0x90 && t <= 0x9f) {
      arrayLength = t & 0x0f;
    } else {
      switch (t) {
        case 0xcc:
          need(1);
          if ((b[pos] as number) < 0x80) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 1;
          break;
        case 0xcd:
          need(2);
          if (view.getUint16(pos) <= 0xff) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 2;
          break;
        case 0xce:
          need(4);
          if (view.getUint32(pos) <= 0xffff) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 4;
          break;
        case 0xcf:
          need(8);
          if (view.getUint32(pos) === 0) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 8;
          break;
        case 0xd0:
          need(1);
          if (view.getInt8(pos) >= -32) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 1;
          break;
        case 0xd1:
          need(2);
          if (view.getInt16(pos) >= -0x80) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 2;
          break;
        case 0xd2:
          need(4);
          if (view.getInt32(pos) >= -0x8000) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 4;
          break;
        case 0xd3:
          need(8);
          // Only values below -2^31 may use int64; non-negative ones belong in uint families.
          if (view.getBigInt64(pos) >= -0x80000000n) fail("NON_CANONICAL", "integer not in its shortest form");
          skip = 8;
          break;
        case 0xd9:
          need(1);
          skip = b[pos] as number;
          if (skip < 32) fail("NON_CANONICAL", "string header not in its shortest form");
          pos += 1;
          need(skip);
          checkUtf8(b, pos, pos + skip);
          break;
        case 0xda:
          need(2);
          skip = view.getUint16(pos);
          if (skip <= 0xff) fail("NON_CANONICAL", "string header not in its shortest form");
          pos += 2;
          need(skip);
          checkUtf8(b, pos, pos + skip);
          break;
        case 0xdb:
          need(4);
          skip = view.getUint32(pos);
          if (skip <= 0xffff) fail("NON_CANONICAL", "string header not in its shortest form");
          pos += 4;
          need(skip);
          checkUtf8(b, pos, pos + skip);
          break;
        case 0xc4:
          need(1);
          skip = b[pos] as number;
          pos += 1;
          break;
        case 0xc5:
          need(2);
          skip = view.getUint16(pos);
          if (skip <= 0xff) fail("NON_CANONICAL", "binary header not in its shortest form");
          pos += 2;
          break;
        case 0xc6:
          need(4);
          skip = view.getUint32(pos);
          if (skip <= 0xffff) fail("NON_CANONICAL", "binary header not in its shortest form");
          pos += 4;
          break;
        case 0xdc:
          need(2);
          arrayLength = view.getUint16(pos);
          if (arrayLength <= 15) fail("NON_CANONICAL", "array header not in its shortest form");
          pos += 2;
          break;
        case 0xdd:
          need(4);
          arrayLength = view.getUint32(pos);
          if (arrayLength <= 0xffff) fail("NON_CANONICAL", "array header not in its shortest form");
          pos += 4;
          break;
        case 0xc1:
          fail("MALFORMED", "reserved byte 0xc1");
          break;
        default:
          // maps (0x80-0x8f, 0xde, 0xdf), floats (0xca, 0xcb), extensions (0xc7-0xc9, 0xd4-0xd8)
          fail(
            "NON_CANONICAL",
            `type 0x${t.toString(16)} is not part of the canonical encoding (maps, floats, extensions)`,
          );
      }
    }
    need(skip);
    pos += skip;
    if (arrayLength > 0) {
      if (open.length >= maxDepth) fail("TOO_DEEP", `values nest at most ${maxDepth} levels`);
      // Each element takes at least one byte: a longer array cannot fit in what is left.
      if (arrayLength > n - pos) fail("MALFORMED", "unexpected end of data");
      open.push(arrayLength);
      continue;
    }
    if (arrayLength === 0 && open.length >= maxDepth) fail("TOO_DEEP", `values nest at most ${maxDepth} levels`);
    // One value finished: close every array it completes.
    while (open.length > 0) {
      const left = (open[open.length - 1] as number) - 1;
      if (left > 0) {
        open[open.length - 1] = left;
        break;
      }
      open.pop();
    }
    if (open.length === 0) break;
  }
  if (pos !== n) fail("MALFORMED", "trailing bytes after the value");
}
