import { DEFAULT_MAX_BLOCK_BYTES, DEFAULT_MAX_BLOCK_TXS } from "@cairn/messaging";

export interface SoloOptions {
  /**
   * How long the first pending transaction may wait for others to join its block (ms). A block is
   * cut earlier when it is full. No block is made while the mempool is empty.
   */
  readonly blockInterval: number;
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
}

export const defaultSoloOptions: SoloOptions = {
  blockInterval: 50,
  // A node passes its chain's params; these are the chain defaults, for an engine used alone.
  maxBlockTxs: DEFAULT_MAX_BLOCK_TXS,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
};
