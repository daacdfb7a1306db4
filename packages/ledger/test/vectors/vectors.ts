// The ledger's part of docs/spec/test-vectors.json: a genesis file with its hash, and a state
// proof of inclusion and one of absence against a real world state. `npm run vectors -w
// @cairn/messaging` writes the file (messaging's part, then this one); the ledger's vector test
// checks the committed file against what this code produces.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNativeRegistry } from "@cairn/contracts";
import { fromHex, keyPairFromSecret, toHex, utf8 } from "@cairn/crypto";
import { type Commit, signTransaction } from "@cairn/messaging";
import { openDatabase } from "@cairn/storage";
import { createLedger, encodeStateProof, genesisHash, genesisToJson, parseGenesis } from "../../src/index.ts";

/** RFC 8032 test key 1, as in messaging's vectors. */
const SECRET_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

export async function buildLedgerVectors() {
  const key = keyPairFromSecret(fromHex(SECRET_KEY));
  const genesis = parseGenesis({
    chainId: "cairn-test",
    genesisTime: 1767225600000,
    validators: [{ name: "node0", publicKey: toHex(key.publicKey), power: 1 }],
    admins: [toHex(key.publicKey)],
    accounts: [{ publicKey: toHex(key.publicKey), balance: "1000000" }],
    members: [{ name: "node0", peerId: "12D3KooWGRUVh8dwKZqoNXJKVDhRzvpi3sPPzC8UnqM4odH9PXhK", org: "org0" }],
    organizations: [{ name: "org0", members: [{ publicKey: toHex(key.publicKey), roles: ["admin", "client"] }] }],
    readAccess: "members",
    params: { maxBlockTxs: 2000 },
  });
  const dir = mkdtempSync(join(tmpdir(), "cairn-vectors-"));
  const db = await openDatabase(dir);
  try {
    const ledger = await createLedger({ db, genesis, contracts: createNativeRegistry(), sync: false });
    const put = (k: string, v: string, nonce: number) =>
      signTransaction(
        {
          chainId: genesis.chainId,
          sender: key.publicKey,
          nonce: fromHex(nonce.toString(16).padStart(32, "0")),
          expiry: 1000,
          contract: "kv",
          method: "put",
          args: [utf8.encode(k), utf8.encode(v)],
        },
        key.secretKey,
      );
    const executed = await ledger.execute({
      time: genesis.genesisTime + 1000,
      proposer: key.publicKey,
      txs: [put("greeting", "hello, ledger", 1), put("colour", "blue", 2)],
      lastCommit: null,
    });
    const commit: Commit = { height: 1, round: 0, blockHash: executed.hash, signatures: [] };
    await ledger.commit(executed, commit);
    const proofOf = async (k: string) => {
      const p = await ledger.state.prove("kv", utf8.encode(k));
      return {
        contract: "kv",
        key: toHex(utf8.encode(k)),
        value:
          (await ledger.state.get("kv", utf8.encode(k))) === undefined
            ? null
            : toHex((await ledger.state.get("kv", utf8.encode(k))) as Uint8Array),
        siblings: p.siblings.map(toHex),
        leaf: p.leaf === null ? null : { keyHash: toHex(p.leaf.keyHash), valueHash: toHex(p.leaf.valueHash) },
        encoding: toHex(encodeStateProof(p)),
      };
    };
    return {
      genesis: { file: genesisToJson(genesis), hash: toHex(genesisHash(genesis)) },
      stateProof: {
        description: "the kv state after block 1 (two puts); an inclusion proof and a proof of absence",
        stateRoot: toHex(ledger.head().stateRoot),
        inclusion: await proofOf("greeting"),
        absence: await proofOf("missing"),
      },
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
