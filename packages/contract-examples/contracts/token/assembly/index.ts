// A payment/settlement token (FG DLT use case): one minter, set by `init`, creates tokens; any
// holder transfers them. Balances are 8-byte big-endian numbers under "b/" + the owner's key.
import { Args, concat, context, emit, equal, fail, require, returnValue, storage, utf8, Writer } from "@cairn/contract-sdk";

function minterKey(): Uint8Array {
  return utf8("minter");
}

function supplyKey(): Uint8Array {
  return utf8("supply");
}

function balanceKey(owner: Uint8Array): Uint8Array {
  return concat(utf8("b/"), owner);
}

/** init(name: str, symbol: str): makes the caller the minter; only once. */
export function init(): void {
  const args = Args.read();
  const name = args.str();
  const symbol = args.str();
  args.done();
  if (storage.has(minterKey())) fail("ALREADY_INITIALIZED", "the token is already initialised");
  require(name.length > 0 && name.length <= 64, "BAD_ARGS", "name must be 1..64 characters");
  require(symbol.length > 0 && symbol.length <= 16, "BAD_ARGS", "symbol must be 1..16 characters");
  const minter = context.caller();
  storage.set(minterKey(), minter);
  storage.setString(utf8("name"), name);
  storage.setString(utf8("symbol"), symbol);
  emit("init", new Writer().array(3).str(name).str(symbol).bytes(minter));
}

/** mint(to: key, amount: u64): creates `amount` tokens for `to`; the minter only. */
export function mint(): void {
  const args = Args.read();
  const to = args.key();
  const amount = args.u64();
  args.done();
  const minter = storage.get(minterKey());
  if (minter === null) fail("NOT_INITIALIZED", "call init first");
  require(equal(context.caller(), minter!), "NOT_MINTER", "only the minter can mint");
  require(amount > 0, "BAD_AMOUNT", "amount must be positive");
  const supply = storage.getU64(supplyKey());
  // Every balance is at most the supply, so a supply that does not overflow keeps balances safe.
  require(amount <= u64.MAX_VALUE - supply, "OVERFLOW", "the supply would exceed 2^64-1");
  storage.setU64(supplyKey(), supply + amount);
  const key = balanceKey(to);
  storage.setU64(key, storage.getU64(key) + amount);
  emit("mint", new Writer().array(2).bytes(to).u64(amount));
}

/** transfer(to: key, amount: u64): moves `amount` of the caller's tokens to `to`. */
export function transfer(): void {
  const args = Args.read();
  const to = args.key();
  const amount = args.u64();
  args.done();
  require(amount > 0, "BAD_AMOUNT", "amount must be positive");
  const from = context.caller();
  const fromKey = balanceKey(from);
  const fromBalance = storage.getU64(fromKey);
  if (fromBalance < amount) {
    fail("INSUFFICIENT_FUNDS", "balance " + fromBalance.toString() + " is less than " + amount.toString());
  }
  storage.setU64(fromKey, fromBalance - amount);
  // Read the recipient after the debit, so that a transfer to oneself leaves the balance as it was.
  const toKey = balanceKey(to);
  const toBalance = storage.getU64(toKey);
  require(amount <= u64.MAX_VALUE - toBalance, "OVERFLOW", "the recipient's balance would exceed 2^64-1");
  storage.setU64(toKey, toBalance + amount);
  emit("transfer", new Writer().array(3).bytes(from).bytes(to).u64(amount));
}

/** balance(owner: key) -> u64 */
export function balance(): void {
  const args = Args.read();
  const owner = args.key();
  args.done();
  returnValue(new Writer().u64(storage.getU64(balanceKey(owner))));
}

/** supply() -> u64 */
export function supply(): void {
  Args.read().done();
  returnValue(new Writer().u64(storage.getU64(supplyKey())));
}

/** info() -> [name: str, symbol: str, minter: key, supply: u64]; fails NOT_INITIALIZED before init. */
export function info(): void {
  Args.read().done();
  const minter = storage.get(minterKey());
  if (minter === null) fail("NOT_INITIALIZED", "call init first");
  returnValue(
    new Writer()
      .array(4)
      .str(storage.getString(utf8("name"))!)
      .str(storage.getString(utf8("symbol"))!)
      .bytes(minter!)
      .u64(storage.getU64(supplyKey())),
  );
}
