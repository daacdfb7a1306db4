import { I32, I64 } from "./abi.ts";
import type { Reader } from "./binary.ts";
import { invalid } from "./module.ts";

// Decoder for the instruction set Cairn allows: WebAssembly 1.0 integer instructions plus the
// sign-extension operators. Every other opcode is rejected with the rule it breaks.

export const OP_UNREACHABLE = 0x00;
export const OP_BLOCK = 0x02;
export const OP_LOOP = 0x03;
export const OP_IF = 0x04;
export const OP_ELSE = 0x05;
export const OP_END = 0x0b;
export const OP_BR = 0x0c;
export const OP_BR_IF = 0x0d;
export const OP_BR_TABLE = 0x0e;
export const OP_RETURN = 0x0f;
export const OP_CALL = 0x10;
export const OP_CALL_INDIRECT = 0x11;
export const OP_LOCAL_GET = 0x20;
export const OP_GLOBAL_GET = 0x23;
export const OP_GLOBAL_SET = 0x24;
export const OP_MEMORY_GROW = 0x40;
export const OP_I32_CONST = 0x41;
export const OP_I64_CONST = 0x42;
export const OP_I32_ADD = 0x6a;
export const OP_I32_SUB = 0x6b;
export const OP_I32_GT_U = 0x4b;
export const OP_I64_LT_S = 0x53;
export const OP_I64_SUB = 0x7d;
export const OP_I64_MUL = 0x7e;
export const OP_I64_EXTEND_I32_U = 0xad;
export const BLOCK_EMPTY = 0x40;

const IMM_NONE = 0;
const IMM_BLOCK = 1;
const IMM_LABEL = 2;
const IMM_BR_TABLE = 3;
const IMM_INDEX = 4; // function, local or global index
const IMM_CALL_INDIRECT = 5;
const IMM_MEMARG = 6;
const IMM_MEMORY = 7;
const IMM_I32 = 8;
const IMM_I64 = 9;

interface OpInfo {
  readonly imm: number;
  /** Operand stack effect; calls and control instructions are handled by the caller. */
  readonly pops: number;
  readonly pushes: number;
}

/** For each opcode, how to decode it, or why it is rejected. */
const OPS: (OpInfo | string)[] = new Array<OpInfo | string>(256).fill("unknown opcode");

function allow(ops: number[], imm: number, pops: number, pushes: number): void {
  for (const op of ops) OPS[op] = { imm, pops, pushes };
}
function reject(ops: number[], rule: string): void {
  for (const op of ops) OPS[op] = rule;
}
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

allow([0x00, 0x01, 0x05, 0x0b, 0x0f], IMM_NONE, 0, 0); // unreachable nop else end return
allow([0x02, 0x03], IMM_BLOCK, 0, 0);
allow([0x04], IMM_BLOCK, 1, 0);
allow([0x0c], IMM_LABEL, 0, 0);
allow([0x0d], IMM_LABEL, 1, 0);
allow([0x0e], IMM_BR_TABLE, 1, 0);
allow([0x10], IMM_INDEX, 0, 0);
allow([0x11], IMM_CALL_INDIRECT, 1, 0);
allow([0x1a], IMM_NONE, 1, 0); // drop
allow([0x1b], IMM_NONE, 3, 1); // select
allow([0x20, 0x23], IMM_INDEX, 0, 1); // local.get global.get
allow([0x21, 0x24], IMM_INDEX, 1, 0); // local.set global.set
allow([0x22], IMM_INDEX, 1, 1); // local.tee
allow([0x28, 0x29, ...range(0x2c, 0x35)], IMM_MEMARG, 1, 1); // integer loads
allow([0x36, 0x37, ...range(0x3a, 0x3e)], IMM_MEMARG, 2, 0); // integer stores
allow([0x3f], IMM_MEMORY, 0, 1); // memory.size
allow([0x40], IMM_MEMORY, 1, 1); // memory.grow
allow([0x41], IMM_I32, 0, 1);
allow([0x42], IMM_I64, 0, 1);
allow([0x45, 0x50], IMM_NONE, 1, 1); // eqz
allow([...range(0x46, 0x4f), ...range(0x51, 0x5a)], IMM_NONE, 2, 1); // comparisons
allow([...range(0x67, 0x69), ...range(0x79, 0x7b)], IMM_NONE, 1, 1); // clz ctz popcnt
allow([...range(0x6a, 0x78), ...range(0x7c, 0x8a)], IMM_NONE, 2, 1); // binary arithmetic
allow([0xa7, 0xac, 0xad, ...range(0xc0, 0xc4)], IMM_NONE, 1, 1); // wrap, extend, sign-extension

reject(
  [0x2a, 0x2b, 0x38, 0x39, 0x43, 0x44, ...range(0x5b, 0x66), ...range(0x8b, 0xa6), ...range(0xa8, 0xab)],
  "floating point instruction",
);
reject(range(0xae, 0xbf), "floating point instruction");
reject([...range(0x06, 0x0a), 0x18, 0x19, 0x1f], "exception handling instruction");
reject([0x12, 0x13, 0x15], "tail call instruction");
reject([0x14, ...range(0xd0, 0xd6)], "reference types instruction");
reject([0x1c, 0x25, 0x26], "reference types instruction");
reject([0xfb], "GC instruction");
reject([0xfc], "bulk memory or other 0xFC-prefixed instruction");
reject([0xfd], "SIMD instruction");
reject([0xfe], "threads: atomic instruction");

/** One decoded instruction; a single object is reused for a whole body. */
export interface Instr {
  op: number;
  start: number;
  end: number;
  pops: number;
  pushes: number;
  /** block, loop, if: 0 or 1 result. */
  blockResults: number;
  /** The label, function, type, local or global index. */
  index: number;
  /** br_table: the labels, default last. */
  readonly targets: number[];
}

export function newInstr(): Instr {
  return { op: 0, start: 0, end: 0, pops: 0, pushes: 0, blockResults: 0, index: 0, targets: [] };
}

function blockType(r: Reader): number {
  const t = r.u8();
  if (t === BLOCK_EMPTY) return 0;
  if (t === I32 || t === I64) return 1;
  if (t === 0x7d || t === 0x7c) invalid("floating point: float block type");
  if (t === 0x7b) invalid("SIMD: v128 block type");
  if (t >= 0x63 && t <= 0x74) invalid("reference types: reference block type");
  return invalid("multi-value: block with a type index");
}

export function readInstr(r: Reader, ins: Instr, fn: number): void {
  ins.start = r.pos;
  const op = r.u8();
  const info = OPS[op] as OpInfo | string;
  if (typeof info === "string") invalid(`function ${fn}: ${info} (opcode 0x${op.toString(16).padStart(2, "0")})`);
  ins.op = op;
  ins.pops = info.pops;
  ins.pushes = info.pushes;
  switch (info.imm) {
    case IMM_BLOCK:
      ins.blockResults = blockType(r);
      break;
    case IMM_LABEL:
    case IMM_INDEX:
      ins.index = r.u32();
      break;
    case IMM_BR_TABLE: {
      const n = r.u32();
      ins.targets.length = 0;
      for (let i = 0; i <= n; i++) ins.targets.push(r.u32());
      break;
    }
    case IMM_CALL_INDIRECT:
      ins.index = r.u32();
      if (r.u32() !== 0) invalid(`function ${fn}: reference types: call_indirect on a table other than 0`);
      break;
    case IMM_MEMARG:
      if (r.u32() >= 0x40) invalid(`function ${fn}: multiple memories`);
      r.u32();
      break;
    case IMM_MEMORY:
      if (r.u32() !== 0) invalid(`function ${fn}: multiple memories`);
      break;
    case IMM_I32:
      r.s32();
      break;
    case IMM_I64:
      r.skipS64();
      break;
  }
  ins.end = r.pos;
}
