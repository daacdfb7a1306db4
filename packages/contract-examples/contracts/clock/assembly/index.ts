// A contract that reads the wall clock and a random number: both differ from node to node, so a
// result computed from them could not be agreed on. Cairn has no such host functions: the block's
// time (context.time()) and height are the only clock. This module must not reach a chain:
// `buildContract` refuses it (CONTRACT_INVALID: it imports env.Date.now and env.seed, which are
// not part of the host ABI, and it uses floats), and a module compiled without that check is
// refused at deploy (INVALID_MODULE) by the VM's verification (test/unit/hostile.test.ts).
import { Args, returnValue, Writer } from "@cairn/contract-sdk";

/** now() -> i64: the node's wall-clock time in ms. */
export function now(): void {
  Args.read().done();
  returnValue(new Writer().i64(Date.now()));
}

/** dice() -> u64: a random number from 1 to 6. */
export function dice(): void {
  Args.read().done();
  returnValue(new Writer().u64(1 + <u64>Math.floor(Math.random() * 6)));
}
