import { argCount, bytesArg } from "../args.ts";
import type { Contract } from "../types.ts";

export const KV_MAX_KEY_BYTES = 256;
export const KV_MAX_VALUE_BYTES = 16 * 1024;
/** Storage gas: what a byte written costs, so large values are not free. */
export const GAS_PER_BYTE = 1;

/**
 * `kv`: a shared key-value register. Anyone may put or delete; reads go through the state query
 * API (GET /state/kv/:key). Enough to use and benchmark the ledger (YCSB-style workloads).
 */
export const kvContract: Contract = {
  name: "kv",
  methods: {
    put: {
      gas: 20,
      check(args) {
        argCount(args, 2);
        bytesArg(args, 0, "key", { max: KV_MAX_KEY_BYTES });
        bytesArg(args, 1, "value", { max: KV_MAX_VALUE_BYTES });
      },
      execute(ctx, args) {
        const key = args[0] as Uint8Array;
        const value = args[1] as Uint8Array;
        ctx.chargeGas((key.length + value.length) * GAS_PER_BYTE);
        ctx.storage.set(key, value);
        ctx.emit("put", [key]);
      },
    },
    delete: {
      gas: 10,
      check(args) {
        argCount(args, 1);
        bytesArg(args, 0, "key", { max: KV_MAX_KEY_BYTES });
      },
      execute(ctx, args) {
        const key = args[0] as Uint8Array;
        ctx.storage.delete(key);
        ctx.emit("delete", [key]);
      },
    },
  },
};
