// Data synchronization: a node with an empty ledger fetches a running node's committed blocks over
// libp2p request/response, checks each certificate against the validator set, re-executes each
// block, and ends with the same head and state root. Tampered blocks and forged certificates stop it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applySyncedBlocks,
  BLOCK_SYNC_PROTOCOL,
  decodeBlocksResponse,
  encodeBlocksRequest,
  serveBlocks,
  syncFrom,
} from "@cairn/consensus";
import { createNativeRegistry } from "@cairn/contracts";
import { toHex } from "@cairn/crypto";
import { nativeVerify } from "@cairn/crypto/native";
import { createLedger, type Ledger } from "@cairn/ledger";
import { createLoggers } from "@cairn/management";
import { blockHash, signTransaction } from "@cairn/messaging";
import { createNetwork, loadOrCreatePeerKey, type Network, peerIdFromKeyFile } from "@cairn/network";
import { type CairnNode, initHome, startNode } from "@cairn/node";
import { type Database, openDatabase } from "@cairn/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const silent = createLoggers({ level: "silent", pretty: false });
const dirs: string[] = [];
let source: CairnNode;
let admin: { secretKey: Uint8Array; publicKey: Uint8Array };
const cleanup: (() => Promise<void>)[] = [];

function dir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `cairn-${prefix}-`));
  dirs.push(d);
  return d;
}

async function freshLedger(): Promise<{ ledger: Ledger; db: Database }> {
  const db = await openDatabase(join(dir("sync-target"), "data"));
  cleanup.push(() => db.close());
  return {
    ledger: await createLedger({ db, genesis: source.genesis, contracts: createNativeRegistry(), sync: false }),
    db,
  };
}

async function waitForHeight(node: CairnNode, h: number) {
  const deadline = Date.now() + 10_000;
  while (node.ledger.head().height < h) {
    if (Date.now() > deadline) throw new Error("source did not reach the height");
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const home = dir("sync-source");
  const init = await initHome({ home, apiPort: 0 });
  admin = init.admin;
  source = await startNode({ home, config: { verifyWorkers: 1 }, loggers: silent });
  cleanup.push(() => source.stop());
  // Five blocks of mixed transfers and puts, one of them failing (its receipt must match too).
  let n = 0;
  for (let b = 0; b < 5; b++) {
    const txs = Array.from({ length: 20 }, (_, i) => {
      const nonce = new Uint8Array(16);
      new DataView(nonce.buffer).setUint32(0, ++n);
      const enc = new TextEncoder();
      return signTransaction(
        {
          chainId: init.chainId,
          sender: admin.publicKey,
          nonce,
          expiry: 500,
          contract: i === 7 ? "token" : "kv",
          method: i === 7 ? "transfer" : "put",
          args:
            i === 7 ? [new Uint8Array(32).fill(b + 1), 10n ** 15n] : [enc.encode(`k${b}-${i}`), enc.encode(`v${i}`)],
        },
        admin.secretKey,
      );
    });
    await source.mempool.add(txs.map((t) => t.bytes));
    await waitForHeight(source, b + 1);
  }
}, 60_000);

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("block sync", () => {
  it("catches an empty node up over libp2p to the same head and state root", { timeout: 30_000 }, async () => {
    const keyA = join(dir("peer-a"), "peer.key");
    const keyB = join(dir("peer-b"), "peer.key");
    await Promise.all([loadOrCreatePeerKey(keyA), loadOrCreatePeerKey(keyB)]);
    const [idA, idB] = await Promise.all([peerIdFromKeyFile(keyA), peerIdFromKeyFile(keyB)].map((p) => p.then(String)));
    const members = [idA as string, idB as string];
    const chainId = source.genesis.chainId;
    const a: Network = await createNetwork({}, { chainId, keyFile: keyA, members });
    cleanup.push(() => a.stop());
    await a.handle(BLOCK_SYNC_PROTOCOL, (req) =>
      serveBlocks(source.ledger, req, { maxBlocks: 2, maxResponseBytes: 1 << 20 }),
    );
    const b: Network = await createNetwork(
      {},
      { chainId, keyFile: keyB, members, bootstrap: a.multiaddrs.map(String) },
    );
    cleanup.push(() => b.stop());
    const deadline = Date.now() + 10_000;
    while (!b.peers().includes(a.peerId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const { ledger } = await freshLedger();
    const applied = await syncFrom(ledger, (req) => b.request(a.peerId, BLOCK_SYNC_PROTOCOL, req), nativeVerify, 2);
    expect(applied).toBe(source.ledger.head().height);
    expect(toHex(ledger.head().hash)).toBe(toHex(source.ledger.head().hash));
    expect(toHex(ledger.head().stateRoot)).toBe(toHex(source.ledger.head().stateRoot));
    expect((await ledger.getReceipts(2))?.map((r) => r.code)).toEqual(
      (await source.ledger.getReceipts(2))?.map((r) => r.code),
    );
  });

  it("refuses a tampered block and a forged certificate, keeping what came before", async () => {
    const response = decodeBlocksResponse(await serveBlocks(source.ledger, encodeBlocksRequest(1, 3)));
    expect(response).toHaveLength(3);

    const { ledger } = await freshLedger();
    // Block 2 with a rewritten header: its certificate no longer matches.
    const second = response[1]!;
    const rewritten = {
      ...second,
      block: { ...second.block, header: { ...second.block.header, stateRoot: new Uint8Array(32).fill(9) } },
    };
    await expect(applySyncedBlocks(ledger, [response[0]!, rewritten], nativeVerify)).rejects.toMatchObject({
      code: "BAD_COMMIT",
    });
    expect(ledger.head().height).toBe(1);

    // A certificate signed by nobody in the validator set.
    const forged = { ...second, commit: { ...second.commit, signatures: [] } };
    await expect(applySyncedBlocks(ledger, [forged], nativeVerify)).rejects.toMatchObject({ code: "BAD_COMMIT" });

    // Right header and certificate, different contents: re-execution exposes it.
    const dropped = { ...second, block: { ...second.block, txs: second.block.txs.slice(1) } };
    await expect(applySyncedBlocks(ledger, [dropped], nativeVerify)).rejects.toMatchObject({ code: "BAD_SYNC_BLOCK" });
    const swapped = { ...second, block: { ...second.block, txs: [...second.block.txs].reverse() } };
    await expect(applySyncedBlocks(ledger, [swapped], nativeVerify)).rejects.toMatchObject({ code: "BAD_SYNC_BLOCK" });
    // The genuine block still applies afterwards.
    expect(ledger.head().height).toBe(1);
    expect(await applySyncedBlocks(ledger, [second], nativeVerify)).toBe(1);
    expect(toHex(ledger.head().hash)).toBe(toHex(blockHash(second.block.header)));
  });
});
