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
  maxBlockTxs: 10_000,
  maxBlockBytes: 8 * 1024 * 1024,
};
