// Identity attestations for KYC (FG DLT use case): the owner (set by `init`) registers trusted
// issuers (a bank, a notary, a registry); an issuer attests a claim about a subject's key (say
// "kyc-level" = "2", "residence" = "DE") valid until a block height, and may revoke it. Anyone
// can verify a claim against the current block height: a claim is valid while it is neither
// revoked nor expired and its issuer is still registered.
//
// Storage (keys are UTF-8 prefixes followed by raw bytes; values are canonical arrays):
//   "owner"                         -> the owner's key (the SDK's initOwner)
//   "n/issuers"                     -> number of registered issuers (8-byte big-endian)
//   "i/" + key                      -> [name, addedAt] (the SDK's Members)
//   "c/" + subject (32 bytes) + claimType
//                                   -> [issuer, value, issuedAt, expiresAt, revoked, revokedAt]
// The subject has a fixed length, so "c/" + subject is the prefix of exactly the subject's claims.
// One claim per (subject, claimType): issuing again replaces it (see `issue`).
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
const MAX_TYPE_BYTES = 64;
const MAX_VALUE_BYTES = 256;
/** Claims listed by `claims`; at most ~500 bytes each, well within the 64 KiB result. */
const CLAIMS_PAGE = 64;
/** Issuers listed by `issuers`. */
const ISSUERS_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Keys and records

/** The registered issuers. */
const ISSUERS = new Members("i/", "n/issuers");

function claimPrefix(subject: Uint8Array): Uint8Array {
  return concat(utf8("c/"), subject);
}

function claimKey(subject: Uint8Array, claimType: string): Uint8Array {
  return concat(claimPrefix(subject), utf8(claimType));
}

class Claim {
  issuer: Uint8Array = new Uint8Array(0);
  value: string = "";
  issuedAt: u64 = 0;
  /** 0: never expires. */
  expiresAt: u64 = 0;
  revoked: bool = false;
  revokedAt: u64 = 0;

  static decode(raw: Uint8Array): Claim {
    const r = Args.from(raw);
    const c = new Claim();
    c.issuer = r.bytes();
    c.value = r.str();
    c.issuedAt = r.u64();
    c.expiresAt = r.u64();
    c.revoked = r.bool();
    c.revokedAt = r.u64();
    return c;
  }

  static load(subject: Uint8Array, claimType: string): Claim | null {
    const raw = storage.get(claimKey(subject, claimType));
    return raw === null ? null : Claim.decode(raw);
  }

  save(subject: Uint8Array, claimType: string): void {
    const w = new Writer()
      .array(6)
      .bytes(this.issuer)
      .str(this.value)
      .u64(this.issuedAt)
      .u64(this.expiresAt)
      .bool(this.revoked)
      .u64(this.revokedAt);
    storage.set(claimKey(subject, claimType), w.finish());
  }

  /** Expired at `height`: the claim was valid up to expiresAt - 1. */
  expired(height: u64): bool {
    return this.expiresAt != 0 && height >= this.expiresAt;
  }

  issuerActive(): bool {
    return ISSUERS.has(this.issuer);
  }

  /** "revoked", "expired", "issuer-removed" (the first that applies, in that order) or "valid". */
  status(height: u64): string {
    if (this.revoked) return "revoked";
    if (this.expired(height)) return "expired";
    if (!this.issuerActive()) return "issuer-removed";
    return "valid";
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function loadClaim(subject: Uint8Array, claimType: string): Claim {
  const c = Claim.load(subject, claimType);
  if (c === null) fail("UNKNOWN_CLAIM", "the subject has no " + claimType + " claim");
  return c!;
}

// ---------------------------------------------------------------------------------------------
// Methods

/** init(): makes the caller the owner, who adds and removes issuers; only once. */
export function init(): void {
  Args.read().done();
  const key = initOwner("the registry is already initialised");
  emit("init", new Writer().array(1).bytes(key));
}

/** addIssuer(key: key, name: str): the owner registers a trusted issuer. */
export function addIssuer(): void {
  const args = Args.read();
  const key = args.key();
  const name = args.str();
  args.done();
  requireOwner("only the owner can manage issuers");
  checkText(name, "name", 1, MAX_NAME_BYTES);
  if (!ISSUERS.add(key, name)) fail("ISSUER_EXISTS", "the key is already the issuer " + ISSUERS.name(key));
  emit("issuerAdded", new Writer().array(2).bytes(key).str(name));
}

/**
 * removeIssuer(key: key): the owner removes an issuer. It can issue no more, and its claims stop
 * being valid ("issuer-removed"); it can still revoke them.
 */
export function removeIssuer(): void {
  const args = Args.read();
  const key = args.key();
  args.done();
  requireOwner("only the owner can manage issuers");
  require(ISSUERS.remove(key), "NOT_ISSUER", "the key is not a registered issuer");
  emit("issuerRemoved", new Writer().array(1).bytes(key));
}

/**
 * issue(subject: key, claimType: str, value: str, expiresAt: u64): a registered issuer attests a
 * claim, valid up to height expiresAt - 1 (0: no expiry). It replaces the subject's claim of that
 * type if that claim is the caller's own or no longer valid; a valid claim of another issuer
 * stays (CLAIM_EXISTS) until it is revoked, expires, or its issuer is removed.
 */
export function issue(): void {
  const args = Args.read();
  const subject = args.key();
  const claimType = args.str();
  const value = args.str();
  const expiresAt = args.u64();
  args.done();
  requireInitialized();
  checkId(claimType, "claimType", MAX_TYPE_BYTES);
  checkText(value, "value", 0, MAX_VALUE_BYTES);
  const caller = context.caller();
  require(ISSUERS.has(caller), "NOT_ISSUER", "only a registered issuer can issue claims");
  const height = context.height();
  if (expiresAt != 0 && expiresAt <= height) {
    fail("BAD_ARGS", "expiresAt " + expiresAt.toString() + " is not after the current height " + height.toString());
  }
  const existing = Claim.load(subject, claimType);
  if (existing !== null && !equal(existing.issuer, caller) && existing.status(height) == "valid") {
    fail("CLAIM_EXISTS", "the subject has a valid " + claimType + " claim from " + ISSUERS.name(existing.issuer));
  }
  const c = new Claim();
  c.issuer = caller;
  c.value = value;
  c.issuedAt = height;
  c.expiresAt = expiresAt;
  c.save(subject, claimType);
  emit("issued", new Writer().array(5).bytes(subject).str(claimType).bytes(caller).str(value).u64(expiresAt));
}

/** revoke(subject: key, claimType: str): the claim's issuer revokes it. */
export function revoke(): void {
  const args = Args.read();
  const subject = args.key();
  const claimType = args.str();
  args.done();
  const c = loadClaim(subject, claimType);
  const caller = context.caller();
  require(equal(caller, c.issuer), "NOT_ISSUER", "only the issuer of the claim can revoke it");
  if (c.revoked) fail("ALREADY_REVOKED", "the claim was revoked at height " + c.revokedAt.toString());
  c.revoked = true;
  c.revokedAt = context.height();
  c.save(subject, claimType);
  emit("revoked", new Writer().array(3).bytes(subject).str(claimType).bytes(caller));
}

/**
 * verify(subject: key, claimType: str) -> [valid: bool, issuer: key, issuerName, value, expired:
 * bool, revoked: bool, issuerActive: bool, expiresAt: u64], evaluated at the current height (a
 * query: the committed height). UNKNOWN_CLAIM when the subject has no claim of that type.
 */
export function verify(): void {
  const args = Args.read();
  const subject = args.key();
  const claimType = args.str();
  args.done();
  const c = loadClaim(subject, claimType);
  const height = context.height();
  const expired = c.expired(height);
  const active = c.issuerActive();
  returnValue(
    new Writer()
      .array(8)
      .bool(!c.revoked && !expired && active)
      .bytes(c.issuer)
      .str(ISSUERS.name(c.issuer))
      .str(c.value)
      .bool(expired)
      .bool(c.revoked)
      .bool(active)
      .u64(c.expiresAt),
  );
}

/**
 * claims(subject: key) -> [[claimType, issuer: key, value, status ("valid" | "revoked" | "expired"
 * | "issuer-removed"), issuedAt: u64, expiresAt: u64], ...]: the subject's claims in claim type
 * order (first 64), evaluated at the current height.
 */
export function claims(): void {
  const args = Args.read();
  const subject = args.key();
  args.done();
  const prefix = claimPrefix(subject);
  const keys = storage.keys(prefix, CLAIMS_PAGE);
  const height = context.height();
  const w = new Writer().array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const c = Claim.decode(storage.get(keys[i])!);
    const typeBytes = keys[i].slice(prefix.length);
    w.array(6)
      .str(String.UTF8.decode(typeBytes.buffer))
      .bytes(c.issuer)
      .str(c.value)
      .str(c.status(height))
      .u64(c.issuedAt)
      .u64(c.expiresAt);
  }
  returnValue(w);
}

/** issuer(key: key) -> [name, addedAt: u64], or nil when the key is not a registered issuer. */
export function issuer(): void {
  const args = Args.read();
  const key = args.key();
  args.done();
  returnValue(ISSUERS.encode(key));
}

/** issuers() -> [[key, name, addedAt: u64], ...]: the registered issuers in key order (first 100). */
export function issuers(): void {
  Args.read().done();
  returnValue(ISSUERS.encodeList(ISSUERS_PAGE));
}

/** info() -> [owner: key, issuers: u64]; fails NOT_INITIALIZED before init. */
export function info(): void {
  Args.read().done();
  returnValue(new Writer().array(2).bytes(owner()).u64(ISSUERS.count()));
}
