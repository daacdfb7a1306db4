// `cairn contract build` and `cairn contract new` (docs/contracts.md): the compiler is
// @cairn/contract-sdk/build; scaffolding writes a small contract project that builds and tests with
// the Cairn that created it.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContract } from "@cairn/contract-sdk/build";
import type { Command } from "commander";
import { printLine } from "./output.ts";
import { CliError } from "./shared.ts";

/** A scaffolded contract project's name (its directory; deploy it under any chain name). */
const PROJECT_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

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

The test (\`test/${name}.test.ts\`) builds the contract with \`buildContract\` from \`@cairn/contract-sdk/build\` and
runs its methods in \`@cairn/vm\` against an in-memory host (\`@cairn/test-utils/memory-host\`). \`vitest.config.ts\` points those
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
import { buildContract } from "@cairn/contract-sdk/build";
import { createMemoryHost } from "@cairn/test-utils/memory-host";
import { createVm, prepareContract } from "@cairn/vm";
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
  if (!PROJECT_NAME.test(name)) {
    throw new CliError(
      "BAD_CONTRACT_NAME",
      `a contract name is lower-case letters, digits, "-" and "_", starting with a letter; got "${name}"`,
    );
  }
  const root = resolve(dir, name);
  if (existsSync(root)) throw new CliError("CONTRACT_EXISTS", `${root} already exists; choose another name or --dir`);
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
  const cliPackage = resolve(here, "..");
  const require = createRequire(import.meta.url);
  return {
    node: process.execPath,
    cli: join(cliPackage, "bin", "cairn.js"),
    vitest: join(dirname(require.resolve("vitest/package.json")), "vitest.mjs"),
    packages: dirname(cliPackage),
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
  const alias = Object.fromEntries([
    ["@cairn/contract-sdk/build", join(t.packages, "contract-sdk", "src", "build.ts")],
    ["@cairn/test-utils/memory-host", join(t.packages, "test-utils", "src", "memory-host.ts")],
    ...["messaging", "vm"].map((p) => [`@cairn/${p}`, join(t.packages, p, "src", "index.ts")]),
  ]);
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
