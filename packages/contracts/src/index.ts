// Cairn's smart contract layer (FG DLT: Smart contract): the native contracts, the system contract
// that deploys WebAssembly contracts, and the runner that executes them with @cairn/vm.
export { amountArg, argCount, bytesArg, MAX_UINT64 } from "./args.ts";
export { ContractError } from "./errors.ts";
export { GAS_PER_BYTE, KV_MAX_KEY_BYTES, KV_MAX_VALUE_BYTES, kvContract } from "./native/kv.ts";
export { noopContract } from "./native/noop.ts";
export {
  PRIVATE_CONTRACT,
  PRIVATE_PUT_GAS,
  parsePrivateStateKey,
  privateKvContract,
  privateStateKey,
  recordPrivate,
} from "./native/pkv.ts";
export { decodeBalance, encodeBalance, tokenContract, tokenGenesisState } from "./native/token.ts";
export { ContractRegistry, createNativeRegistry } from "./registry.ts";
export type { CallContext, Contract, ContractMethod, ContractStorage } from "./types.ts";
export {
  CONTRACT_NAME,
  type ContractMeta,
  codeKey,
  decodeMeta,
  encodeMeta,
  metaKey,
  SYSTEM_CONTRACT,
} from "./wasm/layout.ts";
export { type WasmCall, type WasmResult, WasmRunner, type WasmState } from "./wasm/runner.ts";
export { createSystemContract, DEPLOY_GAS_PER_BYTE, MAX_CODE_BYTES } from "./wasm/system.ts";
