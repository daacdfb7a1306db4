// docs/spec/test-vectors.json against the real ledger: the genesis hash and the state proofs are
// what this code produces and verify; the receipt vector is what the node's token contract
// actually returns for the vector's transfer (its event and the gas it charges).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNativeRegistry } from "@cairn/contracts";
import { fromHex, toHex } from "@cairn/crypto";
import { decodeTransaction } from "@cairn/messaging";
import { openDatabase } from "@cairn/storage";
import { describe, expect, it } from "vitest";
import { createLedger, decodeStateProof, genesisHash, parseGenesis, verifyStateProof } from "../../src/index.ts";
import { buildLedgerVectors } from "../vectors/vectors.ts";

const file = JSON.parse(readFileSync(new URL("../../../../docs/spec/test-vectors.json", import.meta.url), "utf8"));

describe("docs/spec/test-vectors.json (the ledger's part)", () => {
  it("is exactly what the code produces", async () => {
    const built = JSON.parse(JSON.stringify(await buildLedgerVectors()));
    expect(built.genesis).toEqual(file.genesis);
    expect(built.stateProof).toEqual(file.stateProof);
  });

  it("the genesis hash is the hash of the genesis file, and the proofs verify against the state root", () => {
    expect(toHex(genesisHash(parseGenesis(file.genesis.file)))).toBe(file.genesis.hash);
    const root = fromHex(file.stateProof.stateRoot);
    for (const p of [file.stateProof.inclusion, file.stateProof.absence]) {
      const proof = decodeStateProof(fromHex(p.encoding));
      expect(proof.siblings.map(toHex)).toEqual(p.siblings);
      const value = p.value === null ? undefined : fromHex(p.value);
      expect(verifyStateProof(root, p.contract, fromHex(p.key), value, proof), p.key).toBe(true);
    }
    expect(file.stateProof.absence.value).toBeNull();
  });

  it("the receipt vector is what the token contract returns for the vector's transfer", async () => {
    const stx = decodeTransaction(fromHex(file.transactions[0].envelope));
    const genesis = parseGenesis({
      chainId: stx.tx.chainId,
      genesisTime: 1767225600000,
      validators: [{ name: "node0", publicKey: file.key.publicKey, power: 1 }],
      admins: [file.key.publicKey],
      accounts: [{ publicKey: file.key.publicKey, balance: "1000" }],
    });
    const dir = mkdtempSync(join(tmpdir(), "cairn-vector-receipt-"));
    const db = await openDatabase(dir);
    try {
      const ledger = await createLedger({ db, genesis, contracts: createNativeRegistry(), sync: false });
      const executed = await ledger.execute({
        time: genesis.genesisTime + 1,
        proposer: fromHex(file.key.publicKey),
        txs: [stx],
        lastCommit: null,
      });
      const r = executed.receipts[0]!;
      const want = file.receipt.fields;
      expect(toHex(r.txHash)).toBe(want.txHash);
      expect(r.code).toBe(want.code);
      expect(r.gasUsed).toBe(want.gasUsed);
      expect(r.events.map((e) => [e.contract, e.name])).toEqual(
        want.events.map((e: { contract: string; name: string }) => [e.contract, e.name]),
      );
      expect(toHex(executed.encodedReceipts[0]!)).toBe(file.receipt.encoding);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
