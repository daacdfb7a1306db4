import { Packr } from "msgpackr";

export const MSGPACK = "application/msgpack";

// A transport encoding for JSON-shaped responses, not Cairn's canonical one: plain maps (no
// msgpackr records, which other MessagePack libraries cannot read), nil for anything undefined.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

export function packResponse(body: unknown): Buffer {
  return packr.pack(wholeNumbers(body));
}

/**
 * msgpackr writes integers beyond 32 bits (millisecond times, large amounts) as float64; a client
 * should get integers. Such numbers go out as 64-bit integers (BigInt on the way in).
 */
function wholeNumbers(v: unknown): unknown {
  if (typeof v === "number") {
    return Number.isSafeInteger(v) && (v > 0xffffffff || v < -0x80000000) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map(wholeNumbers);
  if (
    v !== null &&
    typeof v === "object" &&
    !(v instanceof Uint8Array) &&
    Object.getPrototypeOf(v) === Object.prototype
  ) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = wholeNumbers(x);
    return out;
  }
  return v;
}

function quality(params: string[]): number {
  for (const p of params) {
    const [k, v] = p.split("=").map((s) => s.trim());
    if (k === "q" && v !== undefined) {
      const q = Number(v);
      return Number.isFinite(q) ? q : 0;
    }
  }
  return 1;
}

/**
 * True when the Accept header asks for msgpack over JSON: msgpack must be named explicitly
 * (a wildcard never selects it) with a quality at least that of an explicit JSON entry.
 */
export function wantsMsgpack(accept: string | undefined): boolean {
  if (!accept) return false;
  let mp = 0;
  let json = -1;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";");
    const t = type.trim().toLowerCase();
    if (t === MSGPACK || t === "application/x-msgpack") mp = Math.max(mp, quality(params));
    else if (t === "application/json") json = Math.max(json, quality(params));
  }
  return mp > 0 && mp >= json;
}
