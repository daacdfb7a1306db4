// The contract compiler behind `cairn contract build` (docs/contracts.md): compiles an
// AssemblyScript contract with the flags that keep it inside Cairn's module rules and checks the
// result with the VM's own verifier (the check every node runs at deploy), adding advice on what to
// change. It runs in Node (`@cairn/contract-sdk/build`); the SDK itself is in assembly/.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultVmLimits, HOST_FUNCTIONS, prepareContract, VmError } from "@cairn/vm";

/** A contract that cannot be built or breaks the module rules; `code` is stable, `message` says what to change. */
export class ContractBuildError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ContractBuildError";
    this.code = code;
  }
}

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
    throw new ContractBuildError(
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
    throw new ContractBuildError(
      "CONTRACT_COMPILE_FAILED",
      `${diagnostics === "" ? result.error.message : diagnostics}\n` +
        `could not compile ${join(root, entry)}: fix the errors above and build again`,
      { cause: result.error },
    );
  }
  if (wasm === undefined)
    throw new ContractBuildError("CONTRACT_COMPILE_FAILED", "the compiler produced no WebAssembly module");
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
 * ContractBuildError("CONTRACT_INVALID") with the VM's message and advice on what to change.
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
    throw new ContractBuildError(
      "CONTRACT_INVALID",
      `the module breaks Cairn's module rules (${e.message})${advice} (see docs/contracts.md)`,
      { cause: e },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Scaffolding
