// Peer exchange: the response lists the connected members of the answering node and their
// addresses, as UTF-8 JSON `{"peers":[{"id":"12D3Koo...","addrs":["/ip4/.../tcp/..."]}]}`.
// The request body is empty. Decoding is defensive: the answer comes from another node.

export interface PeerExchangeEntry {
  readonly id: string;
  readonly addrs: readonly string[];
}

/** Most entries and addresses per entry accepted from one answer. */
export const MAX_PEX_PEERS = 1024;
export const MAX_PEX_ADDRS = 16;

export function encodePeerExchange(entries: readonly PeerExchangeEntry[]): Uint8Array {
  const peers = entries.slice(0, MAX_PEX_PEERS).map((e) => ({ id: e.id, addrs: e.addrs.slice(0, MAX_PEX_ADDRS) }));
  return new TextEncoder().encode(JSON.stringify({ peers }));
}

/** Parses an answer; malformed entries are skipped, a malformed document yields no entries. */
export function decodePeerExchange(bytes: Uint8Array): PeerExchangeEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return [];
  }
  const peers = (doc as { peers?: unknown } | null)?.peers;
  if (!Array.isArray(peers)) return [];
  const out: PeerExchangeEntry[] = [];
  for (const p of peers.slice(0, MAX_PEX_PEERS)) {
    const { id, addrs } = (p ?? {}) as { id?: unknown; addrs?: unknown };
    if (typeof id !== "string" || id.length > 128 || !Array.isArray(addrs)) continue;
    const good = addrs.filter((a): a is string => typeof a === "string" && a.length <= 512).slice(0, MAX_PEX_ADDRS);
    out.push({ id, addrs: good });
  }
  return out;
}
