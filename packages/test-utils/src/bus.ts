// An in-memory network for BFT engines in one process: each validator's transport delivers its
// broadcasts to every other registered validator a millisecond later (never synchronously, as a
// real network would not), and a test can hand a message to one validator as if a peer sent it.
// Block sync goes over it too, as a node's goes over libp2p: a validator left behind fetches the
// blocks it missed from the others' ledgers.
import {
  type BlockSource,
  type ConsensusTransport,
  type ExecutedBlockView,
  type MessageVerdict,
  type SyncLedgerPort,
  serveBlocks,
} from "@cairn/consensus";
import type { VerifyPool } from "@cairn/crypto/native";
import { type SignedTransaction, txSignatureCheck } from "@cairn/messaging";

type Handler = (message: Uint8Array, from: string) => Promise<MessageVerdict>;

export class MessageBus {
  private readonly handlers = new Map<string, Handler>();
  /** Called with every message a validator sends (tests count retransmissions). */
  onSend: ((from: string, message: Uint8Array) => void) | undefined;
  /** What each validator answers a block request with (its ledger's blocks). */
  private readonly servers = new Map<string, (request: Uint8Array) => Promise<Uint8Array>>();

  /** Validator `id` answers block requests from `ledger` (replacing the ledger it served before). */
  serveBlocks<E extends ExecutedBlockView>(id: string, ledger: SyncLedgerPort<E>): void {
    this.servers.set(id, (request) => serveBlocks(ledger, request));
  }

  /** The block source of validator `id`: its requests are answered by the other validators' ledgers. */
  blockSource(id: string): BlockSource {
    return {
      peers: () => [...this.servers.keys()].filter((p) => p !== id),
      request: async (peer, request) => {
        const serve = this.servers.get(peer);
        if (serve === undefined) throw new Error(`${peer} serves no blocks`);
        return serve(request);
      },
    };
  }

  /** The transport of validator `id`: what it broadcasts reaches every other validator on the bus. */
  transport(id: string): ConsensusTransport {
    return {
      broadcast: (message) => {
        this.onSend?.(id, message);
        for (const [to, h] of this.handlers) if (to !== id) setTimeout(() => void h(message, id), 1);
      },
      onMessage: (handler) => {
        this.handlers.set(id, handler);
        return () => this.handlers.delete(id);
      },
    };
  }

  /** Hands `message` to validator `id` as if `from` sent it; "ignore" when its engine is not running. */
  deliver(id: string, message: Uint8Array, from: string): Promise<MessageVerdict> {
    const h = this.handlers.get(id);
    return h === undefined ? Promise.resolve("ignore") : h(message, from);
  }
}

/** An engine's `verifyTxs` over a verify pool: every transaction's signature, in one urgent batch (as a node's). */
export function verifyTxsWith(pool: VerifyPool): (txs: readonly SignedTransaction[]) => Promise<boolean> {
  return async (txs) => (await pool.verifyBatch(txs.map(txSignatureCheck), { urgent: true })).every(Boolean);
}
