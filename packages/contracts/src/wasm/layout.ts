import { concatBytes, utf8 } from "@cairn/crypto";
import { asArray, asBytes, asUint, decode, encode, type Value } from "@cairn/messaging";
import { ContractError } from "../errors.ts";

// Where deployed WebAssembly contracts live in the world state: the system contract `contracts`
// keeps each contract's description under "meta/<name>" and each instrumented module under
// "code/<code hash>" in its own namespace. A deployed contract's storage is the namespace of its name.

/** The name of the system contract that deploys and upgrades WebAssembly contracts. */
export const SYSTEM_CONTRACT = "contracts";

/** Names of deployed contracts: short, lower-case (messaging's rule), and never those of native contracts. */
export { CONTRACT_NAME } from "@cairn/messaging";

const META = utf8.encode("meta/");
const CODE = utf8.encode("code/");

export function metaKey(name: string): Uint8Array {
  return concatBytes(META, utf8.encode(name));
}

export function codeKey(codeHash: Uint8Array): Uint8Array {
  return concatBytes(CODE, codeHash);
}

/** What the chain records about a deployed contract. */
export interface ContractMeta {
  /** SHA-256 of the instrumented module that runs. */
  readonly codeHash: Uint8Array;
  /** The admin key that deployed it. */
  readonly deployer: Uint8Array;
  /** 1 at deploy, +1 per upgrade. */
  readonly version: number;
  readonly deployedAt: number;
  readonly updatedAt: number;
  /** Size of the module as deployed (before instrumentation). */
  readonly codeSize: number;
  readonly methods: readonly string[];
}

export function encodeMeta(m: ContractMeta): Uint8Array {
  return encode([m.codeHash, m.deployer, m.version, m.deployedAt, m.updatedAt, m.codeSize, [...m.methods]]);
}

export function decodeMeta(bytes: Uint8Array): ContractMeta {
  const f = asArray(decode(bytes), "contract meta", 7);
  const methods = asArray(f[6] as Value, "contract meta methods").map((m) => {
    if (typeof m !== "string") throw new ContractError("BAD_META", "contract meta: a method name is not a string");
    return m;
  });
  return {
    codeHash: asBytes(f[0] as Value, "meta.codeHash", 32),
    deployer: asBytes(f[1] as Value, "meta.deployer", 32),
    version: asUint(f[2] as Value, "meta.version"),
    deployedAt: asUint(f[3] as Value, "meta.deployedAt"),
    updatedAt: asUint(f[4] as Value, "meta.updatedAt"),
    codeSize: asUint(f[5] as Value, "meta.codeSize"),
    methods,
  };
}
