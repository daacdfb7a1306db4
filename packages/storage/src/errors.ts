/** Typed error of the storage layer: `code` is stable and machine-readable. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
    this.code = code;
  }
}

export type StorageErrorCode =
  /** The database was closed (or never opened) when the operation ran. */
  | "STORAGE_CLOSED"
  /** LevelDB reported a failure (disk full, corruption, lock held by another process, ...). */
  | "STORAGE_IO"
  /** A column id outside 0..255. */
  | "STORAGE_BAD_COLUMN"
  /** A write batch was used after it had been written. */
  | "STORAGE_BATCH_USED";
