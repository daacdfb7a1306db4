import { PUBLIC_KEY_LENGTH } from "@cairn/crypto";
import { amountArg, argCount, bytesArg, MAX_UINT64 } from "../args.ts";
import { ContractError } from "../errors.ts";
import type { Contract, ContractStorage } from "../types.ts";

/** Balances are 8-byte big-endian unsigned integers under the account's 32-byte public key. */
export function decodeBalance(value: Uint8Array | undefined): bigint {
  if (value === undefined) return 0n;
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(0);
}

export function encodeBalance(amount: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, amount);
  return out;
}

// The key under which the total supply is kept: shorter than any account key, so it cannot clash.
const SUPPLY_KEY = new TextEncoder().encode("supply");

/**
 * The token's state at genesis: each account's balance and the total supply, as the key/value
 * pairs the ledger writes into the `token` namespace before block 1.
 */
export function tokenGenesisState(
  accounts: readonly { publicKey: Uint8Array; balance: bigint }[],
): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [];
  let supply = 0n;
  for (const a of accounts) {
    out.push([a.publicKey, encodeBalance(a.balance)]);
    supply += a.balance;
  }
  if (supply > MAX_UINT64) throw new ContractError("SUPPLY_OVERFLOW", "genesis balances exceed 2^64-1 in total");
  if (supply > 0n) out.push([SUPPLY_KEY, encodeBalance(supply)]);
  return out;
}

async function balanceOf(storage: ContractStorage, account: Uint8Array): Promise<bigint> {
  return decodeBalance(await storage.get(account));
}

function setBalance(storage: ContractStorage, account: Uint8Array, amount: bigint): void {
  // A zero balance is removed rather than stored, so the state holds only live accounts.
  if (amount === 0n) storage.delete(account);
  else storage.set(account, encodeBalance(amount));
}

function checkTransferArgs(args: Parameters<Contract["methods"][string]["check"]>[0]): void {
  argCount(args, 2);
  bytesArg(args, 0, "to", { len: PUBLIC_KEY_LENGTH });
  amountArg(args, 1, "amount");
}

/**
 * `token`: a fungible token for payments and settlement. Admins (genesis keys) mint; holders
 * transfer. Supply is bounded by 2^64-1.
 */
export const tokenContract: Contract = {
  name: "token",
  methods: {
    mint: {
      gas: 30,
      check: checkTransferArgs,
      async execute(ctx, args) {
        if (!ctx.isAdmin(ctx.sender)) throw new ContractError("UNAUTHORIZED", "only an admin key may mint");
        const to = args[0] as Uint8Array;
        const amount = amountArg(args, 1, "amount");
        const supply = decodeBalance(await ctx.storage.get(SUPPLY_KEY));
        if (supply + amount > MAX_UINT64)
          throw new ContractError("SUPPLY_OVERFLOW", "total supply would exceed 2^64-1");
        ctx.storage.set(SUPPLY_KEY, encodeBalance(supply + amount));
        setBalance(ctx.storage, to, (await balanceOf(ctx.storage, to)) + amount);
        ctx.emit("mint", [to, amount]);
      },
    },
    transfer: {
      gas: 30,
      check: checkTransferArgs,
      async execute(ctx, args) {
        const to = args[0] as Uint8Array;
        const amount = amountArg(args, 1, "amount");
        const from = ctx.sender;
        const fromBalance = await balanceOf(ctx.storage, from);
        if (fromBalance < amount) {
          throw new ContractError("INSUFFICIENT_FUNDS", `balance ${fromBalance} is less than ${amount}`);
        }
        setBalance(ctx.storage, from, fromBalance - amount);
        // Read the recipient after the debit: a transfer to oneself must leave the balance unchanged.
        setBalance(ctx.storage, to, (await balanceOf(ctx.storage, to)) + amount);
        ctx.emit("transfer", [from, to, amount]);
      },
    },
  },
};
