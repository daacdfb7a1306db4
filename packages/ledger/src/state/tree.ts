// The sparse Merkle state tree (docs/spec/state.md) in memory and on disk, and the batched update
// that walks it once per block, loading and hashing only the nodes on the changed keys' paths.
//
// In memory the tree is persistent (immutable once built): an update copies the touched paths and
// shares every untouched subtree, so prepare() never changes the committed tree and commit() only
// swaps the root. Subtrees not in memory are represented by their hash (a "stub") and loaded from
// LevelDB by path on demand; replacing a stub by the loaded node changes nothing observable.
import { StateError } from "./errors.ts";
import { hashBit, hashPair, ZERO_HASH } from "./fast-hash.ts";

/** An internal node: a subtree with at least two keys. `l` and `r` are replaced only by load/prune. */
export class INode {
  readonly h: string;
  l: Ref;
  r: Ref;
  constructor(h: string, l: Ref, r: Ref) {
    this.h = h;
    this.l = l;
    this.r = r;
  }
}

/** A subtree with exactly one key. */
export class Leaf {
  readonly kh: string;
  readonly vh: string;
  readonly h: string;
  constructor(kh: string, vh: string, h: string) {
    this.kh = kh;
    this.vh = vh;
    this.h = h;
  }
}

/** A subtree: null if empty, a string (its hash) if it is an internal node not loaded in memory. */
export type Ref = INode | Leaf | string | null;

export function refHash(r: Ref): string {
  return r === null ? ZERO_HASH : typeof r === "string" ? r : r.h;
}

export function newLeaf(kh: string, vh: string): Leaf {
  return new Leaf(kh, vh, hashPair(0x00, kh, vh));
}

function newNode(l: Ref, r: Ref): INode {
  return new INode(hashPair(0x01, refHash(l), refHash(r)), l, r);
}

function corrupt(what: string): never {
  throw new StateError("STATE_CORRUPT", `state tree: ${what}`);
}

// --- Records: the on-disk form (local to a node, not part of the root) ----------------------------
// The record of an internal node describes its two children: tagL ‖ tagR ‖ payloadL ‖ payloadR,
// a payload being: empty (tag 0) nothing; leaf (tag 1) keyHash ‖ valueHash ‖ leafHash; internal
// (tag 2) its hash. Leaves live inline in their parent, so every record is an internal node at
// depth <= 255 and a leaf costs no extra read. Records are keyed by path: depth ‖ the first `depth`
// bits of the path, zero-padded to whole bytes. The root's descriptor (tag ‖ payload) is kept under
// the empty key.

const TAG_EMPTY = 0;
const TAG_LEAF = 1;
const TAG_INTERNAL = 2;

function tagOf(r: Ref): number {
  return r === null ? TAG_EMPTY : r instanceof Leaf ? TAG_LEAF : TAG_INTERNAL;
}

function payloadLength(tag: number): number {
  return tag === TAG_LEAF ? 96 : tag === TAG_INTERNAL ? 32 : 0;
}

function putHash(out: Uint8Array, off: number, h: string): void {
  for (let i = 0; i < 32; i++) out[off + i] = h.charCodeAt(i);
}

function putRef(out: Uint8Array, off: number, r: Ref): number {
  if (r === null) return off;
  if (r instanceof Leaf) {
    putHash(out, off, r.kh);
    putHash(out, off + 32, r.vh);
    putHash(out, off + 64, r.h);
    return off + 96;
  }
  putHash(out, off, refHash(r));
  return off + 32;
}

function readRef(rec: Buffer, tag: number, off: number): Ref {
  if (tag === TAG_LEAF) {
    return new Leaf(
      rec.toString("latin1", off, off + 32),
      rec.toString("latin1", off + 32, off + 64),
      rec.toString("latin1", off + 64, off + 96),
    );
  }
  return tag === TAG_INTERNAL ? rec.toString("latin1", off, off + 32) : null;
}

export function recordLength(n: INode): number {
  return 2 + payloadLength(tagOf(n.l)) + payloadLength(tagOf(n.r));
}

export function writeRecord(out: Uint8Array, off: number, n: INode): void {
  out[off] = tagOf(n.l);
  out[off + 1] = tagOf(n.r);
  putRef(out, putRef(out, off + 2, n.l), n.r);
}

/** The node whose hash is `h`, from its record; its internal children stay stubs. */
export function decodeRecord(bytes: Uint8Array, h: string): INode {
  const tl = bytes[0] as number;
  const tr = bytes[1] as number;
  if (tl > TAG_INTERNAL || tr > TAG_INTERNAL || bytes.length !== 2 + payloadLength(tl) + payloadLength(tr)) {
    corrupt("malformed node record");
  }
  const rec = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new INode(h, readRef(rec, tl, 2), readRef(rec, tr, 2 + payloadLength(tl)));
}

export function encodeRootRecord(root: Ref): Uint8Array {
  const tag = tagOf(root);
  const out = new Uint8Array(1 + payloadLength(tag));
  out[0] = tag;
  putRef(out, 1, root);
  return out;
}

export function decodeRootRecord(bytes: Uint8Array | undefined): Ref {
  if (bytes === undefined) return null;
  const tag = bytes[0] as number;
  if (tag > TAG_INTERNAL || bytes.length !== 1 + payloadLength(tag)) corrupt("malformed root record");
  return readRef(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), tag, 1);
}

export function pathKeyLength(depth: number): number {
  return 1 + ((depth + 7) >>> 3);
}

/** Writes the path key of the node at `depth` on the path of keyHash `kh`. */
export function writePathKey(out: Uint8Array, off: number, depth: number, kh: string): void {
  const n = (depth + 7) >>> 3;
  out[off] = depth;
  for (let i = 0; i < n; i++) out[off + 1 + i] = kh.charCodeAt(i);
  if ((depth & 7) !== 0) out[off + n] = (out[off + n] as number) & (0xff << (8 - (depth & 7)));
}

export function pathKey(depth: number, kh: string): Uint8Array {
  const out = new Uint8Array(pathKeyLength(depth));
  writePathKey(out, 0, depth, kh);
  return out;
}

// --- Batched update ---------------------------------------------------------------------------------

/** One changed key; `vh` null deletes. Sorted by `kh`. `effective` is set by applyChanges. */
export interface TreeChange {
  readonly kh: string;
  readonly vh: string | null;
  effective: boolean;
}

/** First index in [lo, hi) whose key hash has bit `depth` set (they share the bits before it, and are sorted). */
function split(items: readonly { readonly kh: string }[], lo: number, hi: number, depth: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (hashBit((items[m] as { kh: string }).kh, depth) === 0) a = m + 1;
    else b = m;
  }
  return a;
}

/** Reads records by path key; resolves in order, undefined for a missing one. */
export type RecordFetcher = (keys: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>;

interface StubToLoad {
  readonly parent: INode | null;
  readonly right: boolean;
  readonly stub: string;
  readonly depth: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * Phase 1: loads every internal node on the changed keys' paths that is not in memory yet, one tree
 * level at a time (one batched read per level), installing them in place of their stubs. Returns
 * the root as loaded, and the number of nodes it loaded.
 */
export async function loadTouched(
  root: Ref,
  changes: readonly { readonly kh: string }[],
  fetch: RecordFetcher,
): Promise<{ root: Ref; loaded: number }> {
  let pending: StubToLoad[] = [];
  const visit = (parent: INode, right: boolean, ref: Ref, depth: number, lo: number, hi: number) => {
    if (typeof ref === "string") pending.push({ parent, right, stub: ref, depth, lo, hi });
    else if (ref instanceof INode) collect(ref, depth, lo, hi);
  };
  const collect = (n: INode, depth: number, lo: number, hi: number): void => {
    const mid = split(changes, lo, hi, depth);
    if (mid > lo) visit(n, false, n.l, depth + 1, lo, mid);
    if (hi > mid) visit(n, true, n.r, depth + 1, mid, hi);
  };
  if (changes.length === 0) return { root, loaded: 0 };
  if (typeof root === "string")
    pending.push({ parent: null, right: false, stub: root, depth: 0, lo: 0, hi: changes.length });
  else if (root instanceof INode) collect(root, 0, 0, changes.length);
  let loaded = 0;
  while (pending.length > 0) {
    const batch = pending;
    pending = [];
    const records = await fetch(batch.map((p) => pathKey(p.depth, (changes[p.lo] as { kh: string }).kh)));
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as StubToLoad;
      const rec = records[i];
      if (rec === undefined) corrupt(`node at depth ${p.depth} missing on disk`);
      let node = decodeRecord(rec, p.stub);
      if (p.parent === null) root = node;
      else {
        // Another reader may have loaded the same node meanwhile: keep the one already installed.
        const cur = p.right ? p.parent.r : p.parent.l;
        if (cur instanceof INode && cur.h === p.stub) node = cur;
        else if (p.right) p.parent.r = node;
        else p.parent.l = node;
      }
      loaded++;
      collect(node, p.depth, p.lo, p.hi);
    }
  }
  return { root, loaded };
}

/** A node record to write (`node`) or delete (null) at the path of depth `depth` towards key hash `kh`. */
export interface NodeWrite {
  readonly depth: number;
  readonly kh: string;
  readonly node: INode | null;
}

/**
 * Phase 2 (synchronous, no I/O): applies the sorted `changes` to the tree under `root`, whose touched
 * paths must be loaded. Builds new nodes along the touched paths (each hashed once) and shares the
 * rest. Marks each change `effective` (false for a same-value write or a delete of an absent key).
 */
export function applyChanges(root: Ref, changes: TreeChange[]): { root: Ref; writes: NodeWrite[] } {
  const writes: NodeWrite[] = [];

  const build = (depth: number, items: Leaf[], lo: number, hi: number): Ref => {
    if (hi - lo === 0) return null;
    if (hi - lo === 1) return items[lo] as Leaf;
    if (depth > 255) corrupt("two keys with the same keyHash");
    const mid = split(items, lo, hi, depth);
    const node = newNode(build(depth + 1, items, lo, mid), build(depth + 1, items, mid, hi));
    writes.push({ depth, kh: (items[lo] as Leaf).kh, node });
    return node;
  };

  const update = (depth: number, cur: Ref, lo: number, hi: number): Ref => {
    if (cur instanceof INode) {
      const mid = split(changes, lo, hi, depth);
      const nl = mid > lo ? update(depth + 1, cur.l, lo, mid) : cur.l;
      const nr = hi > mid ? update(depth + 1, cur.r, mid, hi) : cur.r;
      if (nl === cur.l && nr === cur.r) return cur;
      const kh = (changes[lo] as TreeChange).kh;
      // A subtree left with at most one key becomes that leaf (or empty), one level up.
      if ((nl === null && !isInternal(nr)) || (nr === null && !isInternal(nl))) {
        writes.push({ depth, kh, node: null });
        return nl === null ? nr : nl;
      }
      const node = newNode(nl, nr);
      writes.push({ depth, kh, node });
      return node;
    }
    if (typeof cur === "string") corrupt(`node at depth ${depth} was not loaded`);
    // A leaf or an empty subtree: the keys below are the old leaf (if any) and the changes' new keys.
    const items: Leaf[] = [];
    let placed = cur === null;
    for (let i = lo; i < hi; i++) {
      const c = changes[i] as TreeChange;
      const leaf = cur as Leaf;
      if (!placed && c.kh > leaf.kh) {
        items.push(leaf);
        placed = true;
      }
      if (!placed && c.kh === leaf.kh) {
        placed = true;
        if (c.vh === null) c.effective = true;
        else if (c.vh === leaf.vh) {
          c.effective = false;
          items.push(leaf);
        } else {
          c.effective = true;
          items.push(newLeaf(c.kh, c.vh));
        }
      } else if (c.vh === null) c.effective = false;
      else {
        c.effective = true;
        items.push(newLeaf(c.kh, c.vh));
      }
    }
    if (!placed) items.push(cur as Leaf);
    if (items.length === 1 && items[0] === cur) return cur;
    return build(depth, items, 0, items.length);
  };

  const newRoot = changes.length === 0 ? root : update(0, root, 0, changes.length);
  return { root: newRoot, writes };
}

function isInternal(r: Ref): boolean {
  return r instanceof INode || typeof r === "string";
}

/**
 * Bounds memory: keeps the top levels of the tree in memory, as many whole levels as fit in
 * `maxNodes` internal nodes, and turns the children below into stubs. The top levels are the ones
 * every block touches; a deeper node is touched by few blocks, and is read back from LevelDB (one
 * batched read per level) when it is. Returns the number of internal nodes kept.
 */
export function pruneTree(root: Ref, maxNodes: number): number {
  if (!(root instanceof INode)) return 0;
  let level: INode[] = [root];
  let kept = 0;
  while (level.length > 0) {
    kept += level.length;
    const next: INode[] = [];
    for (const n of level) {
      if (n.l instanceof INode) next.push(n.l);
      if (n.r instanceof INode) next.push(n.r);
    }
    if (kept + next.length > maxNodes) {
      for (const n of level) {
        if (n.l instanceof INode) n.l = n.l.h;
        if (n.r instanceof INode) n.r = n.r.h;
      }
      return kept;
    }
    level = next;
  }
  return kept;
}
