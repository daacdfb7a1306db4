import { PUBLIC_KEY_LENGTH } from "@cairn/crypto";
import type { Transaction, Value } from "@cairn/messaging";
import { CONTRACT_NAME } from "@cairn/messaging";
import { bytesOf, textBytes } from "./bytes.ts";
import { CairnClientError } from "./errors.ts";

/** A call of a contract method: what a transaction carries besides sender, nonce and expiry. */
export interface ContractCall {
  readonly contract: string;
  readonly method: string;
  readonly args: readonly Value[];
}

export interface BuildTransactionParams extends ContractCall {
  readonly chainId: string;
  /** The sender's public key (bytes or hex). */
  readonly sender: Uint8Array | string;
  /** Last height at which the transaction may be included. */
  readonly expiry: number;
  /** Random by default (16 bytes); give one only to rebuild a known transaction. */
  readonly nonce?: Uint8Array;
}

export const NONCE_BYTES = 16;

/** An unsigned transaction; sign it with `signTransaction(tx, key.secretKey)`. */
export function buildTransaction(p: BuildTransactionParams): Transaction {
  return {
    chainId: p.chainId,
    sender: bytesOf(p.sender, "sender", PUBLIC_KEY_LENGTH),
    nonce: p.nonce ?? crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
    expiry: p.expiry,
    contract: p.contract,
    method: p.method,
    args: p.args,
  };
}

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A token amount: an integer from 1 to 2^64-1, as a number when exact (as the decoder returns it). */
function amountOf(amount: number | bigint): number | bigint {
  let n: bigint;
  if (typeof amount === "bigint") n = amount;
  else if (typeof amount === "number" && Number.isSafeInteger(amount)) n = BigInt(amount);
  else throw new CairnClientError("BAD_AMOUNT", "amount must be an integer (use a bigint beyond 2^53)");
  if (n <= 0n || n > MAX_UINT64) throw new CairnClientError("BAD_AMOUNT", "amount must be from 1 to 2^64-1");
  return n <= MAX_SAFE ? Number(n) : n;
}

/** The native key-value contract. Read values with `client.getState("kv", key)`. */
export const kv = {
  /** Stores `value` under `key`; strings are UTF-8. */
  put(key: Uint8Array | string, value: Uint8Array | string): ContractCall {
    return { contract: "kv", method: "put", args: [textBytes(key), textBytes(value)] };
  },
  delete(key: Uint8Array | string): ContractCall {
    return { contract: "kv", method: "delete", args: [textBytes(key)] };
  },
};

/** The native token contract. Accounts are 32-byte public keys (bytes or hex). */
export const token = {
  mint(to: Uint8Array | string, amount: number | bigint): ContractCall {
    return { contract: "token", method: "mint", args: [bytesOf(to, "to", PUBLIC_KEY_LENGTH), amountOf(amount)] };
  },
  transfer(to: Uint8Array | string, amount: number | bigint): ContractCall {
    return { contract: "token", method: "transfer", args: [bytesOf(to, "to", PUBLIC_KEY_LENGTH), amountOf(amount)] };
  },
};

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function contractName(name: string): string {
  if (typeof name !== "string" || !CONTRACT_NAME.test(name)) {
    throw new CairnClientError(
      "BAD_NAME",
      `a contract name matches ${CONTRACT_NAME.source}, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function moduleBytes(code: Uint8Array): Uint8Array {
  if (!(code instanceof Uint8Array) || !WASM_MAGIC.every((b, i) => code[i] === b)) {
    throw new CairnClientError("BAD_CODE", "code must be the bytes of a WebAssembly module (a .wasm file)");
  }
  return code;
}

/**
 * The system contract that manages deployed (WebAssembly) contracts; admin keys only. The receipt
 * of a successful deploy or upgrade has an event `deployed` / `upgraded` with data
 * `[name, codeHash, version]`.
 */
export const contracts = {
  /** Deploys `code` under `name` (a new name; not a native contract's). */
  deploy(name: string, code: Uint8Array): ContractCall {
    return { contract: "contracts", method: "deploy", args: [contractName(name), moduleBytes(code)] };
  },
  /** Replaces the code of the deployed contract `name`, keeping its state. */
  upgrade(name: string, code: Uint8Array): ContractCall {
    return { contract: "contracts", method: "upgrade", args: [contractName(name), moduleBytes(code)] };
  },
};

/** A call of any contract method: the args are canonical values (see `Value`). */
export function call(contract: string, method: string, args: readonly Value[] = []): ContractCall {
  if (typeof contract !== "string" || contract === "" || typeof method !== "string" || method === "") {
    throw new CairnClientError("BAD_NAME", "contract and method must be non-empty strings");
  }
  return { contract, method, args };
}

/** A token balance as stored in state: 8 bytes, big-endian. */
export function decodeBalance(value: Uint8Array | undefined): bigint {
  if (value === undefined) return 0n;
  if (value.length !== 8) throw new CairnClientError("BAD_RESPONSE", `a balance is 8 bytes, got ${value.length}`);
  return new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
}
