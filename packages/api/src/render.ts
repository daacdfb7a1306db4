// JSON views of the node's objects. Hashes, keys and signatures are lower-case hex without a
// prefix; the same objects go out as msgpack when a client asks for it.
import { type MerkleProof, sha256, toHex, utf8 } from "@cairn/crypto";
import {
  BLOCK_VERSION,
  type BlockEventJson,
  type BlockHeader,
  type BlockJson,
  type Commit,
  type CommitJson,
  type ContractJson,
  decode,
  type EvidenceJson,
  type HeaderJson,
  type JsonValue,
  type ProofJson,
  type QueryResultJson,
  type Receipt,
  type ReceiptJson,
  type SignedTransaction,
  type StateJson,
  type StateProofJson,
  type StatusJson,
  type TxJson,
  type Value,
} from "@cairn/messaging";
import type {
  BlockView,
  CommittedBlockEvent,
  ContractView,
  EvidenceView,
  NodeStatus,
  QueryResult,
  StateProofView,
  StateView,
} from "./backend.ts";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function valueToJson(v: Value): JsonValue {
  if (v instanceof Uint8Array) return `0x${toHex(v)}`;
  // Same rule as the canonical decoder: a number when exact, a string beyond 2^53.
  if (typeof v === "bigint") return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(valueToJson);
  return v as JsonValue;
}

export function txToJson(s: SignedTransaction): TxJson {
  const { tx } = s;
  return {
    chainId: tx.chainId,
    sender: toHex(tx.sender),
    nonce: toHex(tx.nonce),
    expiry: tx.expiry,
    contract: tx.contract,
    method: tx.method,
    args: tx.args.map(valueToJson),
    ...(tx.private === undefined
      ? {}
      : {
          private: tx.private.map((r) => ({
            collection: r.collection,
            keyHash: toHex(r.keyHash),
            valueHash: toHex(r.valueHash),
          })),
        }),
    signature: toHex(s.signature),
    envelope: toHex(s.bytes),
  };
}

export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    txHash: toHex(r.txHash),
    code: r.code,
    message: r.message,
    events: r.events.map((e) => ({ contract: e.contract, name: e.name, data: valueToJson(e.data) })),
    gasUsed: r.gasUsed,
  };
}

export function proofToJson(p: MerkleProof): ProofJson {
  return { index: p.index, size: p.size, path: p.path.map(toHex) };
}

export function headerToJson(h: BlockHeader): HeaderJson {
  return {
    version: BLOCK_VERSION,
    chainId: h.chainId,
    height: h.height,
    time: h.time,
    prevHash: toHex(h.prevHash),
    txRoot: toHex(h.txRoot),
    stateRoot: toHex(h.stateRoot),
    receiptRoot: toHex(h.receiptRoot),
    lastCommitHash: toHex(h.lastCommitHash),
    validatorsHash: toHex(h.validatorsHash),
    proposer: toHex(h.proposer),
    txCount: h.txCount,
  };
}

export function commitToJson(c: Commit | null): CommitJson | null {
  if (c === null) return null;
  return {
    height: c.height,
    round: c.round,
    blockHash: toHex(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: toHex(s.validator), signature: toHex(s.signature) })),
  };
}

/** Gas per block (FG DLT incentive accounting): the sum of its receipts'. */
function blockGas(v: BlockView): number {
  let gas = 0;
  for (const r of v.receipts) gas += r.gasUsed;
  return gas;
}

export function blockToJson(v: BlockView, withEnvelopes: boolean): BlockJson {
  const { header, txs, lastCommit } = v.block;
  return {
    height: header.height,
    hash: toHex(v.hash),
    header: headerToJson(header),
    txs: txs.map((t) => toHex(sha256(t))),
    ...(withEnvelopes ? { envelopes: txs.map(toHex) } : {}),
    receipts: v.receipts.map(receiptToJson),
    gasUsed: blockGas(v),
    commit: commitToJson(v.commit),
    lastCommit: commitToJson(lastCommit),
  };
}

function stateProofToJson(p: StateProofView): StateProofJson {
  const siblings = p.siblings.map(toHex);
  if (!p.leaf) return { siblings, leaf: null };
  return { siblings, leaf: { keyHash: toHex(p.leaf.keyHash), valueHash: toHex(p.leaf.valueHash) } };
}

/** Text form of bytes if they are valid UTF-8, else undefined. */
export function tryUtf8(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

export function stateToJson(contract: string, key: Uint8Array, s: StateView): StateJson {
  const text = s.value === undefined ? undefined : tryUtf8(s.value);
  return {
    contract,
    key: toHex(key),
    value: s.value === undefined ? null : toHex(s.value),
    ...(text === undefined ? {} : { utf8: text }),
    height: s.height,
    stateRoot: toHex(s.stateRoot),
    proof: stateProofToJson(s.proof),
  };
}

export function statusToJson(s: NodeStatus): StatusJson {
  return {
    chainId: s.chainId,
    nodeId: s.nodeId,
    moniker: s.moniker,
    version: s.version,
    height: s.height,
    blockHash: toHex(s.blockHash),
    stateRoot: toHex(s.stateRoot),
    blockTime: s.blockTime,
    genesisHash: toHex(s.genesisHash),
    validators: s.validators.map((v) => ({ publicKey: toHex(v.publicKey), power: v.power, name: v.name })),
    mempool: { size: s.mempool.size, bytes: s.mempool.bytes, maxSize: s.mempool.maxSize },
    consensus: {
      engine: s.consensus.engine,
      height: s.consensus.height,
      round: s.consensus.round,
      step: s.consensus.step,
      ...(s.consensus.raft === undefined ? {} : { raft: { ...s.consensus.raft } }),
    },
    ...(s.clock === undefined ? {} : { clock: { offsetMs: s.clock.offsetMs } }),
    maxTxTtl: s.maxTxTtl,
    peers: [...s.peers],
    network: { peers: s.network.peers, members: s.network.members },
    sync: {
      catchingUp: s.sync.catchingUp,
      ...(s.sync.lastCaughtUpAt === undefined ? {} : { lastCaughtUpAt: s.sync.lastCaughtUpAt }),
    },
    role: s.role,
  };
}

export function blockEventToJson(e: CommittedBlockEvent): BlockEventJson {
  const { header } = e.view.block;
  return {
    height: header.height,
    hash: toHex(e.view.hash),
    time: header.time,
    txCount: header.txCount,
    stateRoot: toHex(header.stateRoot),
    gasUsed: blockGas(e.view),
    receipts: e.view.receipts.map((r) => ({ txHash: toHex(r.txHash), code: r.code, gasUsed: r.gasUsed })),
  };
}

export function evidenceToJson(e: EvidenceView): EvidenceJson {
  return {
    id: e.id,
    kind: e.kind,
    validator: toHex(e.validator),
    height: e.height,
    round: e.round,
    ...(e.type === undefined ? {} : { type: e.type }),
    ...(e.votes === undefined
      ? {}
      : { votes: e.votes.map((v) => ({ blockHash: toHex(v.blockHash), signature: toHex(v.signature) })) }),
    ...(e.proposals === undefined
      ? {}
      : {
          proposals: e.proposals.map((p) => ({
            polRound: p.polRound,
            blockHash: toHex(p.blockHash),
            signature: toHex(p.signature),
          })),
        }),
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    ...(e.block === undefined ? {} : { block: toHex(e.block) }),
  };
}

/** A contract's return value for reading: null when there is none or it is not a canonical value. */
function outputToJson(output: Uint8Array): JsonValue {
  if (output.length === 0) return null;
  try {
    return valueToJson(decode(output));
  } catch {
    return null;
  }
}

export function queryResultToJson(r: QueryResult): QueryResultJson {
  if (!r.ok) return { ok: false, code: r.code, message: r.message, gasUsed: r.gasUsed, height: r.height };
  return { ok: true, output: outputToJson(r.output), outputHex: toHex(r.output), gasUsed: r.gasUsed, height: r.height };
}

export function contractToJson(c: ContractView): ContractJson {
  return {
    name: c.name,
    kind: c.kind,
    methods: [...c.methods],
    ...(c.codeHash === undefined ? {} : { codeHash: toHex(c.codeHash) }),
    ...(c.version === undefined ? {} : { version: c.version }),
    ...(c.deployer === undefined ? {} : { deployer: toHex(c.deployer) }),
    ...(c.deployedAt === undefined ? {} : { deployedAt: c.deployedAt }),
    ...(c.updatedAt === undefined ? {} : { updatedAt: c.updatedAt }),
    ...(c.codeSize === undefined ? {} : { codeSize: c.codeSize }),
  };
}
