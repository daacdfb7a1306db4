// `cairn contract ...`: the contract language toolchain (docs/contracts.md). `build` compiles an
// AssemblyScript contract with the flags that keep it inside Cairn's module rules and checks the
// result; `new` scaffolds a contract. The VM verifies every module again at deploy: the checks
// here exist to report a mistake at build time, with a message that says what to change.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { NodeError } from "../errors.ts";
import { printLine } from "./output.ts";

export interface BuildOptions {
  /** Output file (default: `<dir>/build/<name>.wasm`). */
  out?: string;
  /** Optimise with -O3 (default true); asserts stay in either way. */
  optimize?: boolean;
}

export interface BuildResult {
  wasm: Uint8Array;
  out: string;
  /** Exported methods, in export order. */
  methods: string[];
  /** Compiler warnings, empty when there were none. */
  diagnostics: string;
}

/** Largest memory a contract may declare, in 64 KiB pages. */
export const MAX_MEMORY_PAGES = 64;

/**
 * Every WebAssembly feature AssemblyScript 0.28 knows, all turned off: the output is a plain
 * WebAssembly 1.0 module (no bulk memory, no non-trapping float conversions, no sign-extension
 * opcodes, no SIMD, threads, reference types or multi-value).
 */
export const DISABLED_FEATURES = [
  "sign-extension",
  "mutable-globals",
  "nontrapping-f2i",
  "bulk-memory",
  "simd",
  "threads",
  "exception-handling",
  "tail-calls",
  "reference-types",
  "multi-value",
  "gc",
  "memory64",
  "relaxed-simd",
  "extended-const",
  "stringref",
  "shared-everything",
] as const;

/** The compiler flags `cairn contract build` passes, after the entry file. */
export function ascFlags(optimize: boolean): string[] {
  return [
    "--runtime",
    "stub",
    ...(optimize ? ["-O3"] : []),
    "--maximumMemory",
    String(MAX_MEMORY_PAGES),
    "--disable",
    DISABLED_FEATURES.join(","),
    "--noColors",
  ];
}

const METHOD_NAME = /^[a-z][A-Za-z0-9_]*$/;

/**
 * The node_modules directory that holds @cairn/contract-sdk, looked up from this file the way
 * Node resolves packages, so that a contract outside the repository still finds the SDK.
 */
function sdkSearchPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const nm = join(dir, "node_modules");
    if (existsSync(join(nm, "@cairn", "contract-sdk", "index.ts"))) return nm;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Compiles `<dir>/assembly/index.ts` into a Cairn contract module and writes it to `out`. */
export async function buildContract(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const root = resolve(dir);
  const entry = join("assembly", "index.ts");
  if (!existsSync(join(root, entry))) {
    throw new NodeError(
      "CONTRACT_NOT_FOUND",
      `${join(root, entry)} does not exist: a contract directory has its code in assembly/index.ts ` +
        "(start one with `cairn contract new <name>`)",
    );
  }
  const out = resolve(options.out ?? join(root, "build", `${basename(root)}.wasm`));
  // Loaded on demand: the compiler (with Binaryen) is large and only this command needs it.
  const { default: asc } = await import("assemblyscript/asc");
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  let wasm: Uint8Array | undefined;
  const sdk = sdkSearchPath();
  const argv = [entry, "--outFile", "contract.wasm", "--baseDir", root, ...ascFlags(options.optimize ?? true)];
  if (sdk !== undefined) argv.push("--path", relative(root, sdk) || ".");
  const result = await asc.main(argv, {
    stdout,
    stderr,
    // Kept in memory: only a module that passes the checks below is written out.
    writeFile: (name, contents) => {
      if (name.endsWith(".wasm") && contents instanceof Uint8Array) wasm = contents;
    },
  });
  const diagnostics = stderr.toString().trim();
  if (result.error !== null) {
    throw new NodeError(
      "CONTRACT_COMPILE_FAILED",
      `${diagnostics === "" ? result.error.message : diagnostics}\n` +
        `could not compile ${join(root, entry)}: fix the errors above and build again`,
      { cause: result.error },
    );
  }
  if (wasm === undefined) throw new NodeError("CONTRACT_COMPILE_FAILED", "the compiler produced no WebAssembly module");
  const { methods } = checkContractModule(wasm);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, wasm);
  return { wasm, out, methods, diagnostics };
}

// ---------------------------------------------------------------------------------------------
// Module check: a small reader of the WebAssembly binary format, enough to find what Cairn's
// rules forbid (docs/contracts.md) and to list the methods.

/** Imports a contract may have, with their signatures (host ABI v1). */
const ABI: Record<string, string> = {
  "cairn.input_len": "()->(i32)",
  "cairn.input_read": "(i32)->()",
  "cairn.buffer_read": "(i32)->()",
  "cairn.storage_get": "(i32,i32)->(i32)",
  "cairn.storage_has": "(i32,i32)->(i32)",
  "cairn.storage_set": "(i32,i32,i32,i32)->()",
  "cairn.storage_delete": "(i32,i32)->()",
  "cairn.storage_next": "(i32,i32,i32,i32)->(i32)",
  "cairn.caller": "(i32)->()",
  "cairn.block_height": "()->(i64)",
  "cairn.block_time": "()->(i64)",
  "cairn.emit": "(i32,i32,i32,i32)->()",
  "cairn.ret": "(i32,i32)->()",
  "cairn.fail": "(i32,i32,i32,i32)->()",
  "env.abort": "(i32,i32,i32,i32)->()",
};

const VALTYPES: Record<number, string> = { 127: "i32", 126: "i64", 125: "f32", 124: "f64" };

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;
  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Error("unexpected end of section");
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }
  /** Skips a signed LEB128 number of any width. */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

function invalid(message: string): NodeError {
  return new NodeError("CONTRACT_INVALID", `${message} (see the module rules in docs/contracts.md)`);
}

/** Where the module first uses a float; reported after the more specific problems. */
interface FloatUse {
  first?: string;
}

function valtype(b: number, where: string, floats: FloatUse): string {
  const t = VALTYPES[b];
  if (t === undefined) throw invalid(`${where} uses the value type 0x${b.toString(16)}: only i32 and i64 are allowed`);
  if ((t === "f32" || t === "f64") && floats.first === undefined) floats.first = `${where} uses ${t}`;
  return t;
}

/** Opcodes (single byte) that operate on f32/f64 values. */
function isFloatOpcode(op: number): boolean {
  return (
    op === 0x2a ||
    op === 0x2b ||
    op === 0x38 ||
    op === 0x39 ||
    op === 0x43 ||
    op === 0x44 ||
    (op >= 0x5b && op <= 0x66) ||
    (op >= 0x8b && op <= 0xa6) ||
    (op >= 0xa8 && op <= 0xab) ||
    (op >= 0xae && op <= 0xbf)
  );
}

// Prefix bytes 0xfb..0xfe of the post-1.0 instruction families.
const PREFIXES: Record<number, string> = {
  251: "garbage-collection",
  252: "bulk-memory or saturating float conversion",
  253: "SIMD",
  254: "threads (atomics)",
};

function scanBody(r: Reader, fn: number, floats: FloatUse): void {
  const where = `function ${fn}`;
  for (let groups = r.u32(); groups > 0; groups--) {
    r.u32();
    valtype(r.byte(), `a local of ${where}`, floats);
  }
  while (r.pos < r.end) {
    const op = r.byte();
    const prefix = PREFIXES[op];
    if (prefix !== undefined) throw invalid(`${where} uses a ${prefix} instruction (prefix 0x${op.toString(16)})`);
    if (isFloatOpcode(op) && floats.first === undefined)
      floats.first = `${where} uses a float instruction (opcode 0x${op.toString(16)})`;
    if (op === 0x02 || op === 0x03 || op === 0x04) {
      const bt = r.bytes[r.pos]!;
      if (bt === 0x40) r.pos++;
      else if (VALTYPES[bt] !== undefined || bt >= 0x6f) valtype(r.byte(), `a block in ${where}`, floats);
      else throw invalid(`${where} has a multi-value block`);
    } else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x24)) {
      r.u32();
    } else if (op === 0x0e) {
      for (let n = r.u32() + 1; n > 0; n--) r.u32();
    } else if (op === 0x11) {
      r.u32();
      if (r.u32() !== 0) throw invalid(`${where} uses a second table (reference types)`);
    } else if (op >= 0x28 && op <= 0x3e) {
      r.u32();
      r.u32();
    } else if (op === 0x3f || op === 0x40) {
      r.byte();
    } else if (op === 0x41 || op === 0x42) {
      r.skipLeb();
    } else if (op === 0x43 || op === 0x44) {
      r.pos += op === 0x43 ? 4 : 8;
    } else if (op === 0x12 || op === 0x13) {
      throw invalid(`${where} uses a tail call`);
    } else if (op === 0x1c || op === 0x25 || op === 0x26 || (op >= 0xd0 && op <= 0xd2)) {
      throw invalid(`${where} uses a reference-types instruction (opcode 0x${op.toString(16)})`);
    } else if (
      !(
        op <= 0x01 ||
        op === 0x05 ||
        op === 0x0b ||
        op === 0x0f ||
        op === 0x1a ||
        op === 0x1b ||
        (op >= 0x45 && op <= 0xc4)
      )
    ) {
      throw invalid(`${where} uses the opcode 0x${op.toString(16)}, which is not WebAssembly 1.0`);
    }
  }
}

/**
 * Checks a compiled module against Cairn's rules as far as the compiler controls them: valid
 * WebAssembly, no floats, no post-1.0 instructions, only ABI v1 imports, one exported memory with
 * a maximum of at most 64 pages, and every exported function a method `() -> ()` with a
 * `[a-z][A-Za-z0-9_]*` name. Returns the methods; throws NodeError("CONTRACT_INVALID").
 */
export function checkContractModule(wasm: Uint8Array): { methods: string[] } {
  if (!WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)) throw invalid("the module is not valid WebAssembly");
  const types: string[] = [];
  const funcTypes: number[] = [];
  const methods: string[] = [];
  let memories = 0;
  let memoryExported = false;
  let importedFuncs = 0;
  const floats: FloatUse = {};
  let pos = 8;
  try {
    while (pos < wasm.length) {
      const head = new Reader(wasm, pos, wasm.length);
      const id = head.byte();
      const size = head.u32();
      const r = new Reader(wasm, head.pos, head.pos + size);
      pos = r.end;
      if (id === 1) {
        for (let n = r.u32(), i = 0; i < n; i++) {
          if (r.byte() !== 0x60) throw invalid(`type ${i} is not a function type`);
          const params = Array.from({ length: r.u32() }, () => valtype(r.byte(), `type ${i}`, floats));
          const results = Array.from({ length: r.u32() }, () => valtype(r.byte(), `type ${i}`, floats));
          if (results.length > 1) throw invalid(`type ${i} has several results (multi-value)`);
          types.push(`(${params.join(",")})->(${results.join(",")})`);
        }
      } else if (id === 2) {
        for (let n = r.u32(); n > 0; n--) {
          const name = `${r.name()}.${r.name()}`;
          const kind = r.byte();
          if (kind !== 0)
            throw invalid(`the module imports ${name}, which is not a function: contracts import only functions`);
          const type = r.u32();
          const sig = types[type];
          const want = ABI[name];
          if (want === undefined) {
            throw invalid(
              `the module imports ${name}, which is not part of the host ABI (often a standard library ` +
                "feature Cairn does not offer: console, Math.random, Date, process, trace)",
            );
          }
          if (sig !== want) throw invalid(`the import ${name} has the signature ${sig}; the host ABI has ${want}`);
          funcTypes.push(type);
          importedFuncs++;
        }
      } else if (id === 3) {
        for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
      } else if (id === 5) {
        for (let n = r.u32(); n > 0; n--) {
          memories++;
          const flags = r.byte();
          r.u32();
          if (flags & 2) throw invalid("the memory is shared (threads)");
          if (flags & 4) throw invalid("the memory is a 64-bit memory (memory64)");
          if (!(flags & 1)) throw invalid("the memory declares no maximum");
          const max = r.u32();
          if (max > MAX_MEMORY_PAGES)
            throw invalid(`the memory maximum is ${max} pages; at most ${MAX_MEMORY_PAGES} are allowed`);
        }
      } else if (id === 6) {
        for (let n = r.u32(), i = 0; i < n; i++) {
          valtype(r.byte(), `global ${i}`, floats);
          r.byte();
          // The initialiser is a constant expression; floats in it would be f32/f64.const.
          for (let op = r.byte(); op !== 0x0b; op = r.byte()) {
            if (op === 0x41 || op === 0x42) r.skipLeb();
            else if (op === 0x43 || op === 0x44) r.pos += op === 0x43 ? 4 : 8;
            else if (op === 0x23) r.u32();
            else throw invalid(`global ${i} has a non-integer initialiser (opcode 0x${op.toString(16)})`);
          }
        }
      } else if (id === 7) {
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name();
          const kind = r.byte();
          const index = r.u32();
          if (name.startsWith("cairn_"))
            throw invalid(`the export "${name}" uses the prefix cairn_, which the VM reserves`);
          if (kind === 2 && name === "memory") memoryExported = true;
          if (kind !== 0) continue;
          const sig = types[funcTypes[index] ?? -1];
          if (sig !== "()->()") {
            throw invalid(
              `the exported function "${name}" has the signature ${sig}: a method takes no parameters and returns ` +
                "nothing (read arguments with Args.read(), return with returnValue())",
            );
          }
          if (!METHOD_NAME.test(name)) throw invalid(`the method name "${name}" does not match [a-z][A-Za-z0-9_]*`);
          methods.push(name);
        }
      } else if (id === 10) {
        for (let n = r.u32(), i = 0; i < n; i++) {
          const size = r.u32();
          scanBody(new Reader(wasm, r.pos, r.pos + size), importedFuncs + i, floats);
          r.pos += size;
        }
      }
    }
  } catch (e) {
    if (e instanceof NodeError) throw e;
    throw invalid(`the module could not be read: ${(e as Error).message}`);
  }
  if (floats.first !== undefined) {
    throw invalid(
      `the module uses floating point (${floats.first}): use integer types (i32, i64, u32, u64). ` +
        "In AssemblyScript `number` is f64, and fractional literals, Math.* and parseFloat are floats",
    );
  }
  if (memories !== 1 || !memoryExported) throw invalid('a contract has exactly one memory, exported as "memory"');
  if (methods.length === 0) {
    throw invalid(
      "the module exports no methods: export at least one `export function name(): void` from assembly/index.ts",
    );
  }
  return { methods };
}

// ---------------------------------------------------------------------------------------------
// Scaffolding

const CONTRACT_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

function templateContract(name: string): string {
  return `// ${name}: a Cairn contract in AssemblyScript. Each exported \`function x(): void\` is a method;
// it reads its arguments with Args.read() and answers with returnValue().
import { Args, context, emit, require, returnValue, storage, utf8, Writer } from "@cairn/contract-sdk";

function counterKey(): Uint8Array {
  return utf8("counter");
}

/** increment(by: u64) -> u64: adds \`by\` to the counter and returns the new value. */
export function increment(): void {
  const args = Args.read();
  const by = args.u64();
  args.done();
  const value = storage.getU64(counterKey());
  // A failed require() (or fail()) aborts the call: its writes are dropped, its code is reported.
  require(by <= u64.MAX_VALUE - value, "OVERFLOW", "the counter would pass 2^64-1");
  const next = value + by;
  storage.setU64(counterKey(), next);
  emit("incremented", new Writer().array(2).bytes(context.caller()).u64(next));
  returnValue(new Writer().u64(next));
}

/** get() -> u64: the counter. */
export function get(): void {
  Args.read().done();
  returnValue(new Writer().u64(storage.getU64(counterKey())));
}

/** greet(name: str) -> str */
export function greet(): void {
  const args = Args.read();
  const who = args.str();
  args.done();
  returnValue(new Writer().str("Hello, " + who + "!"));
}
`;
}

function templateTsconfig(): string {
  return `${JSON.stringify({ extends: "assemblyscript/std/assembly.json", include: ["./**/*.ts"] }, null, 2)}\n`;
}

function templateReadme(name: string): string {
  return `# ${name}

A Cairn smart contract written in [AssemblyScript](https://www.assemblyscript.org/) with
\`@cairn/contract-sdk\` (see docs/contracts.md in the Cairn repository for the host interface and
the module rules).

| Method | Arguments | Returns |
|---|---|---|
| \`increment\` | \`by: u64\` | the new counter (u64); emits \`incremented\` [caller, value] |
| \`get\` | | the counter (u64) |
| \`greet\` | \`name: str\` | \`"Hello, <name>!"\` |

## Build

    cairn contract build ${name}

writes \`${name}/build/${name}.wasm\` and lists the methods. The build uses AssemblyScript's stub
runtime and turns off every WebAssembly feature Cairn's rules forbid (floats are rejected too).

## Test

    npx vitest run --root ${name}

The test (\`test/${name}.test.ts\`) builds the contract with \`buildContract\` from \`@cairn/node\` and
runs its methods in \`@cairn/vm\` against an in-memory host. It imports \`@cairn/node\`,
\`@cairn/vm\` and \`@cairn/messaging\`, so keep the contract inside the Cairn repository (for
example under \`packages/contract-examples/contracts/\`) or in a project that depends on them.

## Deploy

Deploy \`build/${name}.wasm\` to a running chain with \`cairn contract deploy\`; the node verifies
the module and instruments it with gas metering at deploy.
`;
}

function templateTest(name: string): string {
  return `import { fileURLToPath } from "node:url";
import { decode, encode, type Value } from "@cairn/messaging";
import { buildContract } from "@cairn/node";
import { createMemoryHost, createVm, prepareContract } from "@cairn/vm";
import { beforeAll, describe, expect, it } from "vitest";

const dir = fileURLToPath(new URL("..", import.meta.url));
let prepared: ReturnType<typeof prepareContract>;

beforeAll(async () => {
  const { wasm } = await buildContract(dir);
  prepared = prepareContract(wasm);
});

describe("${name}", () => {
  it("counts and greets", () => {
    const vm = createVm();
    const host = createMemoryHost();
    const call = (method: string, args: Value[]) =>
      vm.call({ ...prepared, method, input: encode(args), gasLimit: 10_000_000, host });
    const first = call("increment", [2]);
    expect(first.ok).toBe(true);
    if (first.ok) expect(decode(first.output)).toBe(2);
    const read = call("get", []);
    expect(read.ok && decode(read.output)).toBe(2);
    const hello = call("greet", ["Cairn"]);
    expect(hello.ok && decode(hello.output)).toBe("Hello, Cairn!");
    const bad = call("increment", ["two"]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.code).toBe("BAD_ARGS");
  });
});
`;
}

/** Creates `<dir>/<name>/`: a small contract, its tsconfig, a README, a test with its vitest config, a .gitignore. */
export async function scaffoldContract(name: string, dir: string): Promise<string> {
  if (!CONTRACT_NAME.test(name)) {
    throw new NodeError(
      "BAD_CONTRACT_NAME",
      `a contract name is lower-case letters, digits, "-" and "_", starting with a letter; got "${name}"`,
    );
  }
  const root = resolve(dir, name);
  if (existsSync(root)) throw new NodeError("CONTRACT_EXISTS", `${root} already exists; choose another name or --dir`);
  await mkdir(join(root, "assembly"), { recursive: true });
  await mkdir(join(root, "test"), { recursive: true });
  await writeFile(join(root, "assembly", "index.ts"), templateContract(name));
  await writeFile(join(root, "assembly", "tsconfig.json"), templateTsconfig());
  await writeFile(join(root, "README.md"), templateReadme(name));
  await writeFile(join(root, ".gitignore"), "build/\n");
  // Its own vitest config, so that `vitest --root <dir>` finds test/ wherever the contract lives.
  await writeFile(join(root, "vitest.config.ts"), 'export default { test: { include: ["test/**/*.test.ts"] } };\n');
  await writeFile(join(root, "test", `${name}.test.ts`), templateTest(name));
  return root;
}

// ---------------------------------------------------------------------------------------------
// CLI

/** Registers the `contract` command group; returns it so that further subcommands can join it. */
export function contractCommands(program: Command): Command {
  const contract = program.command("contract").description("write, build and deploy AssemblyScript contracts");
  contract
    .command("build")
    .description("compile DIR/assembly/index.ts into a contract module and check it against Cairn's rules")
    .argument("<dir>", "contract directory (see `cairn contract new`)")
    .option("--out <file>", "output file (default: DIR/build/<name>.wasm)")
    .option("--no-optimize", "skip Binaryen's optimisations (faster build, larger module)")
    .action(async (dir: string, o: { out?: string; optimize: boolean }) => {
      const r = await buildContract(dir, { optimize: o.optimize, ...(o.out === undefined ? {} : { out: o.out }) });
      if (r.diagnostics !== "") process.stderr.write(`${r.diagnostics}\n`);
      printLine(`Built ${r.out} (${r.wasm.length} bytes)`);
      printLine(`  methods: ${r.methods.join(", ")}`);
    });
  contract
    .command("new")
    .description("create a contract project: DIR/NAME/assembly/index.ts, a README and a test")
    .argument("<name>", "contract name: lower-case letters, digits, - and _")
    .option("--dir <dir>", "parent directory", ".")
    .action(async (name: string, o: { dir: string }) => {
      const root = await scaffoldContract(name, o.dir);
      printLine(`Created ${root}`);
      printLine(`  build it:  cairn contract build ${join(o.dir, name)}`);
      printLine(`  test it:   npx vitest run --root ${join(o.dir, name)}`);
    });
  return contract;
}
