// Host interface ABI v1 (docs/contracts.md): the only imports a contract may declare.

export const I32 = 0x7f;
export const I64 = 0x7e;

export interface HostSignature {
  readonly params: readonly number[];
  readonly results: readonly number[];
}

const sig = (params: number[], results: number[] = []): HostSignature => ({ params, results });

export const HOST_MODULE = "cairn";

export const HOST_FUNCTIONS: Readonly<Record<string, HostSignature>> = {
  input_len: sig([], [I32]),
  input_read: sig([I32]),
  buffer_read: sig([I32]),
  storage_get: sig([I32, I32], [I32]),
  storage_has: sig([I32, I32], [I32]),
  storage_set: sig([I32, I32, I32, I32]),
  storage_delete: sig([I32, I32]),
  storage_next: sig([I32, I32, I32, I32], [I32]),
  private_count: sig([], [I32]),
  private_ref: sig([I32], [I32]),
  private_put: sig([I32]),
  private_hash: sig([I32, I32, I32], [I32]),
  caller: sig([I32]),
  block_height: sig([], [I64]),
  block_time: sig([], [I64]),
  emit: sig([I32, I32, I32, I32]),
  ret: sig([I32, I32]),
  fail: sig([I32, I32, I32, I32]),
};

/** AssemblyScript's abort(message, fileName, line, column). */
export const ABORT_MODULE = "env";
export const ABORT_NAME = "abort";
export const ABORT_SIGNATURE: HostSignature = sig([I32, I32, I32, I32]);

export function expectedSignature(module: string, name: string): HostSignature | undefined {
  if (module === HOST_MODULE && Object.hasOwn(HOST_FUNCTIONS, name)) return HOST_FUNCTIONS[name];
  if (module === ABORT_MODULE && name === ABORT_NAME) return ABORT_SIGNATURE;
  return undefined;
}

/** Exports the instrumenter adds; contracts may not export anything under this prefix. */
export const RESERVED_EXPORT_PREFIX = "cairn_";
export const GAS_EXPORT = "cairn_gas";
export const STATUS_EXPORT = "cairn_status";
export const START_EXPORT = "cairn_start";
/** The engine's own exports of a module's mutable globals (`cairn_global_<index>`), never stored. */
export const GLOBAL_EXPORT_PREFIX = "cairn_global_";
export const MEMORY_EXPORT = "memory";

/** Values of the status global when the instrumentation traps. */
export const STATUS_OUT_OF_GAS = 1;
export const STATUS_STACK_OVERFLOW = 2;

const METHOD_NAME = /^[a-z][A-Za-z0-9_]*$/;

export function isMethodName(name: string): boolean {
  return METHOD_NAME.test(name) && !name.startsWith(RESERVED_EXPORT_PREFIX);
}
