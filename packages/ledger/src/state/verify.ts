import type { Database } from "@cairn/storage";
import { hashPair, hashToBytes, sha256String, ZERO_HASH } from "./fast-hash.ts";
import { decodeRecord, decodeRootRecord, INode, Leaf, pathKey, type Ref } from "./tree.ts";
import { STATE_TREE_COLUMN, STATE_VALUES_COLUMN } from "./world-state.ts";

// An offline integrity check of the stored world state (`cairn doctor`): every tree node's hash is
// recomputed from its children, every leaf from its key and value hashes, and every stored value
// is checked against the leaf of its key. LevelDB does not verify its block checksums on reads, so
// this is how bytes flipped on disk are found.

export interface StateCheck {
  /** The root recomputed from the stored tree (32 zero bytes for an empty state). */
  readonly root: Uint8Array;
  readonly nodes: number;
  readonly leaves: number;
  readonly values: number;
  /** What does not add up, first 20. */
  readonly problems: readonly string[];
}

const hex = (s: string) => Buffer.from(hashToBytes(s)).toString("hex");

function withBit(prefix: string, depth: number, bit: number): string {
  const i = depth >>> 3;
  const mask = 0x80 >>> (depth & 7);
  const c = prefix.charCodeAt(i);
  return prefix.slice(0, i) + String.fromCharCode(bit === 1 ? c | mask : c & ~mask) + prefix.slice(i + 1);
}

function hasPrefix(kh: string, prefix: string, depth: number): boolean {
  for (let d = 0; d < depth; d++) {
    const i = d >>> 3;
    const mask = 0x80 >>> (d & 7);
    if ((kh.charCodeAt(i) & mask) !== (prefix.charCodeAt(i) & mask)) return false;
  }
  return true;
}

export async function verifyStateTree(db: Database): Promise<StateCheck> {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const leaves = new Map<string, string>();
  let nodes = 0;

  const walk = async (ref: Ref, depth: number, prefix: string): Promise<string> => {
    if (ref === null) return ZERO_HASH;
    if (ref instanceof Leaf) {
      if (hashPair(0x00, ref.kh, ref.vh) !== ref.h) note(`leaf ${hex(ref.kh)}: its hash does not match its contents`);
      if (!hasPrefix(ref.kh, prefix, depth)) note(`leaf ${hex(ref.kh)} is on another key's path`);
      leaves.set(ref.kh, ref.vh);
      return ref.h;
    }
    const claimed = ref instanceof INode ? ref.h : ref;
    const bytes = await db.get(STATE_TREE_COLUMN, pathKey(depth, prefix));
    if (bytes === undefined) {
      note(`tree node at depth ${depth} is missing`);
      return claimed;
    }
    let node: INode;
    try {
      node = decodeRecord(bytes, claimed);
    } catch {
      note(`tree node at depth ${depth} is malformed`);
      return claimed;
    }
    nodes++;
    const l = await walk(node.l, depth + 1, withBit(prefix, depth, 0));
    const r = await walk(node.r, depth + 1, withBit(prefix, depth, 1));
    if (hashPair(0x01, l, r) !== claimed) note(`tree node at depth ${depth}: its hash does not match its children`);
    return claimed;
  };

  let root: Ref = null;
  try {
    root = decodeRootRecord(await db.get(STATE_TREE_COLUMN, new Uint8Array(0)));
  } catch {
    note("the root record is malformed");
  }
  const rootHash = await walk(root, 0, ZERO_HASH);

  let values = 0;
  for await (const [key, value] of db.iterate(STATE_VALUES_COLUMN)) {
    values++;
    const kh = sha256String(key);
    const vh = leaves.get(kh);
    if (vh === undefined) note(`value of state key ${Buffer.from(key).toString("hex")} has no leaf`);
    else if (vh !== sha256String(value)) note(`value of state key ${Buffer.from(key).toString("hex")} is damaged`);
  }
  if (values !== leaves.size) note(`${leaves.size} leaves but ${values} stored values`);
  return { root: hashToBytes(rootHash), nodes, leaves: leaves.size, values, problems };
}
