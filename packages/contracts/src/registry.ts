import type { Value } from "@cairn/messaging";
import { ContractError } from "./errors.ts";
import { kvContract } from "./native/kv.ts";
import { noopContract } from "./native/noop.ts";
import { privateKvContract } from "./native/pkv.ts";
import { tokenContract } from "./native/token.ts";
import type { Contract, ContractMethod } from "./types.ts";
import { createSystemContract } from "./wasm/system.ts";

/** Looks up native contracts by name (deployed WebAssembly contracts are found in the state: ./wasm). */
export class ContractRegistry {
  private readonly contracts = new Map<string, Contract>();

  constructor(contracts: readonly Contract[] = []) {
    for (const c of contracts) this.register(c);
  }

  register(contract: Contract): void {
    if (this.contracts.has(contract.name)) {
      throw new ContractError("DUPLICATE_CONTRACT", `contract ${contract.name} is already registered`);
    }
    this.contracts.set(contract.name, contract);
  }

  names(): string[] {
    return [...this.contracts.keys()];
  }

  has(contract: string): boolean {
    return this.contracts.has(contract);
  }

  /** The method names of a registered contract (empty when there is none). */
  methods(contract: string): string[] {
    const c = this.contracts.get(contract);
    return c === undefined ? [] : Object.keys(c.methods);
  }

  /** The method to run, or UNKNOWN_CONTRACT / UNKNOWN_METHOD. */
  method(contract: string, method: string): ContractMethod {
    const c = this.contracts.get(contract);
    if (c === undefined) throw new ContractError("UNKNOWN_CONTRACT", `no contract named ${contract}`);
    // Own properties only: "constructor" or "__proto__" are not methods.
    const m = Object.hasOwn(c.methods, method) ? c.methods[method] : undefined;
    if (m === undefined) throw new ContractError("UNKNOWN_METHOD", `contract ${contract} has no method ${method}`);
    return m;
  }

  /** The stateless admission check: the contract and method exist and the arguments are well formed. */
  check(contract: string, method: string, args: readonly Value[]): void {
    this.method(contract, method).check(args);
  }
}

/**
 * The registry every node starts with: the built-in native contracts, those of other layers
 * (`extra`: the management layer's `gov`), and the system contract `contracts` that deploys and
 * upgrades WebAssembly contracts under any other name.
 */
export function createNativeRegistry(extra: readonly Contract[] = []): ContractRegistry {
  const natives = [kvContract, tokenContract, noopContract, privateKvContract, ...extra];
  return new ContractRegistry([...natives, createSystemContract(natives.map((c) => c.name))]);
}
