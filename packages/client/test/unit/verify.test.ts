import { toHex } from "@cairn/crypto";
import { describe, expect, it } from "vitest";
import {
  computeBlockHash,
  generateKey,
  kv,
  verifyBlockCommit,
  verifyTxInBlock,
  verifyTxInclusion,
} from "../../src/index.ts";
import { start } from "./helpers.ts";

describe("proof verification", () => {
  it("verifies a committed transaction against its block and the block's commit", async () => {
    const { client, backend } = await start();
    const signer = client.signer(generateKey());
    const txs = [];
    for (let i = 0; i < 5; i++) txs.push(await signer.sign(kv.put(`k${i}`, "v")));
    await client.submit(txs);
    await backend.produceBlock();

    const info = await client.getTx(txs[3]!.hash);
    const block = await client.getBlock(info.height!);
    expect(computeBlockHash(block.header)).toBe(block.hash);
    expect(verifyTxInclusion(info.tx!.envelope, info.proof!, block.header.txRoot)).toBe(true);
    expect(verifyTxInclusion(txs[3]!.bytes, info.proof!, block.header.txRoot)).toBe(true);
    expect(verifyTxInclusion(txs[2]!.bytes, info.proof!, block.header.txRoot)).toBe(false);
    expect(verifyTxInclusion(info.tx!.envelope, { ...info.proof!, index: 2 }, block.header.txRoot)).toBe(false);
    expect(verifyTxInclusion(info.tx!.envelope, info.proof!, "00".repeat(32))).toBe(false);
    expect(verifyTxInclusion("zz", info.proof!, block.header.txRoot)).toBe(false);
    expect(verifyTxInBlock(info, block)).toBe(true);
    expect(verifyTxInBlock(info, { ...block, header: { ...block.header, time: block.header.time + 1 } })).toBe(false);

    const { validators } = await client.status();
    expect(verifyBlockCommit(block, validators)).toBe(true);
    expect(verifyBlockCommit(block, [{ publicKey: toHex(generateKey().publicKey), power: 1, name: "x" }])).toBe(false);
    const forged = {
      ...block,
      commit: { ...block.commit!, signatures: [{ ...block.commit!.signatures[0]!, signature: "00".repeat(64) }] },
    };
    expect(verifyBlockCommit(forged, validators)).toBe(false);
    expect(verifyBlockCommit({ ...block, commit: null }, validators)).toBe(false);
  });
});
