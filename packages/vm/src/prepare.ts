import { sha256 } from "@cairn/crypto";
import { instrument } from "./meter.ts";
import { type GasCosts, resolveCosts, resolveLimits, type VmLimits } from "./options.ts";
import { validateModule } from "./validate.ts";

export interface PreparedContract {
  /** The instrumented module: what is stored and run. */
  readonly code: Uint8Array;
  /** SHA-256 of `code`. */
  readonly codeHash: Uint8Array;
  readonly methods: readonly string[];
}

export interface PrepareOptions {
  readonly limits?: Partial<VmLimits>;
  readonly costs?: Partial<GasCosts>;
}

/**
 * Deploy-time verification and instrumentation. Deterministic: every node derives the same code
 * (and code hash) from the same module and options. Throws VmError INVALID_MODULE naming the rule.
 */
export function prepareContract(wasm: Uint8Array, options: PrepareOptions = {}): PreparedContract {
  const limits = resolveLimits(options.limits);
  const costs = resolveCosts(options.costs);
  const validated = validateModule(wasm, limits);
  const code = instrument(validated, costs, limits);
  return { code, codeHash: sha256(code), methods: validated.methods };
}
