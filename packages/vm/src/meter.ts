import { GAS_EXPORT, I32, I64, START_EXPORT, STATUS_EXPORT, STATUS_OUT_OF_GAS, STATUS_STACK_OVERFLOW } from "./abi.ts";
import { Reader, Writer } from "./binary.ts";
import { VmError } from "./errors.ts";
import {
  BLOCK_EMPTY,
  type Instr,
  newInstr,
  OP_BLOCK,
  OP_BR,
  OP_BR_IF,
  OP_BR_TABLE,
  OP_CALL,
  OP_CALL_INDIRECT,
  OP_ELSE,
  OP_END,
  OP_GLOBAL_GET,
  OP_GLOBAL_SET,
  OP_I32_ADD,
  OP_I32_CONST,
  OP_I32_GT_U,
  OP_I32_SUB,
  OP_I64_CONST,
  OP_I64_EXTEND_I32_U,
  OP_I64_LT_S,
  OP_I64_MUL,
  OP_I64_SUB,
  OP_IF,
  OP_LOCAL_GET,
  OP_LOOP,
  OP_MEMORY_GROW,
  OP_RETURN,
  OP_UNREACHABLE,
  readInstr,
} from "./instructions.ts";
import {
  encodeExports,
  invalid,
  KIND_FUNC,
  KIND_GLOBAL,
  SECTION_CODE,
  SECTION_DATA,
  SECTION_ELEMENT,
  SECTION_EXPORT,
  SECTION_FUNCTION,
  SECTION_GLOBAL,
  SECTION_IMPORT,
  SECTION_MEMORY,
  SECTION_TABLE,
  SECTION_TYPE,
  type WasmModule,
} from "./module.ts";
import type { GasCosts, VmLimits } from "./options.ts";
import type { ValidatedModule } from "./validate.ts";

// Gas metering and the stack bound, after Parity's wasm-instrument (gas_metering::mutable_global
// and stack_limiter). Original function, global and type indices never move: the injected globals,
// the memory.grow helper and its type are appended after the module's own.

/**
 * The engines' limit on one function body (V8's kV8MaxWasmFunctionSize, shared by the JS API's
 * implementation limits). Metering can grow dense code about tenfold, so it is checked here with
 * a rule's message rather than discovered as a compile failure.
 */
const MAX_FUNCTION_BYTES = 7_654_321;

interface Context {
  readonly m: WasmModule;
  readonly costs: GasCosts;
  readonly maxStackSlots: number;
  readonly gas: number;
  readonly status: number;
  readonly stack: number;
  readonly growFunction: number;
  usesGrow: boolean;
}

/** `status = value; unreachable` when the i32 on the stack is non-zero. */
function trapIf(w: Writer, ctx: Context, status: number): void {
  w.u8(OP_IF).u8(BLOCK_EMPTY);
  w.u8(OP_I32_CONST).sleb(status).u8(OP_GLOBAL_SET).u32(ctx.status);
  w.u8(OP_UNREACHABLE).u8(OP_END);
}

/** Charges the gas of the metered block that follows; returns where its cost is patched in. */
function charge(w: Writer, ctx: Context): number {
  w.u8(OP_GLOBAL_GET).u32(ctx.gas).u8(OP_I64_CONST);
  const at = w.placeholder();
  w.u8(OP_I64_SUB).u8(OP_GLOBAL_SET).u32(ctx.gas);
  outOfGasCheck(w, ctx);
  return at;
}

function outOfGasCheck(w: Writer, ctx: Context): void {
  w.u8(OP_GLOBAL_GET).u32(ctx.gas).u8(OP_I64_CONST).sleb(0).u8(OP_I64_LT_S);
  trapIf(w, ctx, STATUS_OUT_OF_GAS);
}

function stackEnter(w: Writer, ctx: Context, slots: number): void {
  w.u8(OP_GLOBAL_GET).u32(ctx.stack).u8(OP_I32_CONST).sleb(slots).u8(OP_I32_ADD).u8(OP_GLOBAL_SET).u32(ctx.stack);
  w.u8(OP_GLOBAL_GET).u32(ctx.stack).u8(OP_I32_CONST).sleb(ctx.maxStackSlots).u8(OP_I32_GT_U);
  trapIf(w, ctx, STATUS_STACK_OVERFLOW);
}

function stackLeave(w: Writer, ctx: Context, slots: number): void {
  w.u8(OP_GLOBAL_GET).u32(ctx.stack).u8(OP_I32_CONST).sleb(slots).u8(OP_I32_SUB).u8(OP_GLOBAL_SET).u32(ctx.stack);
}

/**
 * Rewrites one body. The original code is wrapped in a block typed like the function, so every way
 * out (falling off the end, a branch to the outermost label) passes the stack epilogue after it;
 * `return` gets the epilogue in front of it. A metered block starts at entry and after every
 * block, loop, if, else, end, br, br_if, br_table, return, call and call_indirect: nothing can
 * jump into the middle of one, so charging its whole cost at its start is exact up to a trap.
 */
function rewriteBody(ctx: Context, defined: number, slots: number, ins: Instr): Uint8Array {
  const { m, costs } = ctx;
  const fn = m.imports.length + defined;
  const body = m.bodies[defined]!;
  const type = m.types[m.functions[defined]!]!;
  const r = new Reader(m.bytes, body.start, body.end);
  const w = new Writer();
  const groups = r.u32();
  for (let g = 0; g < groups; g++) {
    r.u32();
    r.u8();
  }
  w.bytes(m.bytes.subarray(body.start, r.pos));

  stackEnter(w, ctx, slots);
  w.u8(OP_BLOCK).u8(type.results[0] ?? BLOCK_EMPTY);
  let patchAt = charge(w, ctx);
  let cost = 0;
  let depth = 0;
  for (;;) {
    readInstr(r, ins, fn);
    const op = ins.op;
    cost += op === OP_CALL || op === OP_CALL_INDIRECT ? costs.call : costs.instruction;
    if (op === OP_MEMORY_GROW) {
      w.u8(OP_CALL).u32(ctx.growFunction);
      ctx.usesGrow = true;
      continue;
    }
    if (op === OP_RETURN) stackLeave(w, ctx, slots);
    w.bytes(m.bytes.subarray(ins.start, ins.end));
    if (op === OP_BLOCK || op === OP_LOOP || op === OP_IF) depth++;
    else if (op === OP_END) {
      if (depth === 0) break;
      depth--;
    } else if (
      op !== OP_ELSE &&
      op !== OP_BR &&
      op !== OP_BR_IF &&
      op !== OP_BR_TABLE &&
      op !== OP_RETURN &&
      op !== OP_CALL &&
      op !== OP_CALL_INDIRECT
    ) {
      continue;
    }
    w.patch(patchAt, cost);
    cost = 0;
    patchAt = charge(w, ctx);
  }
  w.patch(patchAt, cost);
  stackLeave(w, ctx, slots);
  w.u8(OP_END);
  if (w.length > MAX_FUNCTION_BYTES) invalid(`function ${fn} is too large once instrumented`);
  return w.finish();
}

/** (pages: i32) -> i32: charges pages × memoryGrowPage, then grows. */
function growBody(ctx: Context): Uint8Array {
  const w = new Writer();
  w.u32(0); // no locals
  w.u8(OP_GLOBAL_GET).u32(ctx.gas);
  w.u8(OP_LOCAL_GET).u32(0).u8(OP_I64_EXTEND_I32_U);
  w.u8(OP_I64_CONST).sleb(ctx.costs.memoryGrowPage).u8(OP_I64_MUL);
  w.u8(OP_I64_SUB).u8(OP_GLOBAL_SET).u32(ctx.gas);
  outOfGasCheck(w, ctx);
  w.u8(OP_LOCAL_GET).u32(0).u8(OP_MEMORY_GROW).u8(0x00);
  w.u8(OP_END);
  return w.finish();
}

export function instrument(v: ValidatedModule, costs: GasCosts, limits: VmLimits): Uint8Array {
  const m = v.module;
  const ctx: Context = {
    m,
    costs,
    maxStackSlots: limits.maxStackSlots,
    gas: m.globalCount,
    status: m.globalCount + 1,
    stack: m.globalCount + 2,
    growFunction: m.imports.length + m.functions.length,
    usesGrow: false,
  };
  const ins = newInstr();
  const bodies = m.bodies.map((_, i) => rewriteBody(ctx, i, v.frameSlots[i]!, ins));

  const types = [...m.types];
  const functions = [...m.functions];
  if (ctx.usesGrow) {
    let growType = types.findIndex(
      (t) => t.params.length === 1 && t.params[0] === I32 && t.results.length === 1 && t.results[0] === I32,
    );
    if (growType < 0) growType = types.push({ params: [I32], results: [I32] }) - 1;
    functions.push(growType);
    bodies.push(growBody(ctx));
  }

  const out = new Writer();
  out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));

  const typeSec = new Writer().u32(types.length);
  for (const t of types) {
    typeSec.u8(0x60).u32(t.params.length);
    for (const p of t.params) typeSec.u8(p);
    typeSec.u32(t.results.length);
    for (const p of t.results) typeSec.u8(p);
  }
  out.section(SECTION_TYPE, typeSec.finish());
  out.section(SECTION_IMPORT, m.raw.get(SECTION_IMPORT));

  const funcSec = new Writer().u32(functions.length);
  for (const f of functions) funcSec.u32(f);
  out.section(SECTION_FUNCTION, funcSec.finish());
  out.section(SECTION_TABLE, m.raw.get(SECTION_TABLE));
  out.section(SECTION_MEMORY, m.raw.get(SECTION_MEMORY));

  const globalSec = new Writer().u32(m.globalCount + 3).bytes(m.globalEntries);
  globalSec.u8(I64).u8(1).u8(OP_I64_CONST).sleb(0).u8(OP_END); // cairn_gas
  globalSec.u8(I32).u8(1).u8(OP_I32_CONST).sleb(0).u8(OP_END); // cairn_status
  globalSec.u8(I32).u8(1).u8(OP_I32_CONST).sleb(0).u8(OP_END); // stack slots in use
  out.section(SECTION_GLOBAL, globalSec.finish());

  // The start function would run inside instantiation, before the host sets the gas: it is
  // exported instead and the engine calls it, metered, before the method.
  const exports = [
    ...m.exports,
    { name: GAS_EXPORT, kind: KIND_GLOBAL, index: ctx.gas },
    { name: STATUS_EXPORT, kind: KIND_GLOBAL, index: ctx.status },
    ...(m.start === undefined ? [] : [{ name: START_EXPORT, kind: KIND_FUNC, index: m.start }]),
  ];
  out.section(SECTION_EXPORT, encodeExports(exports));
  out.section(SECTION_ELEMENT, m.raw.get(SECTION_ELEMENT));

  const codeSec = new Writer().u32(bodies.length);
  for (const b of bodies) codeSec.sized(b);
  out.section(SECTION_CODE, codeSec.finish());
  out.section(SECTION_DATA, m.raw.get(SECTION_DATA));

  const code = out.finish();
  if (!WebAssembly.validate(code as Uint8Array<ArrayBuffer>)) {
    throw new VmError("INVALID_MODULE", "instrumentation produced an invalid module");
  }
  return code;
}
