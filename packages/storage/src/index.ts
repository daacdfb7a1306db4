// Data persistence of a Cairn node (FG DLT: Data persistence): LevelDB on disk, with byte keys and
// values, column namespaces by a one-byte key prefix and atomic write batches.
export {
  type Column,
  type Database,
  type IterateOptions,
  type OpenOptions,
  openDatabase,
  type WriteBatch,
  type WriteOptions,
} from "./database.ts";
export { StorageError, type StorageErrorCode } from "./errors.ts";
