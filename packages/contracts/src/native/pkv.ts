import { concatBytes, utf8 } from "@cairn/crypto";
import { COLLECTION_NAME, type PrivateRef, type Value } from "@cairn/messaging";
import { argCount, bytesArg } from "../args.ts";
import { ContractError } from "../errors.ts";
import type { Contract } from "../types.ts";

// Private data collections in the world state (docs/privacy.md): every node holds, under the `pkv`
// namespace, the hash of each private key's latest value, keyed by collection and key hash. The
// plaintext is kept by member nodes outside the state tree, so every node computes the same root.

export const PRIVATE_CONTRACT = "pkv";
/** Gas of recording one private write's hash (a 32-byte key hash and a 32-byte value hash). */
export const PRIVATE_PUT_GAS = 64;

/** utf8(collection) ‖ "/" ‖ keyHash: the state key of a private key's hash. */
export function privateStateKey(collection: string, keyHash: Uint8Array): Uint8Array {
  return concatBytes(utf8.encode(`${collection}/`), keyHash);
}

/** The collection and key hash of a `pkv` state key. */
export function parsePrivateStateKey(key: Uint8Array): { collection: string; keyHash: Uint8Array } | undefined {
  const slash = key.indexOf(0x2f);
  if (slash < 1 || key.length - slash - 1 !== 32) return undefined;
  return { collection: utf8.decode(key.subarray(0, slash)), keyHash: key.subarray(slash + 1) };
}

function collectionArg(args: readonly Value[], i: number): string {
  const v = args[i];
  if (typeof v !== "string" || !COLLECTION_NAME.test(v)) {
    throw new ContractError("BAD_ARGS", `argument ${i} (collection) must be a collection name`);
  }
  return v;
}

/**
 * `pkv`: the private key-value contract. `put` records the hashes of the private writes the
 * transaction names; `purge` asks every member node to drop a key's plaintext now (the hash stays).
 */
export const privateKvContract: Contract = {
  name: PRIVATE_CONTRACT,
  methods: {
    put: {
      gas: 20,
      check(args) {
        argCount(args, 0);
      },
      execute(ctx) {
        if (ctx.private.length === 0) {
          throw new ContractError("NO_PRIVATE_DATA", "pkv.put records private writes: the transaction names none");
        }
        for (const ref of ctx.private) recordPrivate(ctx, ref);
      },
    },
    purge: {
      gas: 20,
      check(args) {
        argCount(args, 2);
        collectionArg(args, 0);
        bytesArg(args, 1, "keyHash", { len: 32 });
      },
      async execute(ctx, args) {
        const collection = collectionArg(args, 0);
        const keyHash = args[1] as Uint8Array;
        const member = ctx.collectionMember(collection, ctx.sender);
        if (member === undefined) throw new ContractError("NO_SUCH_COLLECTION", `no collection named ${collection}`);
        if (!member) {
          throw new ContractError("NOT_A_MEMBER", `only identities of ${collection}'s member organisations may purge`);
        }
        if ((await ctx.storage.get(privateStateKey(collection, keyHash))) === undefined) {
          throw new ContractError("NO_SUCH_KEY", `collection ${collection} has no key with that hash`);
        }
        ctx.emit("purge", [collection, keyHash]);
      },
    },
  },
};

/** Writes a reference's value hash as its key's hash (pkv.put, and Wasm contracts' private_put). */
export function recordPrivate(
  ctx: {
    storage: { set(k: Uint8Array, v: Uint8Array): void };
    emit(n: string, d: Value): void;
    chargeGas(n: number): void;
  },
  ref: PrivateRef,
): void {
  ctx.chargeGas(PRIVATE_PUT_GAS);
  ctx.storage.set(privateStateKey(ref.collection, ref.keyHash), ref.valueHash);
  ctx.emit("put", [ref.collection, ref.keyHash]);
}
