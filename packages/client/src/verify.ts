// Checks a light client can make without trusting the node it asked.
import { type MerkleProof, PUBLIC_KEY_LENGTH, toHex, verify, verifyMerkleProof } from "@cairn/crypto";
import { verifyStateProof } from "@cairn/ledger/state-proof";
import {
  BLOCK_VERSION,
  type BlockHeader,
  blockHash,
  type ConsensusKind,
  certificateQuorum,
  certificateSigningBytes,
} from "@cairn/messaging";
import { bytesOf } from "./bytes.ts";
import { CairnClientError } from "./errors.ts";
import type { BlockHeaderInfo, BlockInfo, InclusionProof, StateInfo, TxInfo, ValidatorInfo } from "./types.ts";

function proofOf(p: MerkleProof | InclusionProof): MerkleProof {
  return { index: p.index, size: p.size, path: p.path.map((h, i) => bytesOf(h, `proof.path[${i}]`)) };
}

/** True when `envelope` is item `proof.index` of the RFC 6962 tree with root `txRoot`. */
export function verifyTxInclusion(
  envelope: Uint8Array | string,
  proof: MerkleProof | InclusionProof,
  txRoot: Uint8Array | string,
): boolean {
  try {
    return verifyMerkleProof(bytesOf(envelope, "envelope"), proofOf(proof), bytesOf(txRoot, "txRoot"));
  } catch {
    return false;
  }
}

function headerOf(h: BlockHeaderInfo): BlockHeader {
  // The hash covers the version: a header of another format cannot be rebuilt as this one.
  if (h.version !== undefined && h.version !== BLOCK_VERSION) {
    throw new CairnClientError("BAD_VERSION", `block header version ${h.version} is not ${BLOCK_VERSION}`);
  }
  return {
    chainId: h.chainId,
    height: h.height,
    time: h.time,
    prevHash: bytesOf(h.prevHash, "prevHash"),
    txRoot: bytesOf(h.txRoot, "txRoot"),
    stateRoot: bytesOf(h.stateRoot, "stateRoot"),
    receiptRoot: bytesOf(h.receiptRoot, "receiptRoot"),
    lastCommitHash: bytesOf(h.lastCommitHash, "lastCommitHash"),
    validatorsHash: bytesOf(h.validatorsHash, "validatorsHash"),
    proposer: bytesOf(h.proposer, "proposer"),
    txCount: h.txCount,
  };
}

/** The block hash recomputed from the header fields (SHA-256 of the canonical header), hex. */
export function computeBlockHash(header: BlockHeaderInfo): string {
  return toHex(blockHash(headerOf(header)));
}

/**
 * True when a committed transaction is in `block`: the block's hash matches its header, the
 * transaction names that block, and its envelope's inclusion proof checks against the txRoot.
 */
export function verifyTxInBlock(info: TxInfo, block: BlockInfo): boolean {
  try {
    if (info.status !== "committed" || !info.tx || !info.proof) return false;
    if (computeBlockHash(block.header) !== block.hash || info.blockHash !== block.hash) return false;
    return verifyTxInclusion(info.tx.envelope, info.proof, block.header.txRoot);
  } catch {
    return false;
  }
}

/**
 * True when the block's commit certificate carries valid precommit signatures over its hash from
 * validators holding more than two thirds of the set's voting power (a Raft chain, `consensus`
 * "raft": acknowledgements from more than half). The validator set and the engine must come from a
 * source the caller trusts (the genesis, or a previously verified change), not from the block.
 */
export function verifyBlockCommit(
  block: BlockInfo,
  validators: readonly ValidatorInfo[],
  consensus: ConsensusKind = "tendermint",
): boolean {
  const c = block.commit;
  try {
    if (!c || c.height !== block.height || c.blockHash !== block.hash) return false;
    if (computeBlockHash(block.header) !== block.hash) return false;
    const power = new Map<string, number>();
    let total = 0;
    for (const v of validators) {
      power.set(v.publicKey.toLowerCase(), v.power);
      total += v.power;
    }
    const signed = certificateSigningBytes(consensus, {
      chainId: block.header.chainId,
      height: c.height,
      round: c.round,
      blockHash: bytesOf(c.blockHash, "blockHash"),
    });
    const seen = new Set<string>();
    let votes = 0;
    for (const s of c.signatures) {
      const who = s.validator.toLowerCase();
      const p = power.get(who);
      if (p === undefined || seen.has(who)) continue;
      if (!verify(bytesOf(s.signature, "signature"), signed, bytesOf(s.validator, "validator", PUBLIC_KEY_LENGTH))) {
        continue;
      }
      seen.add(who);
      votes += p;
    }
    return total > 0 && votes >= certificateQuorum(consensus, total);
  } catch {
    return false;
  }
}

/**
 * True when a state read's proof shows its value (or its absence) under its `stateRoot`. Check that
 * root against a block you trust (verifyBlockCommit) to trust the value without trusting the node.
 */
export function verifyStateInfo(info: StateInfo): boolean {
  try {
    const proof = {
      siblings: info.proof.siblings.map((h, i) => bytesOf(h, `proof.siblings[${i}]`)),
      leaf:
        info.proof.leaf === null
          ? null
          : {
              keyHash: bytesOf(info.proof.leaf.keyHash, "leaf.keyHash"),
              valueHash: bytesOf(info.proof.leaf.valueHash, "leaf.valueHash"),
            },
    };
    return verifyStateProof(
      bytesOf(info.stateRoot, "stateRoot"),
      info.contract,
      bytesOf(info.key, "key"),
      info.value === null ? undefined : bytesOf(info.value, "value"),
      proof,
    );
  } catch {
    return false;
  }
}
