// The inputs of docs/spec/test-vectors.json. `npm run vectors -w @cairn/messaging` rewrites the
// file from them; the unit test checks the committed file against the code, so the spec's vectors
// can never drift from what Cairn actually produces.
import { fromHex, keyPairFromSecret, sha256, sign, toHex } from "@cairn/crypto";
import {
  type BlockHeader,
  blockHash,
  encode,
  encodeCommit,
  encodeHeader,
  encodeReceipt,
  type PrivateWrite,
  privateKeyHash,
  privateRef,
  privateValueHash,
  privateWriteToValue,
  readBodyHash,
  readSigningBytes,
  signTransaction,
  type Transaction,
  txSigningBytes,
  VoteType,
  voteSigningBytes,
} from "../../src/index.ts";

/** Gas the node's token contract charges for `transfer` (checked against a real execution in @cairn/ledger). */
export const TRANSFER_GAS = 40;

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
  const voteSignature = sign(voteSigningBytes(vote), key.secretKey);
  const commit = {
    height: 1,
    round: 0,
    blockHash: hash,
    signatures: [{ validator: key.publicKey, signature: voteSignature }],
  };
  // Exactly what a node's token contract answers for the first transaction (a ledger test checks
  // it against a real execution): its event, and the gas it charges.
  const receipt = {
    txHash: signed.hash,
    code: "OK",
    message: "",
    events: [{ contract: "token", name: "transfer", data: [key.publicKey, tx.args[0] as Uint8Array, 250] }],
    gasUsed: TRANSFER_GAS,
  };
  // A private write and the pkv.put transaction that names it (a version 2 body).
  const write: PrivateWrite = {
    collection: "ab",
    key: new TextEncoder().encode("price"),
    value: new TextEncoder().encode("1200 EUR"),
    salt: fromHex("11".repeat(32)),
  };
  const ref = privateRef(write);
  const privateTx = signTransaction(
    {
      ...tx,
      nonce: fromHex("0101010101010101"),
      contract: "pkv",
      method: "put",
      args: [],
      private: [ref],
    },
    key.secretKey,
  );
  const read = {
    chainId: "cairn-test",
    method: "GET",
    target: "/state/kv/6772656574696e67?encoding=hex",
    time: 1767225600000,
    bodyHash: readBodyHash(undefined),
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
      validator: toHex(key.publicKey),
      signature: toHex(voteSignature),
    },
    commit: {
      fields: {
        height: commit.height,
        round: commit.round,
        blockHash: toHex(hash),
        signatures: commit.signatures.map((c) => ({ validator: toHex(c.validator), signature: toHex(c.signature) })),
      },
      encoding: toHex(encodeCommit(commit)),
      hash: toHex(sha256(encodeCommit(commit))),
    },
    receipt: {
      fields: {
        txHash: toHex(receipt.txHash),
        code: receipt.code,
        message: receipt.message,
        events: receipt.events.map((e) => ({
          contract: e.contract,
          name: e.name,
          data: [{ bin: toHex(key.publicKey) }, { bin: toHex(tx.args[0] as Uint8Array) }, { int: "250" }],
        })),
        gasUsed: receipt.gasUsed,
      },
      encoding: toHex(encodeReceipt(receipt)),
    },
    signedRead: {
      fields: {
        chainId: read.chainId,
        method: read.method,
        target: read.target,
        time: read.time,
        bodyHash: toHex(read.bodyHash),
      },
      signingBytes: toHex(readSigningBytes(read)),
      headers: {
        "x-cairn-key": toHex(key.publicKey),
        "x-cairn-time": String(read.time),
        "x-cairn-signature": toHex(sign(readSigningBytes(read), key.secretKey)),
      },
    },
    privateTransaction: {
      write: {
        collection: write.collection,
        key: toHex(write.key),
        value: toHex(write.value),
        salt: toHex(write.salt),
      },
      keyHashInput: toHex(encode([write.collection, write.key])),
      keyHash: toHex(privateKeyHash(write.collection, write.key)),
      valueHashInput: toHex(encode([write.salt, write.value])),
      valueHash: toHex(privateValueHash(write.salt, write.value)),
      ref: { collection: ref.collection, keyHash: toHex(ref.keyHash), valueHash: toHex(ref.valueHash) },
      body: toHex(privateTx.body),
      signature: toHex(privateTx.signature),
      envelope: toHex(privateTx.bytes),
      hash: toHex(privateTx.hash),
      // What POST /txs/private takes as msgpack: [envelope, [[collection, key, value, salt], ...]].
      submission: toHex(encode([privateTx.bytes, [privateWriteToValue(write)]])),
    },
    values: [
      {
        value: '[1, -1, 300, "abc", bin(0x0102), true, null, 2^32]',
        encoding: toHex(encode([1, -1, 300, "abc", fromHex("0102"), true, null, 2 ** 32])),
      },
    ],
  };
}
