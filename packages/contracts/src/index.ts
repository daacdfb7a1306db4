// Cairn's smart contract layer (FG DLT: Smart contract). For now the execution engine runs the
// built-in native contracts; issue [3/6] adds the AssemblyScript compiler, verification and Wasm engine.
export { amountArg, argCount, bytesArg, MAX_UINT64 } from "./args.ts";
export { ContractError } from "./errors.ts";
export { GAS_PER_BYTE, KV_MAX_KEY_BYTES, KV_MAX_VALUE_BYTES, kvContract } from "./native/kv.ts";
export { decodeBalance, encodeBalance, tokenContract, tokenGenesisState } from "./native/token.ts";
export { ContractRegistry, createNativeRegistry } from "./registry.ts";
export type { CallContext, Contract, ContractMethod, ContractStorage } from "./types.ts";
