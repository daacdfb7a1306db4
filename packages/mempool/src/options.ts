export interface MempoolOptions {
  /** Most transactions held; past it, submissions get MEMPOOL_FULL ("busy, retry"). */
  readonly maxTxs: number;
  /** Most envelope bytes held. */
  readonly maxBytes: number;
  /** How many recent rejections are remembered for status lookups. */
  readonly rejectedCacheSize: number;
}

export const defaultMempoolOptions: MempoolOptions = {
  maxTxs: 100_000,
  maxBytes: 128 * 1024 * 1024,
  rejectedCacheSize: 50_000,
};
