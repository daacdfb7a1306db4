// Supply-chain asset provenance (FG DLT use case): the owner (set by `init`) registers the parties
// of a supply chain; a party creates an item and becomes its holder; the holder hands the item to
// another party, and may retire it at the end of its life. Every step (create, transfer, retire)
// is appended to the item's history with the block's height and time, so anyone can trace where
// an item has been.
//
// Storage (keys are UTF-8 prefixes followed by raw bytes; values are canonical arrays):
//   "owner"                         -> the owner's key (the SDK's initOwner)
//   "n/parties", "n/items"          -> counters (8-byte big-endian)
//   "p/" + key                      -> [name, registeredAt] (the SDK's Members)
//   "i/" + itemId                   -> [description, creator, holder, retired, steps, createdAt, updatedAt]
//   "h/" + itemId + "/" + seq (u64 big-endian, so that byte order is step order)
//                                   -> [seq, action, from | nil, to | nil, note, height, time]
// Item ids contain no "/", so "h/<itemId>/" is the prefix of exactly one item's history.
import {
  Args,
  checkId,
  checkText,
  concat,
  context,
  emit,
  equal,
  fail,
  initOwner,
  Members,
  owner,
  require,
  requireInitialized,
  requireOwner,
  returnValue,
  storage,
  utf8,
  Writer,
} from "@cairn/contract-sdk";

const MAX_NAME_BYTES = 64;
const MAX_ID_BYTES = 64;
const MAX_TEXT_BYTES = 256;
/** Steps returned by one `history` call; at most ~420 bytes each, well within the 64 KiB result. */
const HISTORY_PAGE = 64;
/** Parties listed by `parties`. */
const PARTIES_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Keys and records

/** The registered parties. */
const PARTIES = new Members("p/", "n/parties");

function itemsCountKey(): Uint8Array {
  return utf8("n/items");
}

function itemKey(itemId: string): Uint8Array {
  return utf8("i/" + itemId);
}

function historyPrefix(itemId: string): Uint8Array {
  return utf8("h/" + itemId + "/");
}

function be64(n: u64): Uint8Array {
  const b = new Uint8Array(8);
  for (let i = 0; i < 8; i++) b[i] = <u8>(n >> (<u64>((7 - i) << 3)));
  return b;
}

function stepKey(itemId: string, seq: u64): Uint8Array {
  return concat(historyPrefix(itemId), be64(seq));
}

class Item {
  description: string = "";
  creator: Uint8Array = new Uint8Array(0);
  holder: Uint8Array = new Uint8Array(0);
  retired: bool = false;
  steps: u64 = 0;
  createdAt: u64 = 0;
  updatedAt: u64 = 0;

  static load(itemId: string): Item | null {
    const raw = storage.get(itemKey(itemId));
    if (raw === null) return null;
    const r = Args.from(raw);
    const item = new Item();
    item.description = r.str();
    item.creator = r.bytes();
    item.holder = r.bytes();
    item.retired = r.bool();
    item.steps = r.u64();
    item.createdAt = r.u64();
    item.updatedAt = r.u64();
    return item;
  }

  save(itemId: string): void {
    const w = new Writer()
      .array(7)
      .str(this.description)
      .bytes(this.creator)
      .bytes(this.holder)
      .bool(this.retired)
      .u64(this.steps)
      .u64(this.createdAt)
      .u64(this.updatedAt);
    storage.set(itemKey(itemId), w.finish());
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function loadItem(itemId: string): Item {
  const item = Item.load(itemId);
  if (item === null) fail("UNKNOWN_ITEM", "no item " + itemId);
  return item!;
}

/** Appends a step to the item's history and bumps its step count and update height. */
function appendStep(itemId: string, item: Item, action: string, from: Uint8Array | null, to: Uint8Array | null, note: string): u64 {
  const seq = item.steps;
  const height = context.height();
  const w = new Writer().array(7).u64(seq).str(action);
  if (from === null) w.nil();
  else w.bytes(from);
  if (to === null) w.nil();
  else w.bytes(to);
  w.str(note).u64(height).u64(context.time());
  storage.set(stepKey(itemId, seq), w.finish());
  item.steps = seq + 1;
  item.updatedAt = height;
  return seq;
}

function bump(key: Uint8Array): void {
  storage.setU64(key, storage.getU64(key) + 1);
}

// ---------------------------------------------------------------------------------------------
// Methods

/** init(): makes the caller the owner, who registers parties; only once. */
export function init(): void {
  Args.read().done();
  const key = initOwner("the registry is already initialised");
  emit("init", new Writer().array(1).bytes(key));
}

/** registerParty(key: key, name: str): the owner registers a party of the supply chain. */
export function registerParty(): void {
  const args = Args.read();
  const key = args.key();
  const name = args.str();
  args.done();
  requireOwner("only the owner can register parties");
  checkText(name, "name", 1, MAX_NAME_BYTES);
  if (!PARTIES.add(key, name)) fail("PARTY_EXISTS", "the key is already registered as " + PARTIES.name(key));
  emit("partyRegistered", new Writer().array(2).bytes(key).str(name));
}

/** create(itemId: str, description: str): a party creates an item and becomes its holder. */
export function create(): void {
  const args = Args.read();
  const itemId = args.str();
  const description = args.str();
  args.done();
  requireInitialized();
  checkId(itemId, "itemId", MAX_ID_BYTES);
  checkText(description, "description", 0, MAX_TEXT_BYTES);
  const caller = context.caller();
  require(PARTIES.has(caller), "NOT_PARTY", "only a registered party can create items");
  if (storage.has(itemKey(itemId))) fail("ITEM_EXISTS", "an item " + itemId + " exists already");
  const item = new Item();
  item.description = description;
  item.creator = caller;
  item.holder = caller;
  item.createdAt = context.height();
  appendStep(itemId, item, "create", null, caller, description);
  item.save(itemId);
  bump(itemsCountKey());
  emit("created", new Writer().array(3).str(itemId).bytes(caller).str(description));
}

/** transfer(itemId: str, to: key, note: str): the holder hands the item to another registered party. */
export function transfer(): void {
  const args = Args.read();
  const itemId = args.str();
  const to = args.key();
  const note = args.str();
  args.done();
  requireInitialized();
  checkText(note, "note", 0, MAX_TEXT_BYTES);
  const item = loadItem(itemId);
  if (item.retired) fail("RETIRED", "item " + itemId + " is retired");
  const caller = context.caller();
  require(equal(caller, item.holder), "NOT_HOLDER", "only the current holder can transfer item " + itemId);
  require(PARTIES.has(to), "NOT_PARTY", "the recipient is not a registered party");
  require(!equal(to, caller), "SAME_HOLDER", "the recipient already holds item " + itemId);
  const seq = appendStep(itemId, item, "transfer", caller, to, note);
  item.holder = to;
  item.save(itemId);
  emit("transferred", new Writer().array(5).str(itemId).bytes(caller).bytes(to).str(note).u64(seq));
}

/** retire(itemId: str[, note: str]): the holder ends the item's life; it can no longer move. */
export function retire(): void {
  const args = Args.read();
  const itemId = args.str();
  const note = args.remaining() > 0 ? args.str() : "";
  args.done();
  requireInitialized();
  checkText(note, "note", 0, MAX_TEXT_BYTES);
  const item = loadItem(itemId);
  if (item.retired) fail("RETIRED", "item " + itemId + " is already retired");
  const caller = context.caller();
  require(equal(caller, item.holder), "NOT_HOLDER", "only the current holder can retire item " + itemId);
  const seq = appendStep(itemId, item, "retire", caller, null, note);
  item.retired = true;
  item.save(itemId);
  emit("retired", new Writer().array(3).str(itemId).bytes(caller).u64(seq));
}

/**
 * item(itemId: str) -> [itemId, description, creator: key, holder: key, holderName, state
 * ("active" | "retired"), steps: u64, createdAt: u64, updatedAt: u64]
 */
export function item(): void {
  const args = Args.read();
  const itemId = args.str();
  args.done();
  const it = loadItem(itemId);
  returnValue(
    new Writer()
      .array(9)
      .str(itemId)
      .str(it.description)
      .bytes(it.creator)
      .bytes(it.holder)
      .str(PARTIES.name(it.holder))
      .str(it.retired ? "retired" : "active")
      .u64(it.steps)
      .u64(it.createdAt)
      .u64(it.updatedAt),
  );
}

/**
 * history(itemId: str[, fromSeq: u64]) -> [[seq, action ("create" | "transfer" | "retire"),
 * from: key | nil, to: key | nil, note, height, time], ...]: the item's steps in order, from
 * `fromSeq` (default 0), at most 64 per call (call again from the last seq + 1 for more).
 */
export function history(): void {
  const args = Args.read();
  const itemId = args.str();
  const fromSeq = args.remaining() > 0 ? args.u64() : 0;
  args.done();
  loadItem(itemId);
  const prefix = historyPrefix(itemId);
  const steps = new Array<Uint8Array>();
  let after: Uint8Array | null = fromSeq == 0 ? null : stepKey(itemId, fromSeq - 1);
  while (steps.length < HISTORY_PAGE) {
    const key = storage.next(prefix, after);
    if (key === null) break;
    steps.push(storage.get(key)!);
    after = key;
  }
  const w = new Writer().array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const r = Args.from(steps[i]);
    w.array(7).u64(r.u64()).str(r.str());
    for (let j = 0; j < 2; j++) {
      if (r.isNil()) {
        r.nil();
        w.nil();
      } else {
        w.bytes(r.bytes());
      }
    }
    w.str(r.str()).u64(r.u64()).u64(r.u64());
  }
  returnValue(w);
}

/** party(key: key) -> [name, registeredAt: u64], or nil when the key is not a registered party. */
export function party(): void {
  const args = Args.read();
  const key = args.key();
  args.done();
  returnValue(PARTIES.encode(key));
}

/** parties() -> [[key, name, registeredAt: u64], ...]: the registered parties in key order (first 100). */
export function parties(): void {
  Args.read().done();
  returnValue(PARTIES.encodeList(PARTIES_PAGE));
}

/** info() -> [owner: key, parties: u64, items: u64]; fails NOT_INITIALIZED before init. */
export function info(): void {
  Args.read().done();
  returnValue(new Writer().array(3).bytes(owner()).u64(PARTIES.count()).u64(storage.getU64(itemsCountKey())));
}
