import { equalBytes, sha256, toHex } from "@cairn/crypto";
import {
  GAS_EXPORT,
  MEMORY_EXPORT,
  START_EXPORT,
  STATUS_EXPORT,
  STATUS_OUT_OF_GAS,
  STATUS_STACK_OVERFLOW,
} from "./abi.ts";
import { VmError } from "./errors.ts";
import { HostContext, type VmHost } from "./host.ts";
import { exportGlobals, instantiate, type Live, type Pristine, restore, snapshot } from "./instance.ts";
import { methodsOf, parseModule } from "./module.ts";
import { defaultVmOptions, resolveCosts, resolveLimits, type VmOptions } from "./options.ts";

export interface CallRequest {
  /** SHA-256 of `code`: the cache key. */
  readonly codeHash: Uint8Array;
  /** The instrumented module, as returned by prepareContract. */
  readonly code: Uint8Array;
  readonly method: string;
  /** The canonical encoding of the call's arguments. */
  readonly input: Uint8Array;
  readonly gasLimit: number;
  readonly host: VmHost;
  /** A query: storage writes and events fail with READ_ONLY. */
  readonly readOnly?: boolean;
}

export type CallResult =
  | { readonly ok: true; readonly output: Uint8Array; readonly gasUsed: number }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly gasUsed: number };

export interface Vm {
  /**
   * Runs one method in an instance in the state a new one starts in. Contract failures come back as
   * `ok: false`; an exception a host callback throws that is not a VmError propagates unchanged (the
   * caller reverts and retries).
   */
  call(req: CallRequest): CallResult;
  readonly cachedModules: number;
}

interface Compiled {
  readonly module: WebAssembly.Module;
  readonly methods: ReadonlySet<string>;
  readonly hasStart: boolean;
  /** The export names of the module's mutable globals (see exportGlobals). */
  readonly globals: readonly string[];
  /** Memory and globals as instantiation leaves them, taken from the first instance. */
  pristine: Pristine | undefined;
  /** An instance restored to `pristine` after its last call, ready for the next. */
  idle: Live | undefined;
}

/**
 * V8's trap messages differ between versions; receipts must not, so traps are reported with
 * fixed messages.
 */
const TRAP_MESSAGES: readonly (readonly [RegExp, string])[] = [
  [/unreachable/i, "unreachable executed"],
  [/memory access out of bounds/i, "out-of-bounds memory access"],
  [/divide by zero/i, "integer divide by zero"],
  [/remainder by zero/i, "integer remainder by zero"],
  [/overflow/i, "integer overflow"],
  [/signature|null function/i, "indirect call type mismatch"],
  [/table/i, "undefined table element"],
];

function trapMessage(e: Error): string {
  for (const [pattern, message] of TRAP_MESSAGES) if (pattern.test(e.message)) return message;
  return "trap";
}

const failure = (code: string, message: string, gasUsed: number): CallResult => ({ ok: false, code, message, gasUsed });

class Engine implements Vm {
  private readonly opts: VmOptions;
  /** Code hash hex → compiled module; Map order is recency (last = most recent). */
  private readonly cache = new Map<string, Compiled>();

  constructor(options: Partial<VmOptions>) {
    this.opts = {
      ...defaultVmOptions,
      ...options,
      limits: resolveLimits(options.limits),
      costs: resolveCosts(options.costs),
    };
  }

  get cachedModules(): number {
    return this.cache.size;
  }

  call(req: CallRequest): CallResult {
    const { gasLimit } = req;
    if (!Number.isSafeInteger(gasLimit) || gasLimit < 0) {
      throw new VmError("BAD_GAS_LIMIT", "gas limit must be a non-negative safe integer");
    }
    if (req.host.caller.length !== 32) throw new VmError("BAD_CALLER", "caller must be 32 bytes");
    const compiled = this.load(req.codeHash, req.code);
    if (!compiled.methods.has(req.method)) {
      return failure("UNKNOWN_METHOD", `no method ${JSON.stringify(req.method.slice(0, 64))}`, 0);
    }
    const started = performance.now();
    const result = this.run(compiled, req);
    // The watchdog only reports: V8 cannot interrupt synchronous wasm from its own thread, and a
    // result decided by a clock would differ between nodes. The meter is what bounds a call.
    const elapsedMs = performance.now() - started;
    if (elapsedMs > this.opts.watchdogMs) {
      this.opts.onWatchdog({ codeHash: toHex(req.codeHash), method: req.method, elapsedMs });
    }
    return result;
  }

  private run(compiled: Compiled, req: CallRequest): CallResult {
    const setup = { host: req.host, input: req.input, readOnly: req.readOnly === true };
    let live = compiled.idle;
    compiled.idle = undefined;
    if (live === undefined) {
      try {
        live = instantiate(
          compiled.module,
          compiled.globals,
          new HostContext(this.opts.limits, this.opts.costs, setup),
        );
        if (this.opts.reuseInstances) compiled.pristine ??= snapshot(live);
      } catch (e) {
        // Deploy rules keep segments in bounds, so this is not expected; it is still the contract's fault.
        if (e instanceof WebAssembly.RuntimeError) return failure("CONTRACT_TRAP", trapMessage(e), 0);
        throw e;
      }
    } else {
      live.ctx.begin(setup);
    }
    const result = this.invoke(compiled, live, req);
    // Whatever the call did to memory and globals is undone, so the next call starts as in a new
    // instance. A call that threw (a host failure) does not get here: its instance is dropped.
    if (this.opts.reuseInstances && restore(live, compiled.pristine)) compiled.idle = live;
    return result;
  }

  private invoke(compiled: Compiled, live: Live, req: CallRequest): CallResult {
    const { gasLimit } = req;
    const { gas, status, exports, ctx } = live;
    gas.value = BigInt(gasLimit);
    status.value = 0;
    const used = () => {
      const left = Number(gas.value as bigint);
      return left <= 0 ? gasLimit : left >= gasLimit ? 0 : gasLimit - left;
    };
    try {
      if (compiled.hasStart) (exports[START_EXPORT] as () => void)();
      (exports[req.method] as () => void)();
    } catch (e) {
      if (e instanceof VmError) return failure(e.code, e.message, e.code === "OUT_OF_GAS" ? gasLimit : used());
      if (e instanceof WebAssembly.RuntimeError) {
        const s = status.value as number;
        if (s === STATUS_OUT_OF_GAS) return failure("OUT_OF_GAS", "out of gas", gasLimit);
        if (s === STATUS_STACK_OVERFLOW) {
          return failure("CALL_DEPTH_EXCEEDED", `more than ${this.opts.limits.maxStackSlots} stack slots`, used());
        }
        return failure("CONTRACT_TRAP", trapMessage(e), used());
      }
      // The stack bound should make V8's own limit unreachable. If it is hit anyway, how far the
      // call got depends on the machine, so the whole gas limit is charged to stay deterministic.
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        return failure("CALL_DEPTH_EXCEEDED", "native call stack exhausted", gasLimit);
      }
      throw e;
    }
    return { ok: true, output: ctx.output, gasUsed: used() };
  }

  private load(codeHash: Uint8Array, code: Uint8Array): Compiled {
    const key = toHex(codeHash);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    if (!equalBytes(sha256(code), codeHash)) throw new VmError("CODE_HASH_MISMATCH", "code does not match its hash");
    const m = parseModule(code);
    const exported = new Set(m.exports.map((e) => e.name));
    if (!exported.has(GAS_EXPORT) || !exported.has(STATUS_EXPORT) || !exported.has(MEMORY_EXPORT)) {
      throw new VmError("INVALID_MODULE", "code is not an instrumented contract");
    }
    const methods = new Set(methodsOf(m));
    const runnable = exportGlobals(m);
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(runnable.code as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new VmError("INVALID_MODULE", "code does not compile", { cause: e });
    }
    const compiled: Compiled = {
      module,
      methods,
      hasStart: exported.has(START_EXPORT),
      globals: runnable.globals,
      pristine: undefined,
      idle: undefined,
    };
    if (this.opts.moduleCacheSize > 0) {
      this.cache.set(key, compiled);
      while (this.cache.size > this.opts.moduleCacheSize) this.cache.delete(this.cache.keys().next().value!);
    }
    return compiled;
  }
}

/** A VM with its own compiled-module cache; one per ledger. */
export function createVm(options: Partial<VmOptions> = {}): Vm {
  return new Engine(options);
}
