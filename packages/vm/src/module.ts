import { I32, I64, isMethodName } from "./abi.ts";
import { Reader, Writer } from "./binary.ts";
import { VmError } from "./errors.ts";

// Structural decoding of a module restricted to WebAssembly 1.0 (plus sign-extension operators and
// exported mutable globals). Anything outside that subset is rejected here with the rule it breaks,
// even when V8 would accept it.

export interface FuncType {
  readonly params: readonly number[];
  readonly results: readonly number[];
}

export interface FuncImport {
  readonly module: string;
  readonly name: string;
  readonly typeIndex: number;
}

export interface Limits {
  readonly min: number;
  readonly max: number | undefined;
}

export interface Export {
  readonly name: string;
  readonly kind: number;
  readonly index: number;
}

export interface Segment {
  readonly offset: number;
  readonly length: number;
}

export interface Body {
  /** Offsets into the module bytes: the body (locals and code), without its size prefix. */
  readonly start: number;
  readonly end: number;
}

export interface WasmModule {
  readonly bytes: Uint8Array;
  readonly types: FuncType[];
  readonly imports: FuncImport[];
  /** Type index of each defined function. */
  readonly functions: number[];
  readonly tables: Limits[];
  readonly memories: Limits[];
  /** Raw global entries (type, mutability, init expression), and how many. */
  globalCount: number;
  globalEntries: Uint8Array;
  /** Indices of the mutable globals. */
  readonly mutableGlobals: number[];
  readonly exports: Export[];
  start: number | undefined;
  readonly elements: Segment[];
  readonly data: Segment[];
  readonly bodies: Body[];
  /** Raw payloads of the sections copied unchanged by the instrumenter. */
  readonly raw: Map<number, Uint8Array>;
}

export const SECTION_TYPE = 1;
export const SECTION_IMPORT = 2;
export const SECTION_FUNCTION = 3;
export const SECTION_TABLE = 4;
export const SECTION_MEMORY = 5;
export const SECTION_GLOBAL = 6;
export const SECTION_EXPORT = 7;
export const SECTION_START = 8;
export const SECTION_ELEMENT = 9;
export const SECTION_CODE = 10;
export const SECTION_DATA = 11;

export const KIND_FUNC = 0;
export const KIND_TABLE = 1;
export const KIND_MEMORY = 2;
export const KIND_GLOBAL = 3;

export const PAGE_BYTES = 65_536;

/** A name quoted for an error message (escapes control characters). */
export const q = (name: string): string => JSON.stringify(name);

/** An export section's payload. */
export function encodeExports(exports: readonly Export[]): Uint8Array {
  const w = new Writer().u32(exports.length);
  for (const e of exports) w.name(e.name).u8(e.kind).u32(e.index);
  return w.finish();
}

export function invalid(rule: string): never {
  throw new VmError("INVALID_MODULE", rule);
}

/** Reads a value type, naming the rule a non-integer type breaks. */
export function readValType(r: Reader, where: string): number {
  const t = r.u8();
  if (t === I32 || t === I64) return t;
  if (t === 0x7d || t === 0x7c) invalid(`floating point: ${t === 0x7d ? "f32" : "f64"} in ${where}`);
  if (t === 0x7b) invalid(`SIMD: v128 in ${where}`);
  return invalid(`reference types: type 0x${t.toString(16)} in ${where}`);
}

function readLimits(r: Reader, what: string): Limits {
  const flags = r.u8();
  if (flags === 0) return { min: r.u32(), max: undefined };
  if (flags === 1) {
    const min = r.u32();
    return { min, max: r.u32() };
  }
  if (flags === 2 || flags === 3) invalid(`threads: shared ${what}`);
  return invalid(`unsupported ${what} limits (flags 0x${flags.toString(16)}): 64-bit or other extensions`);
}

/** A constant expression of WebAssembly 1.0 without imported globals: one `t.const` and `end`. */
function readConstExpr(r: Reader, type: number, where: string): number {
  const op = r.u8();
  let value = 0;
  if (op === 0x41 && type === I32) value = r.s32();
  else if (op === 0x42 && type === I64) r.skipS64();
  else invalid(`${where}: only an ${type === I32 ? "i32" : "i64"}.const initializer is allowed`);
  if (r.u8() !== 0x0b) invalid(`${where}: only an ${type === I32 ? "i32" : "i64"}.const initializer is allowed`);
  return value;
}

function vector(r: Reader, each: (i: number) => void): number {
  const n = r.u32();
  for (let i = 0; i < n; i++) each(i);
  return n;
}

export function parseModule(bytes: Uint8Array): WasmModule {
  const r = new Reader(bytes);
  const magic = r.take(4);
  const version = r.take(4);
  if (magic.join() !== "0,97,115,109") invalid("not a WebAssembly module");
  if (version.join() !== "1,0,0,0") invalid("not WebAssembly version 1");
  const m: WasmModule = {
    bytes,
    types: [],
    imports: [],
    functions: [],
    tables: [],
    memories: [],
    globalCount: 0,
    globalEntries: new Uint8Array(0),
    mutableGlobals: [],
    exports: [],
    start: undefined,
    elements: [],
    data: [],
    bodies: [],
    raw: new Map(),
  };
  let lastId = 0;
  while (!r.eof()) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    const payload = r.take(size);
    const s = new Reader(bytes, start, start + size);
    if (id === 0) continue; // custom sections (names, producers, ...) are dropped
    if (id > SECTION_DATA) {
      if (id === 12) invalid("bulk memory: data count section");
      if (id === 13) invalid("exception handling: tag section");
      invalid(`unknown section ${id}`);
    }
    if (id <= lastId) invalid(`section ${id} out of order`);
    lastId = id;
    m.raw.set(id, payload);
    readSection(id, s, m);
    if (!s.eof()) invalid(`section ${id} has trailing bytes`);
  }
  if (m.functions.length !== m.bodies.length) invalid("function and code sections disagree");
  return m;
}

function readSection(id: number, s: Reader, m: WasmModule): void {
  switch (id) {
    case SECTION_TYPE:
      vector(s, (i) => {
        const form = s.u8();
        if (form !== 0x60) invalid(`type ${i}: only function types are allowed (GC and other proposals are not)`);
        const params: number[] = [];
        const results: number[] = [];
        vector(s, () => params.push(readValType(s, `type ${i} parameters`)));
        vector(s, () => results.push(readValType(s, `type ${i} results`)));
        if (results.length > 1) invalid(`multi-value: type ${i} has ${results.length} results`);
        m.types.push({ params, results });
      });
      return;
    case SECTION_IMPORT:
      vector(s, () => {
        const module = s.name();
        const name = s.name();
        const kind = s.u8();
        if (kind !== KIND_FUNC) {
          const what = ["function", "table", "memory", "global", "tag"][kind] ?? `kind ${kind}`;
          invalid(`import ${q(module)} ${q(name)}: imported ${what} (only host functions may be imported)`);
        }
        m.imports.push({ module, name, typeIndex: s.u32() });
      });
      return;
    case SECTION_FUNCTION:
      vector(s, () => m.functions.push(s.u32()));
      return;
    case SECTION_TABLE:
      vector(s, (i) => {
        const t = s.u8();
        if (t !== 0x70) invalid(`reference types: table ${i} is not a funcref table`);
        m.tables.push(readLimits(s, "table"));
      });
      return;
    case SECTION_MEMORY:
      vector(s, () => m.memories.push(readLimits(s, "memory")));
      return;
    case SECTION_GLOBAL: {
      const start = s.pos;
      m.globalCount = vector(s, (i) => {
        const type = readValType(s, `global ${i}`);
        const mut = s.u8();
        if (mut > 1) invalid(`global ${i}: bad mutability`);
        if (mut === 1) m.mutableGlobals.push(i);
        readConstExpr(s, type, `global ${i}`);
      });
      // The entries, without the count, so the instrumenter can append to them.
      const counted = new Reader(s.bytes, start, s.end);
      counted.u32();
      m.globalEntries = s.bytes.subarray(counted.pos, s.end);
      return;
    }
    case SECTION_EXPORT:
      vector(s, () => {
        const name = s.name();
        const kind = s.u8();
        if (kind > KIND_GLOBAL) invalid(`export ${q(name)}: unsupported export kind ${kind}`);
        m.exports.push({ name, kind, index: s.u32() });
      });
      return;
    case SECTION_START:
      m.start = s.u32();
      return;
    case SECTION_ELEMENT:
      vector(s, (i) => {
        const flags = s.u32();
        if (flags !== 0)
          invalid(`element segment ${i}: only active segments of table 0 (bulk memory, reference types)`);
        const offset = readConstExpr(s, I32, `element segment ${i} offset`);
        const length = vector(s, () => s.u32());
        m.elements.push({ offset: offset >>> 0, length });
      });
      return;
    case SECTION_CODE:
      vector(s, () => {
        const size = s.u32();
        const start = s.pos;
        s.take(size);
        m.bodies.push({ start, end: start + size });
      });
      return;
    case SECTION_DATA:
      vector(s, (i) => {
        const flags = s.u32();
        if (flags !== 0) invalid(`data segment ${i}: only active segments of memory 0 (bulk memory)`);
        const offset = readConstExpr(s, I32, `data segment ${i} offset`);
        const length = s.u32();
        s.take(length);
        m.data.push({ offset: offset >>> 0, length });
      });
      return;
  }
}

/** The type of every function in the index space, imports first. */
export function functionType(m: WasmModule, index: number): FuncType | undefined {
  const typeIndex = index < m.imports.length ? m.imports[index]?.typeIndex : m.functions[index - m.imports.length];
  return typeIndex === undefined ? undefined : m.types[typeIndex];
}

/** Methods: exported functions of type () -> () whose names match [a-z][A-Za-z0-9_]*. */
export function methodsOf(m: WasmModule): string[] {
  return m.exports
    .filter((e) => e.kind === KIND_FUNC && isMethodName(e.name))
    .filter((e) => {
      const t = functionType(m, e.index);
      return t !== undefined && t.params.length === 0 && t.results.length === 0;
    })
    .map((e) => e.name);
}
