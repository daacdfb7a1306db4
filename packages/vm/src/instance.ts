import { GAS_EXPORT, GLOBAL_EXPORT_PREFIX, MEMORY_EXPORT, STATUS_EXPORT } from "./abi.ts";
import { Writer } from "./binary.ts";
import type { HostContext } from "./host.ts";
import { encodeExports, KIND_GLOBAL, SECTION_DATA, SECTION_EXPORT, SECTION_TYPE, type WasmModule } from "./module.ts";

// One instance serves call after call (docs/contracts.md, "Instances"). A new WebAssembly.Instance
// per call cost about half of a token transfer: a linear memory mapped and unmapped, its data
// segments copied, the imports bound. An instance's state is its memory, its globals and its
// tables, and the module rules leave no instruction that changes a table (no reference types, no
// bulk memory), so putting memory and globals back as instantiation left them gives the next call
// exactly the state of a new instance: results and gas cannot depend on the calls before.

/** An instance and the handles the engine uses on every call. */
export interface Live {
  readonly ctx: HostContext;
  readonly exports: WebAssembly.Exports;
  readonly memory: WebAssembly.Memory;
  readonly gas: WebAssembly.Global;
  readonly status: WebAssembly.Global;
  readonly globals: readonly WebAssembly.Global[];
}

/**
 * Memories larger than this are not restored: copying them would cost more than the new instance
 * it saves (about 150-200 µs; a memory's fresh pages cost nothing until touched).
 */
export const MAX_RESTORED_MEMORY_BYTES = 1 << 20;

/** Memory and mutable globals as instantiation leaves them. */
export interface Pristine {
  readonly memory: Uint8Array;
  readonly globals: readonly unknown[];
}

/**
 * The stored module with every mutable global exported too (`cairn_global_<index>`), so the
 * engine can reset the ones a contract keeps to itself (AssemblyScript's heap pointer, the
 * instrumentation's stack counter). Deploy reserves the `cairn_` prefix, so no name collides.
 * Only what the engine compiles changes: the stored code and its hash do not.
 */
export function exportGlobals(m: WasmModule): { readonly code: Uint8Array; readonly globals: string[] } {
  const globals = m.mutableGlobals.map((i) => `${GLOBAL_EXPORT_PREFIX}${i}`);
  const exports = encodeExports([
    ...m.exports,
    ...globals.map((name, n) => ({ name, kind: KIND_GLOBAL, index: m.mutableGlobals[n]! })),
  ]);
  const out = new Writer().bytes(m.bytes.subarray(0, 8));
  for (let id = SECTION_TYPE; id <= SECTION_DATA; id++)
    out.section(id, id === SECTION_EXPORT ? exports : m.raw.get(id));
  return { code: out.finish(), globals };
}

export function instantiate(module: WebAssembly.Module, globals: readonly string[], ctx: HostContext): Live {
  const instance = new WebAssembly.Instance(module, ctx.imports());
  const exports = instance.exports;
  const memory = exports[MEMORY_EXPORT] as WebAssembly.Memory;
  const gas = exports[GAS_EXPORT] as WebAssembly.Global;
  ctx.attach(memory, gas);
  return {
    ctx,
    exports,
    memory,
    gas,
    status: exports[STATUS_EXPORT] as WebAssembly.Global,
    globals: globals.map((name) => exports[name] as WebAssembly.Global),
  };
}

/** Taken from a new instance, before anything ran in it. */
export function snapshot(live: Live): Pristine {
  return { memory: new Uint8Array(live.memory.buffer).slice(), globals: live.globals.map((g) => g.value) };
}

/**
 * Puts memory and globals back as `pristine` holds them. False when that is not done: the call grew
 * the memory (a memory never shrinks, and its size is visible to the next call), or it is too large
 * to be worth copying.
 */
export function restore(live: Live, pristine: Pristine | undefined): boolean {
  if (pristine === undefined || pristine.memory.length > MAX_RESTORED_MEMORY_BYTES) return false;
  const buffer = live.memory.buffer;
  if (buffer.byteLength !== pristine.memory.length) return false;
  new Uint8Array(buffer).set(pristine.memory);
  for (const [i, g] of live.globals.entries()) g.value = pristine.globals[i];
  return true;
}
