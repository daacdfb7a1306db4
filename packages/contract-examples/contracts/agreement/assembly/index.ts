// A sealed-price agreement between two organisations, with private data (docs/privacy.md): the
// seller offers an item at a price only the members of a collection see; the buyer accepts by
// sending the same price (with the salt the two agreed off chain). Every node checks that the two
// hashes are equal and records the sale, without any node but the members' ever seeing the price:
// Fabric's "validation by hash" in a Cairn contract.
//
// Storage (values are canonical arrays):
//   "o/" + itemId  -> [seller, collection, keyHash, valueHash, height]   an open offer
//   "s/" + itemId  -> [seller, buyer, collection, valueHash, height]     a sale
import {
  Args,
  checkId,
  concat,
  context,
  emit,
  equal,
  fail,
  privateData,
  require,
  returnValue,
  storage,
  utf8,
  Writer,
} from "@cairn/contract-sdk";

function offerKey(item: string): Uint8Array {
  return concat(utf8("o/"), utf8(item));
}

function saleKey(item: string): Uint8Array {
  return concat(utf8("s/"), utf8(item));
}

/** offer(itemId) with one private write: the price. Records its hashes as the item's open offer. */
export function offer(): void {
  const a = Args.read();
  const item = a.str();
  a.done();
  checkId(item, "itemId", 64);
  require(privateData.count() == 1, "NO_PRIVATE_PRICE", "offer carries the price as one private write");
  require(!storage.has(offerKey(item)), "OFFER_EXISTS", "item " + item + " is already offered");
  require(!storage.has(saleKey(item)), "SOLD", "item " + item + " was sold");
  const price = privateData.ref(0);
  privateData.put(0);
  const w = new Writer()
    .array(5)
    .bytes(context.caller())
    .str(price.collection)
    .bytes(price.keyHash)
    .bytes(price.valueHash)
    .u64(context.height());
  storage.set(offerKey(item), w.finish());
  emit("offered", new Writer().array(2).str(item).str(price.collection));
}

/**
 * accept(itemId) with one private write: the price the buyer agreed to, salted as the seller's
 * was. Sells the item when its hash equals the offer's; fails with PRICE_MISMATCH otherwise.
 */
export function accept(): void {
  const a = Args.read();
  const item = a.str();
  a.done();
  checkId(item, "itemId", 64);
  require(privateData.count() == 1, "NO_PRIVATE_PRICE", "accept carries the agreed price as one private write");
  const stored = storage.get(offerKey(item));
  if (stored === null) fail("NO_OFFER", "item " + item + " is not offered");
  const o = Args.from(stored!);
  const seller = o.bytes();
  const collection = o.str();
  o.bytes();
  const offered = o.bytes();
  const price = privateData.ref(0);
  require(!equal(seller, context.caller()), "OWN_OFFER", "the seller cannot accept its own offer");
  require(price.collection == collection, "WRONG_COLLECTION", "the price must be written to " + collection);
  require(equal(price.valueHash, offered), "PRICE_MISMATCH", "the agreed price does not match the offer");
  privateData.put(0);
  storage.remove(offerKey(item));
  const w = new Writer()
    .array(5)
    .bytes(seller)
    .bytes(context.caller())
    .str(collection)
    .bytes(offered)
    .u64(context.height());
  storage.set(saleKey(item), w.finish());
  emit("sold", new Writer().array(1).str(item));
}

/** sale(itemId) -> [seller, buyer, collection, valueHash, height] | nil. */
export function sale(): void {
  const a = Args.read();
  const item = a.str();
  a.done();
  const s = storage.get(saleKey(item));
  if (s === null) {
    returnValue(new Writer().nil());
    return;
  }
  const r = Args.from(s!);
  returnValue(
    new Writer().array(5).bytes(r.bytes()).bytes(r.bytes()).str(r.str()).bytes(r.bytes()).u64(r.u64()),
  );
}
