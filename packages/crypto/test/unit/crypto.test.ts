import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  fromHex,
  generateKeyPair,
  keyPairFromSecret,
  MerkleTree,
  merkleProof,
  merkleRoot,
  sha256,
  sign,
  toHex,
  utf8,
  verify,
  verifyMerkleProof,
} from "../../src/index.ts";
import { createNativeSigner, nativeSign, nativeVerify, VerifyPool } from "../../src/native/index.ts";

describe("sha256", () => {
  it("matches the FIPS 180-2 test vector", () => {
    expect(toHex(sha256(utf8.encode("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("ed25519", () => {
  // RFC 8032 section 7.1, test 1.
  const secret = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const publicHex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const sigHex =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

  it("derives the RFC 8032 public key and signature with noble and with OpenSSL", () => {
    const kp = keyPairFromSecret(secret);
    expect(toHex(kp.publicKey)).toBe(publicHex);
    expect(toHex(sign(new Uint8Array(0), secret))).toBe(sigHex);
    expect(toHex(nativeSign(new Uint8Array(0), secret))).toBe(sigHex);
  });

  it("each side verifies what the other signed, byte for byte", () => {
    for (let i = 0; i < 20; i++) {
      const kp = generateKeyPair();
      const msg = sha256(new Uint8Array([i, 1, 2, 3]));
      const nobleSig = sign(msg, kp.secretKey);
      const nativeSig = createNativeSigner(kp.secretKey, kp.publicKey).sign(msg);
      expect(toHex(nativeSig)).toBe(toHex(nobleSig));
      expect(nativeVerify(nobleSig, msg, kp.publicKey)).toBe(true);
      expect(verify(nativeSig, msg, kp.publicKey)).toBe(true);
    }
  });

  it("both sides reject a tampered message, a tampered signature and a wrong key", () => {
    const kp = generateKeyPair();
    const other = generateKeyPair();
    const msg = utf8.encode("transfer 10");
    const sig = sign(msg, kp.secretKey);
    const badSig = sig.slice();
    badSig[5] = (badSig[5] as number) ^ 1;
    for (const check of [verify, nativeVerify]) {
      expect(check(sig, utf8.encode("transfer 11"), kp.publicKey)).toBe(false);
      expect(check(badSig, msg, kp.publicKey)).toBe(false);
      expect(check(sig, msg, other.publicKey)).toBe(false);
      expect(check(sig.subarray(0, 63), msg, kp.publicKey)).toBe(false);
    }
  });

  it("both sides reject a signature whose S is not reduced (malleability)", () => {
    const kp = generateKeyPair();
    const msg = utf8.encode("m");
    const sig = sign(msg, kp.secretKey);
    // Add the group order L to S: the same point equation holds, but RFC 8032 requires S < L.
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] as number);
    s += L;
    const mall = sig.slice();
    for (let i = 32; i < 64; i++) {
      mall[i] = Number(s & 0xffn);
      s >>= 8n;
    }
    expect(verify(mall, msg, kp.publicKey)).toBe(false);
    expect(nativeVerify(mall, msg, kp.publicKey)).toBe(false);
  });
});

describe("VerifyPool", () => {
  it("verifies a large batch across workers and reports exactly the bad items", async () => {
    const pool = new VerifyPool({ workers: 2, inlineBelow: 4 });
    try {
      const items = Array.from({ length: 101 }, (_, i) => {
        const kp = generateKeyPair();
        const message = utf8.encode(`tx ${i}`);
        const signature = nativeSign(message, kp.secretKey);
        if (i % 10 === 3) signature[0] = (signature[0] as number) ^ 0xff;
        return { publicKey: kp.publicKey, message, signature };
      });
      const results = await pool.verifyBatch(items);
      expect(results).toHaveLength(101);
      expect(results).toEqual(items.map((_, i) => i % 10 !== 3));
    } finally {
      await pool.close();
    }
  });
});

describe("VerifyPool scheduling", () => {
  const signed = (n: number, bad: (i: number) => boolean) => {
    const kp = generateKeyPair();
    return Array.from({ length: n }, (_, i) => {
      const message = utf8.encode(`item ${i}`);
      const signature = nativeSign(message, kp.secretKey);
      if (bad(i)) signature[5] = (signature[5] as number) ^ 0x01;
      return { publicKey: kp.publicKey, message, signature };
    });
  };

  it("verifies an urgent batch ahead of a queued backlog, each result in place", async () => {
    const pool = new VerifyPool({ workers: 1, inlineBelow: 1, chunk: 4 });
    try {
      const backlog = signed(200, (i) => i % 7 === 0);
      const urgent = signed(8, (i) => i === 6);
      const finished: string[] = [];
      const slow = pool.verifyBatch(backlog).then((r) => {
        finished.push("backlog");
        return r;
      });
      // 50 jobs of 4, all handed to the one worker, which runs them one at a time.
      expect(pool.pending).toBe(200);
      const fast = pool.verifyBatch(urgent, { urgent: true }).then((r) => {
        finished.push("urgent");
        return r;
      });
      expect(pool.pending).toBe(208);
      const [a, b] = await Promise.all([slow, fast]);
      expect(finished).toEqual(["urgent", "backlog"]);
      expect(a).toEqual(backlog.map((_, i) => i % 7 !== 0));
      expect(b).toEqual(urgent.map((_, i) => i !== 6));
      expect(pool.pending).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it("fails the batches still waiting when it closes", async () => {
    const pool = new VerifyPool({ workers: 1, inlineBelow: 1, chunk: 2 });
    const refused = expect(pool.verifyBatch(signed(40, () => false))).rejects.toThrow(/closed/);
    await pool.close();
    await refused;
  });

  it("refuses a chunk below 1, and a nice value outside 0 to 19", () => {
    expect(() => new VerifyPool({ workers: 0, chunk: 0 })).toThrow(/at least 1/);
    expect(() => new VerifyPool({ workers: 0, nice: 20 })).toThrow(/0 to 19/);
    expect(() => new VerifyPool({ workers: 0, nice: -1 })).toThrow(/0 to 19/);
  });

  // The nice value of each of this process's threads (field 19 of /proc/self/task/TID/stat).
  const niceByThread = (): Map<number, number> =>
    new Map(
      readdirSync("/proc/self/task").map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        // After "pid (comm) ": state is field 3, nice field 19.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return [Number(tid), Number(fields[16])];
      }),
    );

  it.runIf(process.platform === "linux")(
    "runs its workers at nice 5 by default, and leaves the calling thread's priority alone",
    async () => {
      const before = niceByThread();
      const pool = new VerifyPool({ workers: 2, inlineBelow: 1 });
      const plain = new VerifyPool({ workers: 1, inlineBelow: 1, nice: 0 });
      try {
        // Once a batch is answered, each worker has set its priority (the first thing it does).
        const items = signed(8, () => false);
        expect(await pool.verifyBatch(items)).toEqual(items.map(() => true));
        expect(await plain.verifyBatch(items)).toEqual(items.map(() => true));
        const after = niceByThread();
        const added = [...after].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
        // Two workers at 5, one at 0 (Node may add helper threads of its own, at 0).
        expect(added.filter((n) => n === 5)).toHaveLength(2);
        expect(added.filter((n) => n !== 5 && n !== 0)).toEqual([]);
        expect(after.get(process.pid)).toBe(before.get(process.pid));
        for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid)).toBe(nice);
      } finally {
        await pool.close();
        await plain.close();
      }
    },
  );
});

describe("VerifyPool resilience", () => {
  it("replaces a worker that dies, so later batches still verify", async () => {
    const pool = new VerifyPool({ workers: 2, inlineBelow: 1 });
    try {
      const kp = generateKeyPair();
      const items = Array.from({ length: 8 }, (_, i) => {
        const message = utf8.encode(`m${i}`);
        return { publicKey: kp.publicKey, message, signature: nativeSign(message, kp.secretKey) };
      });
      expect(await pool.verifyBatch(items)).toEqual(items.map(() => true));
      await pool.workersForTesting()[0]?.terminate();
      const deadline = Date.now() + 5000;
      let result: boolean[] | undefined;
      while (result === undefined && Date.now() < deadline) {
        result = await pool.verifyBatch(items).catch(() => undefined);
      }
      expect(result).toEqual(items.map(() => true));
    } finally {
      await pool.close();
    }
  });
});

describe("merkle (RFC 6962)", () => {
  const items = Array.from({ length: 13 }, (_, i) => new Uint8Array([i]));

  it("hashes the empty tree and a one-leaf tree as RFC 6962 says", () => {
    expect(toHex(merkleRoot([]))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // MTH({d}) = SHA-256(0x00 || d)
    expect(toHex(merkleRoot([new Uint8Array(0)]))).toBe(toHex(sha256(new Uint8Array([0]))));
  });

  it("matches the certificate-transparency reference root for its 8 test leaves", () => {
    // Leaves and root from the RFC 6962 reference test data (certificate-transparency merkle_test).
    const leaves = [
      "",
      "00",
      "10",
      "2021",
      "3031",
      "40414243",
      "5051525354555657",
      "606162636465666768696a6b6c6d6e6f",
    ].map(fromHex);
    expect(toHex(merkleRoot(leaves))).toBe("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  });

  it("proves every leaf of trees of every size up to 13, and rejects wrong proofs", () => {
    for (let n = 1; n <= items.length; n++) {
      const leaves = items.slice(0, n);
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i);
        expect(verifyMerkleProof(leaves[i] as Uint8Array, proof, root)).toBe(true);
        expect(verifyMerkleProof(new Uint8Array([99]), proof, root)).toBe(false);
        if (n > 1)
          expect(verifyMerkleProof(leaves[i] as Uint8Array, { ...proof, index: (i + 1) % n }, root)).toBe(false);
      }
    }
  });

  it("answers every proof of one tree from a single pass, with the same root and paths", () => {
    const leaves = Array.from({ length: 37 }, (_, i) => new Uint8Array([i, i * 7]));
    const tree = new MerkleTree(leaves);
    expect(toHex(tree.root())).toBe(toHex(merkleRoot(leaves)));
    for (let i = 0; i < leaves.length; i++) {
      const proof = tree.proof(i);
      expect(proof.path.map(toHex)).toEqual(merkleProof(leaves, i).path.map(toHex));
      expect(verifyMerkleProof(leaves[i] as Uint8Array, proof, tree.root())).toBe(true);
    }
    expect(toHex(new MerkleTree([]).root())).toBe(toHex(merkleRoot([])));
    expect(() => tree.proof(37)).toThrow(/outside/);
  });
});
