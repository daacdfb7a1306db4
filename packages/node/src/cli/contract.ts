// `cairn contract ...`: the contract language toolchain (docs/contracts.md). `build` compiles an
// AssemblyScript contract with the flags that keep it inside Cairn's module rules and checks the
// result with the VM's own verifier (the check every node runs at deploy), adding advice on what to
// change; `new` scaffolds a contract.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultVmLimits, HOST_FUNCTIONS, prepareContract, VmError } from "@cairn/vm";
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

/** Largest memory a contract may declare, in 64 KiB pages (the VM's limit). */
export const MAX_MEMORY_PAGES = defaultVmLimits.maxMemoryPages;

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
  // Absolute: asc mis-resolves a relative --path that climbs out of baseDir into a sibling tree.
  if (sdk !== undefined) argv.push("--path", sdk);
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
// Module check: the chain's own verifier (`prepareContract` from @cairn/vm, the one every node
// runs at deploy), with advice on what to change in an AssemblyScript contract or its build.

const FLOAT_ADVICE =
  "use integer types (i32, i64, u32, u64). In AssemblyScript `number` is f64, and floats also come " +
  "from fractional literals, Math.* (Math.random, Math.floor, ...), Date, and string<->number " +
  "conversions (parseInt and parseFloat return f64, as does a `number` in a template literal: use " +
  "i32.parse / u64.parse and toString() of an integer)";

const FEATURE_ADVICE =
  "build with `cairn contract build`, which turns off every WebAssembly feature past 1.0; a 0xFC " +
  "instruction also comes from a saturating float-to-int conversion (nontrapping-f2i)";

const MEMORY_LIMIT_ADVICE = `\`cairn contract build\` passes --maximumMemory ${MAX_MEMORY_PAGES}: keep that limit`;

const MEMORY_ADVICE =
  "AssemblyScript defines and exports one memory unless it is built with --importMemory, " +
  "--noExportMemory or --sharedMemory: build with `cairn contract build`";

const IMPORT_ADVICE = "declare host functions through @cairn/contract-sdk rather than with your own @external";

const valtypeName = (t: number): string => (t === 0x7e ? "i64" : t === 0x7f ? "i32" : `0x${t.toString(16)}`);

/**
 * Advice for the VM's rule messages (packages/vm/src/validate.ts, module.ts, instructions.ts),
 * matched on their wording, first match wins. A message without advice is reported as it is.
 */
const ADVICE: readonly [RegExp, (m: RegExpMatchArray) => string][] = [
  [/floating point/, () => FLOAT_ADVICE],
  [
    /^import "[^"]*" "[^"]*" is not a host function/,
    () =>
      "a contract imports only the host ABI; an unknown import is often a standard library feature " +
      "Cairn does not offer: console, Math.random, Date, process, trace",
  ],
  [
    /^import "cairn" "([a-z_]+)" has the wrong signature/,
    (m) => {
      const sig = Object.hasOwn(HOST_FUNCTIONS, m[1]!) ? HOST_FUNCTIONS[m[1]!] : undefined;
      if (sig === undefined) return IMPORT_ADVICE;
      const list = (ts: readonly number[]) => ts.map(valtypeName).join(", ");
      return `the host ABI has (${list(sig.params)}) -> (${list(sig.results)}); ${IMPORT_ADVICE}`;
    },
  ],
  [/has the wrong signature/, () => IMPORT_ADVICE],
  [/^memory declares no maximum|^memory maximum above/, () => MEMORY_LIMIT_ADVICE],
  [/^exactly one memory|^memory is not exported|imported memory|shared memory/, () => MEMORY_ADVICE],
  [
    /imported (table|global)/,
    () => "a contract imports only host functions: build without --importTable and declare no @external globals",
  ],
  [
    /SIMD|threads|bulk memory|0xFC|reference types|multi-value|tail call|exception handling|GC |64-bit/,
    () => FEATURE_ADVICE,
  ],
  [/the "cairn_" prefix is reserved/, () => "rename the export: the VM adds cairn_gas, cairn_status and cairn_start"],
  [
    /^module is \d+ bytes/,
    () => "build with optimisation (no --no-optimize) and move code or data out of the contract",
  ],
];

/**
 * Checks a compiled module with the chain's verifier (`prepareContract` from @cairn/vm: the module
 * rules of docs/contracts.md, with the default limits) and returns its methods: the exported
 * functions `() -> ()` named `[a-z][A-Za-z0-9_]*`. A module that breaks a rule throws
 * NodeError("CONTRACT_INVALID") with the VM's message and advice on what to change.
 */
export function checkContractModule(wasm: Uint8Array): { methods: string[] } {
  try {
    return { methods: [...prepareContract(wasm).methods] };
  } catch (e) {
    if (!(e instanceof VmError) || e.code !== "INVALID_MODULE") throw e;
    let advice = "";
    for (const [pattern, say] of ADVICE) {
      const m = e.message.match(pattern);
      if (m !== null) {
        advice = `: ${say(m)}`;
        break;
      }
    }
    throw new NodeError(
      "CONTRACT_INVALID",
      `the module breaks Cairn's module rules (${e.message})${advice} (see docs/contracts.md)`,
      { cause: e },
    );
  }
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

    npm run build

writes \`build/${name}.wasm\` and lists the methods (\`cairn contract build .\` with the Cairn that
scaffolded this contract; see \`package.json\`). The build uses AssemblyScript's stub runtime and
turns off every WebAssembly feature Cairn's rules forbid (floats are rejected too).

## Test

    npm test

The test (\`test/${name}.test.ts\`) builds the contract with \`buildContract\` from \`@cairn/node\` and
runs its methods in \`@cairn/vm\` against an in-memory host. \`vitest.config.ts\` points those
imports at the Cairn installation that scaffolded the contract, so it works wherever the contract
lives; if that installation moves, scaffold again or edit the paths there and in \`package.json\`.

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
  const tools = cairnTools();
  // Its own vitest config: it finds test/ and the Cairn packages the test imports wherever the
  // contract lives (inside the repository or not), from the Cairn that scaffolded it.
  await writeFile(join(root, "vitest.config.ts"), templateVitestConfig(tools));
  await writeFile(join(root, "package.json"), templatePackageJson(name, tools));
  await writeFile(join(root, "test", `${name}.test.ts`), templateTest(name));
  return root;
}

/** Absolute paths of what a scaffolded contract's scripts run: this Node, the CLI, vitest, the packages. */
interface CairnTools {
  readonly node: string;
  readonly cli: string;
  readonly vitest: string;
  readonly packages: string;
}

function cairnTools(): CairnTools {
  const here = dirname(fileURLToPath(import.meta.url));
  const nodePackage = resolve(here, "..", "..");
  const require = createRequire(import.meta.url);
  return {
    node: process.execPath,
    cli: join(nodePackage, "bin", "cairn.js"),
    vitest: join(dirname(require.resolve("vitest/package.json")), "vitest.mjs"),
    packages: dirname(nodePackage),
  };
}

function templatePackageJson(name: string, t: CairnTools): string {
  const q = (p: string) => JSON.stringify(p);
  const pkg = {
    name,
    private: true,
    type: "module",
    scripts: {
      build: `${q(t.node)} ${q(t.cli)} contract build .`,
      test: `${q(t.node)} ${q(t.vitest)} run --root .`,
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function templateVitestConfig(t: CairnTools): string {
  const alias = Object.fromEntries(
    ["messaging", "node", "vm"].map((p) => [`@cairn/${p}`, join(t.packages, p, "src", "index.ts")]),
  );
  return `// The Cairn packages the test imports, from the Cairn installation that scaffolded this contract.
export default {
  resolve: { alias: ${JSON.stringify(alias, null, 4).replace(/\n}/, "\n  }")} },
  test: { include: ["test/**/*.test.ts"] },
};
`;
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
      printLine(`  build it:  cd ${root} && npm run build`);
      printLine(`  test it:   cd ${root} && npm test`);
    });
  return contract;
}
