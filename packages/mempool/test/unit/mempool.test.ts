import { generateKeyPair, type KeyPair } from "@cairn/crypto";
import { VerifyPool } from "@cairn/crypto/native";
import { encode, type SignedTransaction, signTransaction } from "@cairn/messaging";
import { afterAll, describe, expect, it } from "vitest";
import { type AdmissionChecker, Mempool } from "../../src/index.ts";

const verifier = new VerifyPool({ workers: 0 });
afterAll(() => verifier.close());

const key: KeyPair = generateKeyPair();
let counter = 0;

function tx(opts: { expiry?: number; nonce?: Uint8Array; chainId?: string } = {}): SignedTransaction {
  const nonce = opts.nonce ?? new Uint8Array(16).fill(0);
  if (opts.nonce === undefined) new DataView(nonce.buffer).setUint32(0, ++counter);
  return signTransaction(
    {
      chainId: opts.chainId ?? "test",
      sender: key.publicKey,
      nonce,
      expiry: opts.expiry ?? 100,
      contract: "kv",
      method: "put",
      args: [new Uint8Array([1]), new Uint8Array([2])],
    },
    key.secretKey,
  );
}

const acceptAll: AdmissionChecker = { checkAdmission: async (txs) => txs.map(() => null) };
const chainCheck: AdmissionChecker = {
  checkAdmission: async (txs) =>
    txs.map((t) => (t.tx.chainId === "test" ? null : { code: "WRONG_CHAIN", message: "wrong chain" })),
};

function pool(admission = acceptAll, options = {}) {
  return new Mempool({ admission, verifier, maxTxBytes: 4096 }, options);
}

/** A verifier that counts the signatures it is asked to check (and checks them). */
function countingVerifier() {
  const counted = { n: 0 };
  return {
    counted,
    verifyBatch: (items: Parameters<VerifyPool["verifyBatch"]>[0]) => {
      counted.n += items.length;
      return verifier.verifyBatch(items);
    },
  };
}

describe("mempool admission", () => {
  it("does not check again a signature this node checked in a proposal", async () => {
    const inProposal = tx();
    const fresh = tx();
    const v = countingVerifier();
    const m = new Mempool({ admission: acceptAll, verifier: v, maxTxBytes: 4096 });
    m.noteVerified([inProposal.hash]);
    const res = await m.add([inProposal.bytes, fresh.bytes]);
    expect(res.map((r) => (r.ok ? "OK" : r.code))).toEqual(["OK", "OK"]);
    // Only the fresh one's signature was checked.
    expect(v.counted.n).toBe(1);
    // A forged envelope is not the proposal's transaction: its hash differs, so it is checked, and refused.
    const forged = encode([fresh.body, new Uint8Array(64).fill(7)]);
    const m2 = new Mempool({ admission: acceptAll, verifier: v, maxTxBytes: 4096 });
    m2.noteVerified([inProposal.hash]);
    expect((await m2.add([forged]))[0]).toMatchObject({ ok: false, code: "BAD_SIGNATURE" });
  });

  it("accepts valid transactions and reports each refusal with its code", async () => {
    const m = pool(chainCheck);
    const good = tx();
    const badSig = tx();
    const forged = encode([badSig.body, new Uint8Array(64).fill(1)]);
    const wrongChain = tx({ chainId: "other" });
    const res = await m.add([good.bytes, forged, new Uint8Array([1, 2, 3]), wrongChain.bytes, new Uint8Array(5000)]);
    expect(res.map((r) => (r.ok ? "OK" : r.code))).toEqual([
      "OK",
      "BAD_SIGNATURE",
      "MALFORMED",
      "WRONG_CHAIN",
      "TX_TOO_LARGE",
    ]);
    expect(m.size).toBe(1);
    expect(m.rejection(wrongChain.hash)?.code).toBe("WRONG_CHAIN");
  });

  it("deduplicates by hash and by sender+nonce, within a batch and across concurrent batches", async () => {
    const m = pool();
    const a = tx();
    const sameNonce = tx({ nonce: a.tx.nonce, expiry: 101 });
    const [r1, r2] = await Promise.all([m.add([a.bytes, a.bytes]), m.add([sameNonce.bytes])]);
    const codes = [...r1, ...r2].map((r) => (r.ok ? "OK" : r.code));
    expect(codes.filter((c) => c === "OK")).toHaveLength(1);
    expect(codes.filter((c) => c === "DUPLICATE")).toHaveLength(2);
    expect(m.size).toBe(1);
  });

  it("applies backpressure: a full pool answers MEMPOOL_FULL and keeps what it accepted", async () => {
    const m = pool(acceptAll, { maxTxs: 3 });
    const txs = Array.from({ length: 5 }, () => tx());
    const res = await m.add(txs.map((t) => t.bytes));
    expect(res.map((r) => (r.ok ? "OK" : r.code))).toEqual(["OK", "OK", "OK", "MEMPOOL_FULL", "MEMPOOL_FULL"]);
    m.removeCommitted(m.reap(2, 1 << 20, 1));
    expect(m.size).toBe(1);
    const again = await m.add([(txs[3] as SignedTransaction).bytes]);
    expect(again[0]?.ok).toBe(true);
  });
});

describe("mempool admission gate", () => {
  it("asks the gate only about transactions that passed every check; a refusal frees the nonce and is not remembered", async () => {
    const m = pool(chainCheck);
    const seen: string[] = [];
    const refuseFirst = async (txs: readonly SignedTransaction[]) => {
      for (const t of txs) seen.push(t.tx.chainId);
      return txs.map((_, k) => (k === 0 ? { code: "PRIVATE_DISSEMINATION_FAILED", message: "no member node" } : null));
    };
    const a = tx();
    const b = tx();
    const wrongChain = tx({ chainId: "other" });
    const res = await m.add([a.bytes, wrongChain.bytes, b.bytes], { gate: refuseFirst });
    expect(res.map((r) => (r.ok ? "OK" : r.code))).toEqual(["PRIVATE_DISSEMINATION_FAILED", "WRONG_CHAIN", "OK"]);
    expect(seen).toEqual(["test", "test"]);
    expect(m.rejection(a.hash)).toBeUndefined();
    // Refused by the gate, the same transaction may be sent again.
    expect((await m.add([a.bytes]))[0]?.ok).toBe(true);
    expect(m.size).toBe(2);
  });
});

describe("mempool reaping", () => {
  it("reaps in arrival order within count and byte bounds, and drops expired transactions", async () => {
    const m = pool();
    const early = tx({ expiry: 5 });
    const rest = Array.from({ length: 4 }, () => tx({ expiry: 50 }));
    await m.add([early.bytes, ...rest.map((t) => t.bytes)]);
    const first = m.reap(2, 1 << 20, 10);
    expect(first.map((t) => t.hash)).toEqual([rest[0]?.hash, rest[1]?.hash]);
    expect(m.rejection(early.hash)?.code).toBe("EXPIRED");
    expect(m.size).toBe(4);
    const oneByBytes = m.reap(10, (rest[0] as SignedTransaction).bytes.length + 1, 10);
    expect(oneByBytes).toHaveLength(1);
    m.removeCommitted(first);
    expect(m.size).toBe(2);
    expect(m.dropExpired(51)).toBe(2);
    expect(m.size).toBe(0);
    expect(m.bytes).toBe(0);
  });

  it("notifies listeners when transactions arrive", async () => {
    const m = pool();
    let calls = 0;
    const off = m.onAdded(() => calls++);
    await m.add([tx().bytes]);
    off();
    await m.add([tx().bytes]);
    expect(calls).toBe(1);
  });
});

describe("mempool capacity under concurrent submissions", () => {
  it("never holds more than maxTxs, however many batches are admitted at once", async () => {
    const m = pool(acceptAll, { maxTxs: 100 });
    const batches = Array.from({ length: 4 }, () => Array.from({ length: 80 }, () => tx().bytes));
    const results = (await Promise.all(batches.map((b) => m.add(b)))).flat();
    expect(results.filter((r) => r.ok)).toHaveLength(100);
    expect(results.filter((r) => !r.ok && r.code === "MEMPOOL_FULL")).toHaveLength(220);
    expect(m.size).toBe(100);
  });
});

describe("mempool journal (durable acceptance)", () => {
  function journal(fail = false) {
    const appended: SignedTransaction[][] = [];
    const removed: string[] = [];
    return {
      appended,
      removed,
      append: async (txs: readonly SignedTransaction[]) => {
        if (fail) throw new Error("ENOSPC: no space left on device");
        appended.push([...txs]);
      },
      remove: (hashes: readonly Uint8Array[]) => {
        for (const h of hashes) removed.push(Buffer.from(h).toString("hex"));
      },
    };
  }
  const hex = (t: SignedTransaction) => Buffer.from(t.hash).toString("hex");

  it("writes each admitted batch once, before it counts as admitted, and forgets what commits or expires", async () => {
    const j = journal();
    const m = new Mempool({ admission: acceptAll, verifier, maxTxBytes: 4096, journal: j });
    const a = tx();
    const b = tx({ expiry: 5 });
    const forged = encode([tx().body, new Uint8Array(64).fill(1)]);
    const res = await m.add([a.bytes, b.bytes, forged]);
    expect(res.map((r) => r.ok)).toEqual([true, true, false]);
    expect(j.appended.map((batch) => batch.map(hex))).toEqual([[hex(a), hex(b)]]);
    m.removeCommitted([a]);
    m.dropExpired(6);
    expect(j.removed).toEqual([hex(a), hex(b)]);
  });

  it("refuses with NOT_READY (retryable) when the journal cannot be written, keeping nothing", async () => {
    const m = new Mempool({ admission: acceptAll, verifier, maxTxBytes: 4096, journal: journal(true) });
    const t = tx();
    const [r] = await m.add([t.bytes]);
    expect(r).toMatchObject({ ok: false, code: "NOT_READY" });
    expect(m.size).toBe(0);
    // Once storage works again, the same transaction is admitted (its nonce was released).
    const m2 = new Mempool({ admission: acceptAll, verifier, maxTxBytes: 4096, journal: journal() });
    expect((await m2.add([t.bytes]))[0]?.ok).toBe(true);
  });

  it("restores from the journal through admission, without writing it again; what no longer fits is forgotten", async () => {
    const j = journal();
    const committed = tx();
    const pending = tx();
    const admission: AdmissionChecker = {
      checkAdmission: async (txs) =>
        txs.map((t) => (hex(t) === hex(committed) ? { code: "ALREADY_COMMITTED", message: "replay" } : null)),
    };
    const m = new Mempool({ admission, verifier, maxTxBytes: 4096, journal: j });
    expect(await m.restore([committed.bytes, pending.bytes])).toBe(1);
    expect(m.has(pending.hash)).toBe(true);
    expect(j.appended).toEqual([]);
    expect(j.removed).toEqual([hex(committed)]);
    expect(m.rejection(committed.hash)?.code).toBe("ALREADY_COMMITTED");
    expect(m.pending().map(hex)).toEqual([hex(pending)]);
  });
});

describe("mempool admission racing a commit", () => {
  it("does not admit a transaction that a block committed while its checks were awaited", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    // The ledger's check answers "not committed" (as it did before the block was written), late.
    const slow: AdmissionChecker = {
      checkAdmission: async (txs) => {
        await held;
        return txs.map(() => null);
      },
    };
    const removed: string[] = [];
    const j = {
      append: async () => {},
      remove: (hashes: readonly Uint8Array[]) => {
        for (const h of hashes) removed.push(Buffer.from(h).toString("hex"));
      },
    };
    const m = new Mempool({ admission: slow, verifier, maxTxBytes: 4096, journal: j });
    const committed = tx();
    const other = tx();
    const adding = m.add([committed.bytes, other.bytes]);
    await new Promise((r) => setTimeout(r, 10));
    m.removeCommitted([committed]);
    release();
    const res = await adding;
    expect(res.map((r) => (r.ok ? "OK" : r.code))).toEqual(["DUPLICATE", "OK"]);
    expect(m.reap(10, 1 << 20, 1).map((t) => t.hash)).toEqual([other.hash]);
    expect(removed).toEqual([Buffer.from(committed.hash).toString("hex")]);
    // The nonce is not held: nothing pending or in flight claims it.
    expect(m.has(committed.hash)).toBe(false);
  });
});
