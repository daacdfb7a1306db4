import type { PrivateRef, Value } from "@cairn/messaging";

/** The contract's own namespace of the world state. Keys and values are bytes. */
export interface ContractStorage {
  get(key: Uint8Array): Promise<Uint8Array | undefined> | Uint8Array | undefined;
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/** What a contract sees while it executes one transaction. */
export interface CallContext {
  readonly sender: Uint8Array;
  readonly height: number;
  /** Block time (ms): the proposer's, identical on every node. */
  readonly time: number;
  readonly storage: ContractStorage;
  /** Privilege check against the chain's admin keys (genesis, later governance). */
  isAdmin(key: Uint8Array): boolean;
  /** Whether `key` holds a role (admin, client, deployer, auditor, validator): see @cairn/management. */
  hasRole(key: Uint8Array, role: string): boolean;
  emit(name: string, data: Value): void;
  /** The private writes the transaction names, by their hashes (docs/privacy.md); empty for most. */
  readonly private: readonly PrivateRef[];
  /**
   * Whether `key` is an active identity of a member organisation of `collection`; undefined when
   * there is no such collection.
   */
  collectionMember(collection: string, key: Uint8Array): boolean | undefined;
  /** Adds gas for work beyond the method's base cost (e.g. bytes written). */
  chargeGas(amount: number): void;
}

export interface ContractMethod {
  /** Base gas charged for a call, before storage costs. */
  readonly gas: number;
  /** Stateless argument check, run at mempool admission and again at execution. Throws BAD_ARGS. */
  check(args: readonly Value[]): void;
  execute(ctx: CallContext, args: readonly Value[]): Promise<void> | void;
}

/** A contract whose methods are executed by the node itself (deterministic TypeScript). */
export interface Contract {
  readonly name: string;
  readonly methods: Readonly<Record<string, ContractMethod>>;
}
