// Cairn's smart-contract verification (module rules, gas and stack instrumentation) and execution
// engine (a metered runtime on V8's WebAssembly). The ABI and rules are in docs/contracts.md.
export {
  ABORT_MODULE,
  ABORT_NAME,
  GAS_EXPORT,
  HOST_FUNCTIONS,
  HOST_MODULE,
  START_EXPORT,
  STATUS_EXPORT,
} from "./abi.ts";
export { type CallRequest, type CallResult, createVm, type Vm } from "./engine.ts";
export { VmError } from "./errors.ts";
export type { VmHost } from "./host.ts";
export {
  defaultGasCosts,
  defaultVmLimits,
  defaultVmOptions,
  type GasCosts,
  type VmLimits,
  type VmOptions,
  type WatchdogReport,
} from "./options.ts";
export { type PreparedContract, type PrepareOptions, prepareContract } from "./prepare.ts";
