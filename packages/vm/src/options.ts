import { VmError } from "./errors.ts";

/** Size and shape bounds, checked at deploy (module rules) and in every host call. */
export interface VmLimits {
  /** Largest module accepted at deploy. */
  readonly maxCodeBytes: number;
  /** Largest declared memory maximum, in 64 KiB pages. */
  readonly maxMemoryPages: number;
  readonly maxTableEntries: number;
  readonly maxGlobals: number;
  /** Imported plus defined functions. */
  readonly maxFunctions: number;
  /** Locals declared in one function body (parameters not included). */
  readonly maxLocals: number;
  /** Stack slots of all active frames together: the call-depth bound. */
  readonly maxStackSlots: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxEventBytes: number;
  readonly maxEventNameBytes: number;
  readonly maxReturnBytes: number;
  readonly maxErrorMessageBytes: number;
}

/** Gas prices. One instruction is the unit; the rest are relative to it. */
export interface GasCosts {
  /** Every WebAssembly instruction other than a call. */
  readonly instruction: number;
  /** `call` and `call_indirect`. */
  readonly call: number;
  /** Per 64 KiB page requested by `memory.grow` (charged whether or not the grow succeeds). */
  readonly memoryGrowPage: number;
  /** Every host function call. */
  readonly hostCall: number;
  /** Per byte a host function copies in or out of the contract's memory. */
  readonly byte: number;
  /** Every storage_set and storage_delete. */
  readonly storageWrite: number;
  /** Per byte of key and value written to storage. */
  readonly storageByte: number;
}

export interface WatchdogReport {
  readonly codeHash: string;
  readonly method: string;
  readonly elapsedMs: number;
}

export interface VmOptions {
  readonly limits: VmLimits;
  readonly costs: GasCosts;
  /** Compiled modules kept, least recently used evicted first. */
  readonly moduleCacheSize: number;
  /**
   * Keep one instance per cached module and restore its memory and globals after each call
   * instead of instantiating anew (same results and gas either way; off only to compare).
   */
  readonly reuseInstances: boolean;
  /** Wall-clock time after which a finished call is reported to `onWatchdog` (never changes its result). */
  readonly watchdogMs: number;
  /** Called after a call that took longer than `watchdogMs`; a node may stop here (throwing propagates). */
  readonly onWatchdog: (report: WatchdogReport) => void;
}

export const defaultVmLimits: VmLimits = {
  maxCodeBytes: 512 * 1024,
  maxMemoryPages: 64,
  maxTableEntries: 1024,
  maxGlobals: 256,
  maxFunctions: 10_000,
  maxLocals: 1024,
  maxStackSlots: 16_384,
  maxKeyBytes: 256,
  maxValueBytes: 64 * 1024,
  maxEventBytes: 16 * 1024,
  maxEventNameBytes: 64,
  maxReturnBytes: 64 * 1024,
  maxErrorMessageBytes: 1024,
};

// Measured on V8 (Node 24, x64): metered straight-line code runs at 0.1-0.3 ns per gas, call-heavy
// code at about 0.7 ns, a host call with a storage lookup at about 1.5 µs. The defaults keep every
// kind of work within about 1 ns per gas, so maxTxGas = 50M bounds a call to tens of milliseconds.
export const defaultGasCosts: GasCosts = {
  instruction: 1,
  call: 5,
  memoryGrowPage: 10_000,
  hostCall: 1_000,
  byte: 1,
  storageWrite: 5_000,
  storageByte: 50,
};

export const defaultVmOptions: VmOptions = {
  limits: defaultVmLimits,
  costs: defaultGasCosts,
  moduleCacheSize: 128,
  reuseInstances: true,
  watchdogMs: 2_000,
  onWatchdog: (r) => {
    process.emitWarning(
      `contract ${r.codeHash} method ${r.method} ran ${r.elapsedMs.toFixed(0)} ms (watchdog)`,
      "CairnVmWatchdog",
    );
  },
};

// Gas costs end up as i64 constants in the code; bounding them keeps every product exact.
const MAX_COST = 2 ** 24;

export function resolveLimits(limits: Partial<VmLimits> = {}): VmLimits {
  const out = { ...defaultVmLimits, ...limits };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 0 || value > 2 ** 31 - 1) {
      throw new VmError("BAD_OPTIONS", `limit ${name} must be an integer in [0, 2^31)`);
    }
  }
  return out;
}

export function resolveCosts(costs: Partial<GasCosts> = {}): GasCosts {
  const out = { ...defaultGasCosts, ...costs };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_COST) {
      throw new VmError("BAD_OPTIONS", `gas cost ${name} must be an integer in [0, 2^24]`);
    }
  }
  return out;
}
