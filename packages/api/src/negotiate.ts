import { Packr } from "msgpackr";

export const MSGPACK = "application/msgpack";

// A transport encoding for JSON-shaped responses, not Cairn's canonical one: plain maps (no
// msgpackr records, which other MessagePack libraries cannot read), nil for anything undefined.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

export function packResponse(body: unknown): Buffer {
  return packr.pack(body);
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
