import { argCount } from "../args.ts";
import type { Contract } from "../types.ts";

/**
 * `noop`: a method that does nothing, BLOCKBENCH's DoNothing. A `noop.noop()` transaction goes
 * through everything a transaction costs (admission, signature checks, ordering, a receipt in the
 * block) but reads and writes no state, so benchmarking it measures the ledger's fixed cost.
 */
export const noopContract: Contract = {
  name: "noop",
  methods: {
    noop: {
      gas: 10,
      check(args) {
        argCount(args, 0);
      },
      execute() {},
    },
  },
};
