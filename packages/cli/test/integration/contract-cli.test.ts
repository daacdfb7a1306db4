import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildContract, ContractBuildError, checkContractModule } from "@cairn/contract-sdk/build";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaffoldContract } from "../../src/index.ts";

const CAIRN = new URL("../../bin/cairn.js", import.meta.url).pathname;

function cairn(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

let wabt: Awaited<ReturnType<typeof import("wabt")>>;
const wat = (text: string, features: Record<string, boolean> = {}) =>
  new Uint8Array(wabt.parseWat("t.wat", text, features).toBinary({}).buffer);
// The WebAssembly 1.0 feature set: wabt rejects anything beyond it when reading.
const MVP = {
  mutable_globals: false,
  sat_float_to_int: false,
  sign_extension: false,
  simd: false,
  threads: false,
  multi_value: false,
  tail_call: false,
  bulk_memory: false,
  reference_types: false,
  check: true,
};

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-contract-"));
  wabt = await (await import("wabt")).default();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("cairn contract new / build", () => {
  it("scaffolds a contract that builds into a plain WebAssembly 1.0 module without floats", async () => {
    const made = await cairn(["contract", "new", "hello", "--dir", dir], dir);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const root = join(dir, "hello");
    for (const f of [
      "assembly/index.ts",
      "assembly/tsconfig.json",
      "README.md",
      "test/hello.test.ts",
      "vitest.config.ts",
      ".gitignore",
    ])
      expect(existsSync(join(root, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(root, "assembly/tsconfig.json"), "utf8")).extends).toBe(
      "assemblyscript/std/assembly.json",
    );

    const built = await cairn(["contract", "build", "hello"], dir);
    expect(built.stderr).toBe("");
    expect(built.code).toBe(0);
    const out = join(root, "build", "hello.wasm");
    expect(built.stdout).toContain(`Built ${out}`);
    expect(built.stdout).toContain("methods: increment, get, greet");

    const wasm = new Uint8Array(readFileSync(out));
    const mod = wabt.readWasm(wasm, MVP);
    const text = mod.toText({});
    mod.destroy();
    expect(text).not.toMatch(/f32|f64/);
    expect(text).toMatch(/\(memory \(;0;\) \d+ 64\)/);
    expect(text).toContain('(export "memory" (memory 0))');
    const imports = [...text.matchAll(/\(import "([a-z]+)" "([a-z_]+)"/g)].map((m) => `${m[1]}.${m[2]}`);
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect(i).toMatch(/^(cairn\.[a-z_]+|env\.abort)$/);
  });

  it("a contract scaffolded outside the repository builds and tests with exactly the commands it prints", {
    timeout: 120_000,
  }, async () => {
    const made = await cairn(["contract", "new", "outside", "--dir", dir], dir);
    expect(made.code).toBe(0);
    const commands = made.stdout
      .split("\n")
      .filter((l) => /^\s+(build|test) it:/.test(l))
      .map((l) => l.replace(/^\s+(build|test) it:\s+/, ""));
    expect(commands).toHaveLength(2);
    for (const command of commands) {
      // A newcomer's shell: no Cairn on PATH, not inside the repository.
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn("sh", ["-c", command], { cwd: tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("exit", (code) => resolve({ code, out }));
      });
      expect(r.code, `${command}\n${r.out}`).toBe(0);
    }
    expect(existsSync(join(dir, "outside", "build", "outside.wasm"))).toBe(true);
  });

  it("refuses to overwrite an existing directory", async () => {
    mkdirSync(join(dir, "taken"));
    const r = await cairn(["contract", "new", "taken", "--dir", dir], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "taken")} already exists`);
    await expect(scaffoldContract("taken", dir)).rejects.toMatchObject({ code: "CONTRACT_EXISTS" });
    await expect(scaffoldContract("Bad Name", dir)).rejects.toMatchObject({ code: "BAD_CONTRACT_NAME" });
  });

  it("reports a compile error with the compiler's diagnostic and exit code 1, and writes nothing", async () => {
    const root = join(dir, "broken");
    mkdirSync(join(root, "assembly"), { recursive: true });
    writeFileSync(join(root, "assembly", "index.ts"), 'export function oops(): void {\n  const x: i32 = "text";\n}\n');
    const r = await cairn(["contract", "build", root, "--out", join(root, "out.wasm")], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TS2322");
    expect(r.stderr).toContain("assembly/index.ts(2,18)");
    expect(r.stderr).toContain("fix the errors above and build again");
    expect(existsSync(join(root, "out.wasm"))).toBe(false);
  });

  it("tells the user where the code should be when there is no assembly/index.ts", async () => {
    const r = await cairn(["contract", "build", join(dir, "nothing-here")], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("assembly/index.ts does not exist");
  });

  it("rejects a contract that uses floats, with advice, via buildContract", async () => {
    const root = join(dir, "floaty");
    mkdirSync(join(root, "assembly"), { recursive: true });
    writeFileSync(
      join(root, "assembly", "index.ts"),
      [
        'import { Args, returnValue, Writer } from "@cairn/contract-sdk";',
        "export function half(): void {",
        "  const a = Args.read();",
        "  const n: number = <number>a.u64() / 2.5;",
        "  returnValue(new Writer().u64(<u64>n));",
        "}",
      ].join("\n"),
    );
    const err = await buildContract(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractBuildError);
    expect((err as ContractBuildError).code).toBe("CONTRACT_INVALID");
    expect((err as ContractBuildError).message).toMatch(/floating point.*`number` is f64/);
    expect(existsSync(join(root, "build"))).toBe(false);
  });
});

// checkContractModule is the VM's own verifier (prepareContract) plus build advice: these cases pin
// the VM's rule message and the advice the build adds to it.
describe("checkContractModule", () => {
  const mem = '(memory (export "memory") 1 64)';
  const ok = (body = "") => `(module ${mem} (func (export "run") ${body}))`;
  const FLOAT_ADVICE = /`number` is f64.*Math.*Date.*string<->number conversions/;
  const FEATURE_ADVICE = /build with `cairn contract build`, which turns off every WebAssembly feature past 1\.0/;
  const MEMORY_ADVICE = /--importMemory, --noExportMemory or --sharedMemory/;

  it("lists the methods of a conforming module", () => {
    const wasm = wat(
      `(module (import "cairn" "input_len" (func (result i32))) (import "env" "abort" (func (param i32 i32 i32 i32)))
        ${mem} (func (export "run")) (func (export "doThing_2")) (global (export "g") i64 (i64.const 5)))`,
    );
    expect(checkContractModule(wasm).methods).toEqual(["run", "doThing_2"]);
  });

  const cases: [string, string, Record<string, boolean>, RegExp[]][] = [
    ["a float instruction", ok("f64.const 1.5 drop"), {}, [/floating point instruction \(opcode 0x44\)/, FLOAT_ADVICE]],
    ["a float local", ok("(local f32)"), {}, [/floating point: f32 in function 0 locals/, FLOAT_ADVICE]],
    [
      "a float parameter",
      `(module ${mem} (func (export "run")) (func (param f64)))`,
      {},
      [/floating point: f64 in type 1 parameters/, FLOAT_ADVICE],
    ],
    [
      "a float global",
      `(module ${mem} (global f32 (f32.const 0)) (func (export "run")))`,
      {},
      [/floating point: f32 in global 0/, FLOAT_ADVICE],
    ],
    [
      "bulk memory",
      ok("i32.const 0 i32.const 0 i32.const 0 memory.copy"),
      { bulk_memory: true },
      [/function 0: bulk memory or other 0xFC-prefixed instruction \(opcode 0xfc\)/, FEATURE_ADVICE],
    ],
    [
      "SIMD",
      ok("v128.const i64x2 0 0 drop"),
      { simd: true },
      [/function 0: SIMD instruction \(opcode 0xfd\)/, FEATURE_ADVICE],
    ],
    // The VM reports the first rule a body breaks, in instruction order: here the f64.const (the
    // previous checker reported the 0xFC prefix before any float). The next case isolates the prefix.
    [
      "a saturating float conversion",
      ok("f64.const 0 i32.trunc_sat_f64_s drop"),
      { sat_float_to_int: true },
      [/floating point instruction \(opcode 0x44\)/, FLOAT_ADVICE],
    ],
    [
      "a saturating float conversion without a float operand",
      ok("unreachable i32.trunc_sat_f64_s drop"),
      { sat_float_to_int: true },
      [/0xFC-prefixed instruction \(opcode 0xfc\)/, /saturating float-to-int conversion \(nontrapping-f2i\)/],
    ],
    [
      "a memory without a maximum",
      `(module (memory (export "memory") 1) (func (export "run")))`,
      {},
      [/memory declares no maximum/, /passes --maximumMemory 64/],
    ],
    [
      "a memory of 65 pages",
      `(module (memory (export "memory") 1 65) (func (export "run")))`,
      {},
      [/memory maximum above 64 pages/, /passes --maximumMemory 64/],
    ],
    [
      "an unexported memory",
      `(module (memory 1 2) (func (export "run")))`,
      {},
      [/memory is not exported as "memory"/, MEMORY_ADVICE],
    ],
    [
      "a shared memory",
      `(module (memory (export "memory") 1 64 shared) (func (export "run")))`,
      { threads: true },
      [/threads: shared memory/, MEMORY_ADVICE],
    ],
    [
      "an import outside the ABI",
      `(module (import "env" "seed" (func (result i64))) ${mem} (func (export "run")))`,
      {},
      [/import "env" "seed" is not a host function/, /console, Math\.random, Date, process, trace/],
    ],
    [
      "an imported global",
      `(module (import "env" "g" (global i32)) ${mem} (func (export "run")))`,
      {},
      [/import "env" "g": imported global/, /declare no @external globals/],
    ],
    [
      "an ABI import with the wrong signature",
      `(module (import "cairn" "ret" (func (param i32))) ${mem} (func (export "run")))`,
      {},
      [/import "cairn" "ret" has the wrong signature/, /the host ABI has \(i32, i32\) -> \(\)/],
    ],
    [
      "an export with the reserved prefix",
      `(module ${mem} (func (export "cairn_gas")))`,
      {},
      [/export "cairn_gas": the "cairn_" prefix is reserved/, /rename the export/],
    ],
    // Rules the previous build-time checker did not check: only the VM did, at deploy.
    [
      "a table above 1,024 entries",
      `(module ${mem} (table 1025 funcref) (func (export "run")))`,
      {},
      [/table larger than 1024 entries/],
    ],
    ["more than 1,024 locals", ok(`(local ${"i32 ".repeat(1025)})`), {}, [/function 0 declares more than 1024 locals/]],
    [
      "a data segment outside the initial memory",
      `(module ${mem} (data (i32.const 65535) "ab") (func (export "run")))`,
      {},
      [/data segment 0 out of bounds/],
    ],
  ];
  for (const [what, text, features, messages] of cases) {
    it(`rejects ${what}`, () => {
      const err = (() => {
        try {
          checkContractModule(wat(text, features));
        } catch (e) {
          return e as ContractBuildError;
        }
      })();
      expect(err).toBeInstanceOf(ContractBuildError);
      expect(err?.code).toBe("CONTRACT_INVALID");
      expect(err?.message).toMatch(/^the module breaks Cairn's module rules \(/);
      for (const message of messages) expect(err?.message).toMatch(message);
      expect(err?.message).toMatch(/\(see docs\/contracts\.md\)$/);
    });
  }

  // The previous build-time checker rejected these; the VM accepts them, as docs/contracts.md has
  // it: methods are the exported functions `() -> ()` named [a-z][A-Za-z0-9_]* (others are not
  // methods, not errors), and no rule asks for at least one method. The CLI lists the methods.
  const accepted: [string, string, string[]][] = [
    ["an exported function with parameters", `(module ${mem} (func (export "add") (param i32)))`, []],
    ["a badly named exported function", `(module ${mem} (func (export "Run")))`, []],
    ["a module without methods", `(module ${mem})`, []],
    [
      "non-method exports beside methods",
      `(module ${mem} (func (export "run")) (func (export "add") (param i32)) (func (export "Run")))`,
      ["run"],
    ],
  ];
  for (const [what, text, methods] of accepted) {
    it(`accepts ${what}, listing only the methods`, () => {
      expect(checkContractModule(wat(text)).methods).toEqual(methods);
    });
  }

  it("rejects bytes that are not WebAssembly", () => {
    expect(() => checkContractModule(new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0]))).toThrow(
      /not a valid WebAssembly module/,
    );
  });
});
