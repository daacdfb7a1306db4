import { expectedSignature, MEMORY_EXPORT, RESERVED_EXPORT_PREFIX } from "./abi.ts";
import { Reader } from "./binary.ts";
import {
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
  OP_IF,
  OP_LOOP,
  OP_RETURN,
  OP_UNREACHABLE,
  readInstr,
} from "./instructions.ts";
import {
  type FuncType,
  functionType,
  invalid,
  KIND_MEMORY,
  methodsOf,
  PAGE_BYTES,
  parseModule,
  q,
  readValType,
  type WasmModule,
} from "./module.ts";
import type { VmLimits } from "./options.ts";

// Verification: the rules of docs/contracts.md checked on every node at deploy.

export interface ValidatedModule {
  readonly module: WasmModule;
  /** Stack slots each defined function's frame takes (the call-depth bound charges these). */
  readonly frameSlots: readonly number[];
  readonly methods: readonly string[];
}

const sameSignature = (a: FuncType, b: { params: readonly number[]; results: readonly number[] }): boolean =>
  a.params.length === b.params.length &&
  a.results.length === b.results.length &&
  a.params.every((t, i) => t === b.params[i]) &&
  a.results.every((t, i) => t === b.results[i]);

export function validateModule(bytes: Uint8Array, limits: VmLimits): ValidatedModule {
  if (bytes.length > limits.maxCodeBytes) {
    invalid(`module is ${bytes.length} bytes, more than the ${limits.maxCodeBytes} allowed`);
  }
  if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) invalid("not a valid WebAssembly module");
  const m = parseModule(bytes);

  for (const imp of m.imports) {
    const expected = expectedSignature(imp.module, imp.name);
    if (expected === undefined) invalid(`import ${q(imp.module)} ${q(imp.name)} is not a host function`);
    const actual = m.types[imp.typeIndex];
    if (actual === undefined || !sameSignature(actual, expected)) {
      invalid(`import ${q(imp.module)} ${q(imp.name)} has the wrong signature`);
    }
  }

  const totalFunctions = m.imports.length + m.functions.length;
  if (totalFunctions > limits.maxFunctions) invalid(`${totalFunctions} functions, more than ${limits.maxFunctions}`);
  if (m.globalCount > limits.maxGlobals) invalid(`${m.globalCount} globals, more than ${limits.maxGlobals}`);

  if (m.tables.length > 1) invalid("more than one table");
  const table = m.tables[0];
  if (table !== undefined) {
    if (table.min > limits.maxTableEntries || (table.max !== undefined && table.max > limits.maxTableEntries)) {
      invalid(`table larger than ${limits.maxTableEntries} entries`);
    }
  }

  if (m.memories.length !== 1) invalid("exactly one memory is required");
  const memory = m.memories[0]!;
  if (memory.max === undefined) invalid("memory declares no maximum");
  if (memory.max > limits.maxMemoryPages) invalid(`memory maximum above ${limits.maxMemoryPages} pages`);

  for (const e of m.exports) {
    if (e.name.startsWith(RESERVED_EXPORT_PREFIX)) invalid(`export ${q(e.name)}: the "cairn_" prefix is reserved`);
  }
  if (!m.exports.some((e) => e.name === MEMORY_EXPORT && e.kind === KIND_MEMORY && e.index === 0)) {
    invalid('memory is not exported as "memory"');
  }

  for (const [i, seg] of m.elements.entries()) {
    if (table === undefined || seg.offset + seg.length > table.min) invalid(`element segment ${i} out of bounds`);
  }
  for (const [i, seg] of m.data.entries()) {
    if (seg.offset + seg.length > memory.min * PAGE_BYTES) invalid(`data segment ${i} out of bounds`);
  }

  const ins = newInstr();
  const frameSlots = m.bodies.map((_, i) => checkBody(m, i, limits, ins));

  return { module: m, frameSlots, methods: methodsOf(m) };
}

/**
 * Checks every instruction of a defined function and returns its frame size in stack slots:
 * 4 + parameters + locals + the operand stack's maximum height (so a frame's real native size is
 * bounded by what the call-depth counter charges).
 */
function checkBody(m: WasmModule, defined: number, limits: VmLimits, ins: Instr): number {
  const fn = m.imports.length + defined;
  const body = m.bodies[defined]!;
  const type = m.types[m.functions[defined]!];
  if (type === undefined) invalid(`function ${fn} has no type`);
  const r = new Reader(m.bytes, body.start, body.end);
  let locals = 0;
  const groups = r.u32();
  for (let g = 0; g < groups; g++) {
    locals += r.u32();
    readValType(r, `function ${fn} locals`);
    if (locals > limits.maxLocals) invalid(`function ${fn} declares more than ${limits.maxLocals} locals`);
  }

  // Control frames: the operand height at entry and the result count. After an unconditional
  // branch the stack is polymorphic: popping then stops at the frame's entry height.
  const frameHeight: number[] = [0];
  const frameResults: number[] = [type.results.length];
  let height = 0;
  let max = 0;
  const top = () => frameHeight.length - 1;
  const pop = (n: number) => {
    const floor = frameHeight[top()]!;
    height = Math.max(floor, height - n);
  };
  const push = (n: number) => {
    height += n;
    if (height > max) max = height;
  };
  const kill = () => {
    height = frameHeight[top()]!;
  };
  const callee = (t: FuncType | undefined) => {
    if (t === undefined) invalid(`function ${fn}: call to an unknown function or type`);
    pop(t.params.length);
    push(t.results.length);
  };

  while (frameHeight.length > 0) {
    readInstr(r, ins, fn);
    switch (ins.op) {
      case OP_BLOCK:
      case OP_LOOP:
      case OP_IF:
        pop(ins.pops);
        frameHeight.push(height);
        frameResults.push(ins.blockResults);
        break;
      case OP_ELSE:
        height = frameHeight[top()]!;
        break;
      case OP_END:
        height = frameHeight.pop()! + frameResults.pop()!;
        if (height > max) max = height;
        break;
      case OP_BR:
      case OP_RETURN:
      case OP_UNREACHABLE:
        kill();
        break;
      case OP_BR_TABLE:
        pop(1);
        kill();
        break;
      case OP_BR_IF:
        pop(1);
        break;
      case OP_CALL:
        callee(functionType(m, ins.index));
        break;
      case OP_CALL_INDIRECT:
        pop(1);
        callee(m.types[ins.index]);
        break;
      default:
        pop(ins.pops);
        push(ins.pushes);
    }
  }
  if (!r.eof()) invalid(`function ${fn}: code after the end of the body`);
  return 4 + type.params.length + locals + max;
}
