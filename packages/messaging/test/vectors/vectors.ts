// The inputs of docs/spec/test-vectors.json. `npm run vectors -w @cairn/messaging` rewrites the
// file from them; the unit test checks the committed file against the code, so the spec's vectors
// can never drift from what Cairn actually produces.
import { fromHex, keyPairFromSecret, sha256, toHex } from "@cairn/crypto";
import {
  type BlockHeader,
  blockHash,
  encode,
  encodeCommit,
  encodeHeader,
  encodeReceipt,
  signTransaction,
  type Transaction,
  txSigningBytes,
  VoteType,
  voteSigningBytes,
} from "../../src/index.ts";

// RFC 8032 section 7.1 test key 1: public so anyone can reproduce the signatures.
export const SECRET_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

export function buildVectors() {
  const key = keyPairFromSecret(fromHex(SECRET_KEY));
  const tx: Transaction = {
    chainId: "cairn-test",
    sender: key.publicKey,
    nonce: fromHex("000102030405060708090a0b0c0d0e0f"),
    expiry: 1000,
    contract: "token",
    method: "transfer",
    args: [fromHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), 250],
  };
  const signed = signTransaction(tx, key.secretKey);
  const kvTx = signTransaction(
    {
      ...tx,
      nonce: fromHex("ffffffffffffffff"),
      expiry: 70000,
      contract: "kv",
      method: "put",
      args: [new TextEncoder().encode("greeting"), new TextEncoder().encode("hello, ledger")],
    },
    key.secretKey,
  );
  const header: BlockHeader = {
    chainId: "cairn-test",
    height: 1,
    time: 1767225600000,
    prevHash: sha256(new TextEncoder().encode("genesis")),
    txRoot: fromHex("a1".repeat(32)),
    stateRoot: fromHex("b2".repeat(32)),
    receiptRoot: fromHex("c3".repeat(32)),
    lastCommitHash: new Uint8Array(32),
    validatorsHash: fromHex("d4".repeat(32)),
    proposer: key.publicKey,
    txCount: 1,
  };
  const hash = blockHash(header);
  const vote = { chainId: "cairn-test", height: 1, round: 0, type: VoteType.precommit, blockHash: hash };
  const receipt = {
    txHash: signed.hash,
    code: "OK",
    message: "",
    events: [{ contract: "token", name: "transfer", data: [key.publicKey, tx.args[0] as Uint8Array, 250] }],
    gasUsed: 30,
  };
  return {
    description:
      "Cairn wire-format test vectors (docs/spec/). All binary values are lower-case hex. The key is RFC 8032 test key 1.",
    key: { secretKey: SECRET_KEY, publicKey: toHex(key.publicKey) },
    transactions: [signed, kvTx].map((s) => ({
      fields: {
        chainId: s.tx.chainId,
        sender: toHex(s.tx.sender),
        nonce: toHex(s.tx.nonce),
        expiry: s.tx.expiry,
        contract: s.tx.contract,
        method: s.tx.method,
        args: s.tx.args.map((a) => (a instanceof Uint8Array ? { bin: toHex(a) } : { int: String(a) })),
      },
      body: toHex(s.body),
      signingBytes: toHex(txSigningBytes(s.body)),
      signature: toHex(s.signature),
      envelope: toHex(s.bytes),
      hash: toHex(s.hash),
    })),
    blockHeader: {
      fields: {
        chainId: header.chainId,
        height: header.height,
        time: header.time,
        prevHash: toHex(header.prevHash),
        txRoot: toHex(header.txRoot),
        stateRoot: toHex(header.stateRoot),
        receiptRoot: toHex(header.receiptRoot),
        lastCommitHash: toHex(header.lastCommitHash),
        validatorsHash: toHex(header.validatorsHash),
        proposer: toHex(header.proposer),
        txCount: header.txCount,
      },
      encoding: toHex(encodeHeader(header)),
      hash: toHex(hash),
    },
    vote: {
      fields: {
        chainId: vote.chainId,
        height: vote.height,
        round: vote.round,
        type: vote.type,
        blockHash: toHex(hash),
      },
      signingBytes: toHex(voteSigningBytes(vote)),
    },
    commit: {
      encoding: toHex(
        encodeCommit({
          height: 1,
          round: 0,
          blockHash: hash,
          signatures: [{ validator: key.publicKey, signature: new Uint8Array(64).fill(0xee) }],
        }),
      ),
    },
    receipt: { encoding: toHex(encodeReceipt(receipt)) },
    values: [
      {
        value: '[1, -1, 300, "abc", bin(0x0102), true, null, 2^32]',
        encoding: toHex(encode([1, -1, 300, "abc", fromHex("0102"), true, null, 2 ** 32])),
      },
    ],
  };
}
