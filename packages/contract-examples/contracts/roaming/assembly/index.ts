// Roaming settlement between telecom operators (FG DLT use case). The owner (set by `init`, say
// the consortium's clearing house) registers operators. When a subscriber of a *home* operator
// roams on a *visited* operator's network, the visited operator records the usage, per billing
// period, and the home operator owes it usage × tariff, at the tariff the two agreed for that
// direction (set by the home operator: it is the one that pays). Closing a period nets what each
// pair of operators owes each other into one payment, which the payer then marks settled.
//
// All amounts are u64 in the smallest currency unit (no floats: contracts cannot use them); every
// product and sum is checked and fails with OVERFLOW rather than wrapping.
//
// Storage (keys are UTF-8 prefixes followed by raw 32-byte keys; values are canonical arrays):
//   "owner"                                     -> the owner's key (the SDK's initOwner)
//   "count/operators"                           -> number of operators (8-byte big-endian)
//   "o/" + operator                             -> [name, addedAt] (the SDK's Members)
//   "t/" + visited + home                       -> [perMinute, perMB, setAt]
//   "p/" + periodId                             -> [closed, records, pairs, positions, closedAt]
//   "u/" + periodId + "/" + visited + home      -> [minutes, megabytes, amount, records]
//   "s/" + periodId + "/" + a + b (a < b)       -> [aOwes, bOwes, settled, settledAt] (at close)
// Period ids contain no "/", so "u/<periodId>/" is the prefix of exactly one period's usage.
import {
  Args,
  checkId,
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
const MAX_ID_BYTES = 32;
/** Operators listed by `operators`, positions listed by `positions`. */
const LIST_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Keys

/** The registered operators. */
const OPERATORS = new Members("o/", "count/operators");

function tariffKey(visited: Uint8Array, home: Uint8Array): Uint8Array {
  return concat(concat(utf8("t/"), visited), home);
}

function periodKey(periodId: string): Uint8Array {
  return utf8("p/" + periodId);
}

function usagePrefix(periodId: string): Uint8Array {
  return utf8("u/" + periodId + "/");
}

function usageKey(periodId: string, visited: Uint8Array, home: Uint8Array): Uint8Array {
  return concat(concat(usagePrefix(periodId), visited), home);
}

function positionPrefix(periodId: string): Uint8Array {
  return utf8("s/" + periodId + "/");
}

/** The net position of a pair is stored once, under the pair in byte order. */
function positionKey(periodId: string, a: Uint8Array, b: Uint8Array): Uint8Array {
  return less(a, b)
    ? concat(concat(positionPrefix(periodId), a), b)
    : concat(concat(positionPrefix(periodId), b), a);
}

/** Byte order of two keys of the same length. */
function less(a: Uint8Array, b: Uint8Array): bool {
  for (let i = 0; i < a.length; i++) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Checked arithmetic

function add(a: u64, b: u64, what: string): u64 {
  if (b > u64.MAX_VALUE - a) fail("OVERFLOW", what + " would exceed 2^64-1");
  return a + b;
}

function mul(a: u64, b: u64, what: string): u64 {
  if (a != 0 && b > u64.MAX_VALUE / a) fail("OVERFLOW", what + " would exceed 2^64-1");
  return a * b;
}

// ---------------------------------------------------------------------------------------------
// Records

class Period {
  closed: bool = false;
  /** recordUsage calls. */
  records: u64 = 0;
  /** Distinct (visited, home) directions with usage. */
  pairs: u64 = 0;
  /** Net positions computed at close. */
  positions: u64 = 0;
  closedAt: u64 = 0;

  static load(periodId: string): Period | null {
    const raw = storage.get(periodKey(periodId));
    if (raw === null) return null;
    const r = Args.from(raw);
    const p = new Period();
    p.closed = r.bool();
    p.records = r.u64();
    p.pairs = r.u64();
    p.positions = r.u64();
    p.closedAt = r.u64();
    return p;
  }

  save(periodId: string): void {
    const w = new Writer().array(5).bool(this.closed).u64(this.records).u64(this.pairs).u64(this.positions);
    storage.set(periodKey(periodId), w.u64(this.closedAt).finish());
  }
}

class Usage {
  minutes: u64 = 0;
  megabytes: u64 = 0;
  amount: u64 = 0;
  records: u64 = 0;

  static load(periodId: string, visited: Uint8Array, home: Uint8Array): Usage {
    const u = new Usage();
    const raw = storage.get(usageKey(periodId, visited, home));
    if (raw === null) return u;
    const r = Args.from(raw);
    u.minutes = r.u64();
    u.megabytes = r.u64();
    u.amount = r.u64();
    u.records = r.u64();
    return u;
  }

  save(periodId: string, visited: Uint8Array, home: Uint8Array): void {
    const w = new Writer().array(4).u64(this.minutes).u64(this.megabytes).u64(this.amount).u64(this.records);
    storage.set(usageKey(periodId, visited, home), w.finish());
  }

  write(w: Writer): void {
    w.array(3).u64(this.minutes).u64(this.megabytes).u64(this.amount);
  }
}

/** What a and b owe each other in a period, and the one payment that settles it. */
class Position {
  aOwes: u64 = 0;
  bOwes: u64 = 0;
  settled: bool = false;
  settledAt: u64 = 0;

  /** From the usage: a owes b for a's subscribers on b's network (visited b, home a), and back. */
  static compute(periodId: string, a: Uint8Array, b: Uint8Array): Position {
    const p = new Position();
    p.aOwes = Usage.load(periodId, b, a).amount;
    p.bOwes = Usage.load(periodId, a, b).amount;
    return p;
  }

  /** The stored position (after close), seen from a; null when a and b had no usage. */
  static load(periodId: string, a: Uint8Array, b: Uint8Array): Position | null {
    const raw = storage.get(positionKey(periodId, a, b));
    if (raw === null) return null;
    const r = Args.from(raw);
    const p = new Position();
    const loOwes = r.u64();
    const hiOwes = r.u64();
    const aIsLo = less(a, b);
    p.aOwes = aIsLo ? loOwes : hiOwes;
    p.bOwes = aIsLo ? hiOwes : loOwes;
    p.settled = r.bool();
    p.settledAt = r.u64();
    return p;
  }

  save(periodId: string, a: Uint8Array, b: Uint8Array): void {
    const aIsLo = less(a, b);
    const w = new Writer()
      .array(4)
      .u64(aIsLo ? this.aOwes : this.bOwes)
      .u64(aIsLo ? this.bOwes : this.aOwes)
      .bool(this.settled)
      .u64(this.settledAt);
    storage.set(positionKey(periodId, a, b), w.finish());
  }

  net(): u64 {
    return this.aOwes >= this.bOwes ? this.aOwes - this.bOwes : this.bOwes - this.aOwes;
  }

  /** The payer (a or b), or null when they owe each other the same. */
  payer(a: Uint8Array, b: Uint8Array): Uint8Array | null {
    if (this.aOwes == this.bOwes) return null;
    return this.aOwes > this.bOwes ? a : b;
  }
}

function writeKeyOrNil(w: Writer, k: Uint8Array | null): void {
  if (k === null) w.nil();
  else w.bytes(k);
}

// ---------------------------------------------------------------------------------------------
// Checks

/** The caller, which must be a registered operator. */
function callerOperator(): Uint8Array {
  requireInitialized();
  const caller = context.caller();
  require(OPERATORS.has(caller), "NOT_OPERATOR", "the caller is not a registered operator");
  return caller;
}

function requireOperator(key: Uint8Array, what: string): void {
  require(OPERATORS.has(key), "UNKNOWN_OPERATOR", what + " is not a registered operator");
}

function loadPeriod(periodId: string): Period {
  const p = Period.load(periodId);
  if (p === null) fail("UNKNOWN_PERIOD", "no usage was recorded for period " + periodId);
  return p!;
}

// ---------------------------------------------------------------------------------------------
// Methods

/** init(): makes the caller the owner, who registers operators and closes periods; only once. */
export function init(): void {
  Args.read().done();
  const key = initOwner("the settlement is already initialised");
  emit("init", new Writer().array(1).bytes(key));
}

/** addOperator(key: key, name: str): the owner registers an operator. */
export function addOperator(): void {
  const args = Args.read();
  const key = args.key();
  const name = args.str();
  args.done();
  requireOwner();
  const n = String.UTF8.byteLength(name);
  require(n >= 1 && n <= MAX_NAME_BYTES, "BAD_ARGS", "name must be 1..64 bytes");
  require(OPERATORS.add(key, name), "OPERATOR_EXISTS", "the key is already a registered operator");
  emit("operatorAdded", new Writer().array(2).bytes(key).str(name));
}

/**
 * setTariff(visited: key, home: key, perMinute: u64, perMB: u64): the home operator sets what it
 * pays the visited operator per minute and per megabyte its subscribers use there. Applies to
 * usage recorded from then on.
 */
export function setTariff(): void {
  const args = Args.read();
  const visited = args.key();
  const home = args.key();
  const perMinute = args.u64();
  const perMB = args.u64();
  args.done();
  const caller = callerOperator();
  require(equal(caller, home), "NOT_HOME_OPERATOR", "only the home operator sets the tariffs it pays");
  requireOperator(visited, "the visited operator");
  require(!equal(visited, home), "BAD_ARGS", "visited and home must be different operators");
  storage.set(tariffKey(visited, home), new Writer().array(3).u64(perMinute).u64(perMB).u64(context.height()).finish());
  emit("tariffSet", new Writer().array(4).bytes(visited).bytes(home).u64(perMinute).u64(perMB));
}

/**
 * recordUsage(home: key, periodId: str, minutes: u64, megabytes: u64): the visited operator (the
 * caller) records what the home operator's subscribers used on its network in a period, charged
 * at the current tariff. The period opens with its first record.
 */
export function recordUsage(): void {
  const args = Args.read();
  const home = args.key();
  const periodId = args.str();
  const minutes = args.u64();
  const megabytes = args.u64();
  args.done();
  const visited = callerOperator();
  checkId(periodId, "periodId", MAX_ID_BYTES);
  requireOperator(home, "the home operator");
  require(!equal(visited, home), "BAD_ARGS", "an operator does not roam on its own network");
  require(minutes > 0 || megabytes > 0, "BAD_AMOUNT", "usage must be positive");
  const tariff = storage.get(tariffKey(visited, home));
  if (tariff === null) fail("NO_TARIFF", "the home operator has set no tariff for this direction");
  let period = Period.load(periodId);
  if (period === null) period = new Period();
  if (period.closed) fail("PERIOD_CLOSED", "period " + periodId + " is closed");
  const t = Args.from(tariff!);
  const perMinute = t.u64();
  const perMB = t.u64();
  const amount = add(mul(minutes, perMinute, "minutes × tariff"), mul(megabytes, perMB, "megabytes × tariff"), "amount");
  const usage = Usage.load(periodId, visited, home);
  if (usage.records == 0) period.pairs++;
  usage.minutes = add(usage.minutes, minutes, "total minutes");
  usage.megabytes = add(usage.megabytes, megabytes, "total megabytes");
  usage.amount = add(usage.amount, amount, "total amount");
  usage.records++;
  usage.save(periodId, visited, home);
  period.records++;
  period.save(periodId);
  emit(
    "usageRecorded",
    new Writer().array(6).str(periodId).bytes(visited).bytes(home).u64(minutes).u64(megabytes).u64(amount),
  );
}

/**
 * closePeriod(periodId: str): the owner closes a period: no more usage can be recorded, and the
 * net position of every pair of operators with usage between them is fixed. Emits a
 * `netPosition` event per pair ([periodId, a, b, aOwes, bOwes, net, payer | nil]) and a
 * `periodClosed` event ([periodId, positions]).
 */
export function closePeriod(): void {
  const args = Args.read();
  const periodId = args.str();
  args.done();
  requireOwner();
  const period = loadPeriod(periodId);
  if (period.closed) fail("PERIOD_CLOSED", "period " + periodId + " is already closed");
  const prefix = usagePrefix(periodId);
  const start = prefix.length;
  let after: Uint8Array | null = null;
  let positions: u64 = 0;
  while (true) {
    const key = storage.next(prefix, after);
    if (key === null) break;
    after = key;
    const visited = key.slice(start, start + 32);
    const home = key.slice(start + 32, start + 64);
    // Both directions of a pair lead to the same position: compute it once.
    if (storage.has(positionKey(periodId, visited, home))) continue;
    const a = less(visited, home) ? visited : home;
    const b = less(visited, home) ? home : visited;
    const p = Position.compute(periodId, a, b);
    p.save(periodId, a, b);
    positions++;
    const w = new Writer().array(7).str(periodId).bytes(a).bytes(b).u64(p.aOwes).u64(p.bOwes).u64(p.net());
    writeKeyOrNil(w, p.payer(a, b));
    emit("netPosition", w);
  }
  period.closed = true;
  period.positions = positions;
  period.closedAt = context.height();
  period.save(periodId);
  emit("periodClosed", new Writer().array(2).str(periodId).u64(positions));
}

/**
 * settle(periodId: str, counterparty: key): the payer of a closed period's net position with
 * `counterparty` marks it paid.
 */
export function settle(): void {
  const args = Args.read();
  const periodId = args.str();
  const counterparty = args.key();
  args.done();
  const caller = callerOperator();
  const period = loadPeriod(periodId);
  require(period.closed, "PERIOD_OPEN", "period " + periodId + " is not closed yet");
  const p = Position.load(periodId, caller, counterparty);
  if (p === null) fail("NOTHING_TO_SETTLE", "no usage between the caller and the counterparty in " + periodId);
  const payer = p!.payer(caller, counterparty);
  if (payer === null) fail("NOTHING_TO_SETTLE", "the position is balanced: nobody owes anything");
  require(equal(payer!, caller), "NOT_PAYER", "the counterparty is the payer of this position");
  if (p!.settled) fail("ALREADY_SETTLED", "the position was settled at height " + p!.settledAt.toString());
  p!.settled = true;
  p!.settledAt = context.height();
  p!.save(periodId, caller, counterparty);
  emit("settled", new Writer().array(4).str(periodId).bytes(caller).bytes(counterparty).u64(p!.net()));
}

/**
 * statement(periodId: str, a: key, b: key) -> [periodId, state ("open" | "closed"), aUsage, bUsage,
 * net: u64, payer: key | nil, payee: key | nil, settled: bool], where aUsage = [minutes, megabytes,
 * amount] is what a's subscribers used on b's network (a owes b that amount) and bUsage the
 * reverse. In an open period the net is what it would be if the period closed now.
 */
export function statement(): void {
  const args = Args.read();
  const periodId = args.str();
  const a = args.key();
  const b = args.key();
  args.done();
  require(!equal(a, b), "BAD_ARGS", "a and b must be different operators");
  const period = loadPeriod(periodId);
  const aUsage = Usage.load(periodId, b, a);
  const bUsage = Usage.load(periodId, a, b);
  let p: Position | null = period.closed ? Position.load(periodId, a, b) : null;
  if (p === null) p = Position.compute(periodId, a, b);
  const payer = p.payer(a, b);
  const w = new Writer().array(8).str(periodId).str(period.closed ? "closed" : "open");
  aUsage.write(w);
  bUsage.write(w);
  w.u64(p.net());
  writeKeyOrNil(w, payer);
  writeKeyOrNil(w, payer === null ? null : equal(payer, a) ? b : a);
  w.bool(p.settled);
  returnValue(w);
}

/**
 * positions(periodId: str) -> [[a: key, b: key, aOwes, bOwes, net, payer: key | nil, settled], ...]:
 * a closed period's net positions (first 100); PERIOD_OPEN before close.
 */
export function positions(): void {
  const args = Args.read();
  const periodId = args.str();
  args.done();
  const period = loadPeriod(periodId);
  require(period.closed, "PERIOD_OPEN", "period " + periodId + " is not closed yet");
  const prefix = positionPrefix(periodId);
  const start = prefix.length;
  const keys = storage.keys(prefix, LIST_PAGE);
  const w = new Writer().array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const a = keys[i].slice(start, start + 32);
    const b = keys[i].slice(start + 32, start + 64);
    const p = Position.load(periodId, a, b)!;
    w.array(7).bytes(a).bytes(b).u64(p.aOwes).u64(p.bOwes).u64(p.net());
    writeKeyOrNil(w, p.payer(a, b));
    w.bool(p.settled);
  }
  returnValue(w);
}

/** period(periodId: str) -> [state ("open" | "closed"), records, pairs, positions, closedAt]. */
export function period(): void {
  const args = Args.read();
  const periodId = args.str();
  args.done();
  const p = loadPeriod(periodId);
  returnValue(
    new Writer()
      .array(5)
      .str(p.closed ? "closed" : "open")
      .u64(p.records)
      .u64(p.pairs)
      .u64(p.positions)
      .u64(p.closedAt),
  );
}

/** tariff(visited: key, home: key) -> [perMinute, perMB, setAt], or nil when none is set. */
export function tariff(): void {
  const args = Args.read();
  const visited = args.key();
  const home = args.key();
  args.done();
  const raw = storage.get(tariffKey(visited, home));
  if (raw === null) {
    returnValue(new Writer().nil());
    return;
  }
  const r = Args.from(raw);
  returnValue(new Writer().array(3).u64(r.u64()).u64(r.u64()).u64(r.u64()));
}

/** operator(key: key) -> [name, addedAt], or nil when the key is not a registered operator. */
export function operator(): void {
  const args = Args.read();
  const key = args.key();
  args.done();
  returnValue(OPERATORS.encode(key));
}

/** operators() -> [[key, name, addedAt], ...]: the registered operators in key order (first 100). */
export function operators(): void {
  Args.read().done();
  returnValue(OPERATORS.encodeList(LIST_PAGE));
}

/** info() -> [owner: key, operators: u64]; fails NOT_INITIALIZED before init. */
export function info(): void {
  Args.read().done();
  returnValue(new Writer().array(2).bytes(owner()).u64(OPERATORS.count()));
}
