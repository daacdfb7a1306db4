import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildContract, checkContractModule, NodeError, scaffoldContract } from "../../src/index.ts";

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
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).code).toBe("CONTRACT_INVALID");
    expect((err as NodeError).message).toMatch(/floating point .*`number` is f64/);
    expect(existsSync(join(root, "build"))).toBe(false);
  });
});

describe("checkContractModule", () => {
  const mem = '(memory (export "memory") 1 64)';
  const ok = (body = "") => `(module ${mem} (func (export "run") ${body}))`;

  it("lists the methods of a conforming module", () => {
    const wasm = wat(
      `(module (import "cairn" "input_len" (func (result i32))) (import "env" "abort" (func (param i32 i32 i32 i32)))
        ${mem} (func (export "run")) (func (export "doThing_2")) (global (export "g") i64 (i64.const 5)))`,
    );
    expect(checkContractModule(wasm).methods).toEqual(["run", "doThing_2"]);
  });

  const cases: [string, string, Record<string, boolean>, RegExp][] = [
    ["a float instruction", ok("f64.const 1.5 drop"), {}, /floating point/],
    ["a float local", ok("(local f32)"), {}, /floating point \(a local of function 0 uses f32\)/],
    ["a float parameter", `(module ${mem} (func (export "run")) (func (param f64)))`, {}, /floating point/],
    ["a float global", `(module ${mem} (global f32 (f32.const 0)) (func (export "run")))`, {}, /floating point/],
    [
      "bulk memory",
      ok("i32.const 0 i32.const 0 i32.const 0 memory.copy"),
      { bulk_memory: true },
      /bulk-memory.*prefix 0xfc/,
    ],
    ["SIMD", ok("v128.const i64x2 0 0 drop"), { simd: true }, /value type 0x7b|SIMD/],
    [
      "a saturating float conversion",
      ok("f64.const 0 i32.trunc_sat_f64_s drop"),
      { sat_float_to_int: true },
      /prefix 0xfc/,
    ],
    ["a memory without a maximum", `(module (memory (export "memory") 1) (func (export "run")))`, {}, /no maximum/],
    ["a memory of 65 pages", `(module (memory (export "memory") 1 65) (func (export "run")))`, {}, /65 pages/],
    ["an unexported memory", `(module (memory 1 2) (func (export "run")))`, {}, /exported as "memory"/],
    [
      "an import outside the ABI",
      `(module (import "env" "seed" (func (result i64))) ${mem} (func (export "run")))`,
      {},
      /env\.seed, which is not part of the host ABI/,
    ],
    [
      "an ABI import with the wrong signature",
      `(module (import "cairn" "ret" (func (param i32))) ${mem} (func (export "run")))`,
      {},
      /cairn\.ret has the signature \(i32\)->\(\); the host ABI has \(i32,i32\)->\(\)/,
    ],
    [
      "an exported function with parameters",
      `(module ${mem} (func (export "add") (param i32)))`,
      {},
      /"add" has the signature \(i32\)->\(\)/,
    ],
    ["a badly named method", `(module ${mem} (func (export "Run")))`, {}, /"Run" does not match/],
    ["an export with the reserved prefix", `(module ${mem} (func (export "cairn_gas")))`, {}, /prefix cairn_/],
    ["no methods", `(module ${mem})`, {}, /exports no methods/],
  ];
  for (const [what, text, features, message] of cases) {
    it(`rejects ${what}`, () => {
      const err = (() => {
        try {
          checkContractModule(wat(text, features));
        } catch (e) {
          return e as NodeError;
        }
      })();
      expect(err?.code).toBe("CONTRACT_INVALID");
      expect(err?.message).toMatch(message);
    });
  }

  it("rejects bytes that are not WebAssembly", () => {
    expect(() => checkContractModule(new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0]))).toThrow(/not valid WebAssembly/);
  });
});
