// `cairn contract deploy | upgrade | call | query | info`: the contract commands that talk to a
// node (the toolchain commands `build` and `new` are in contract.ts). Transactions are signed like
// `cairn tx ...` does it (--key, or the admin key in --home) and wait for the commit unless --no-wait.
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { call, contracts, type Value } from "@cairn/client";
import { buildContract } from "@cairn/contract-sdk/build";
import { fromHex } from "@cairn/crypto";
import { CONTRACT_NAME } from "@cairn/messaging";
import type { Command } from "commander";
import { printJson } from "./output.ts";
import { CliError, type ReadOpts, readClient, readOptions, sendTx, type TxOpts, txOptions } from "./shared.ts";

/** What `[args...]` accepts, for help texts and error messages. */
export const ARG_FORMS =
  "str:TEXT or a plain word (string); u64:N, int:N or a bare integer (integer); true, false; nil; " +
  "hex:HEX or 0xHEX (binary); key:<64 hex digits> (32-byte key); @FILE (the file's bytes)";

/** A contract argument written on the command line that cannot be read. */
export class ArgError extends Error {
  readonly code = "BAD_ARG";
  constructor(word: string, why: string) {
    super(`bad argument ${JSON.stringify(word)}: ${why}. Accepted forms: ${ARG_FORMS}`);
    this.name = "ArgError";
  }
}

const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Prefixes that look like a type but are not one of ours: an error rather than a string, to catch typos. */
const LOOKS_TYPED = /^(u8|u16|u32|u128|i8|i16|i32|i64|uint|bin|bytes|bool|string|num|number|bigint|nil|null):/;

function integer(word: string, digits: string, min: bigint): number | bigint {
  if (!/^-?[0-9]{1,20}$/.test(digits)) throw new ArgError(word, "not a whole number");
  const n = BigInt(digits);
  if (n < min || n > MAX_U64) {
    throw new ArgError(word, min === 0n ? "u64 is 0 to 2^64-1" : "an integer is -2^63 to 2^64-1");
  }
  // As the canonical decoder returns it: a number when exact, a bigint beyond 2^53.
  return n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

function binary(word: string, hex: string): Uint8Array {
  try {
    return fromHex(hex);
  } catch {
    throw new ArgError(word, "not an even number of hex digits");
  }
}

/**
 * One contract argument from one command-line word (see ARG_FORMS). `readFile` reads `@FILE`
 * arguments (the file system by default). Throws ArgError.
 */
export function parseArg(word: string, readFile: (path: string) => Uint8Array = (p) => readFileSync(p)): Value {
  if (word.startsWith("str:")) return word.slice(4);
  if (word.startsWith("u64:")) return integer(word, word.slice(4), 0n);
  if (word.startsWith("int:")) return integer(word, word.slice(4), MIN_I64);
  if (word.startsWith("hex:")) return binary(word, word.slice(4));
  if (word.startsWith("key:")) {
    if (!/^[0-9a-fA-F]{64}$/.test(word.slice(4))) throw new ArgError(word, "a key is 64 hex digits (32 bytes)");
    return fromHex(word.slice(4));
  }
  if (word.startsWith("@")) {
    const path = word.slice(1);
    if (path === "") throw new ArgError(word, "@ needs a file name");
    try {
      return new Uint8Array(readFile(path));
    } catch (err) {
      throw new ArgError(word, `cannot read ${path}: ${(err as Error).message}`);
    }
  }
  if (word === "true") return true;
  if (word === "false") return false;
  if (word === "nil") return null;
  if (word.startsWith("0x")) return binary(word, word.slice(2));
  if (/^-?[0-9]+$/.test(word)) return integer(word, word, MIN_I64);
  if (LOOKS_TYPED.test(word)) throw new ArgError(word, `unknown type prefix "${word.split(":")[0]}:"`);
  return word;
}

/** The args array of a call from its command-line words. Throws ArgError. */
export function parseArgs(words: readonly string[], readFile?: (path: string) => Uint8Array): Value[] {
  return words.map((w) => parseArg(w, readFile));
}

/** Usage errors (a bad argument or name) exit with 2, as commander's own do not say what to fix. */
function usageError(cmd: Command, message: string): never {
  // Throws a CommanderError (with exitOverride, as `cairn` runs) or exits the process.
  return cmd.error(`error: ${message}`, { exitCode: 2, code: "cairn.badArgument" });
}

function contractName(cmd: Command, name: string): string {
  if (!CONTRACT_NAME.test(name)) {
    usageError(cmd, `bad contract name ${JSON.stringify(name)}: a name matches ${CONTRACT_NAME.source}`);
  }
  return name;
}

function callArgs(cmd: Command, words: readonly string[]): Value[] {
  try {
    return parseArgs(words);
  } catch (err) {
    if (err instanceof ArgError) usageError(cmd, err.message);
    throw err;
  }
}

/** The module in `file`, or, for a contract directory, the module `cairn contract build` makes of it. */
async function readModule(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    const built = await buildContract(file);
    process.stderr.write(`built ${built.out} (${built.wasm.length} bytes)\n`);
    return built.wasm;
  }
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new CliError("NO_FILE", `cannot read ${file}: ${(err as Error).message}`);
  }
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new CliError(
      "BAD_CODE",
      `${file} is not a WebAssembly module: build the contract with \`cairn contract build <dir>\``,
    );
  }
  return bytes;
}

const ARGS_HELP = `contract arguments, one per word: ${ARG_FORMS}. Write a negative integer as int:-3`;

/** Adds deploy, upgrade, call, query and info to the `contract` command group. */
export function registerContractTxCommands(group: Command): void {
  for (const [name, upgrade] of [
    ["deploy", false],
    ["upgrade", true],
  ] as const) {
    txOptions(
      group
        .command(name)
        .description(
          upgrade
            ? "replace the code of a deployed contract, keeping its state (admin key)"
            : "deploy a WebAssembly contract under a new name (admin key)",
        )
        .argument(
          "<wasm-file-or-dir>",
          "the module `cairn contract build` wrote, or the contract directory (built first)",
        )
        .requiredOption("--name <name>", "contract name: lower-case letters, digits, - and _ (at most 32)"),
    ).action(async (file: string, o: TxOpts & { name: string }, cmd: Command) => {
      const contract = contractName(cmd, o.name);
      const code = await readModule(file);
      const r = await sendTx(upgrade ? contracts.upgrade(contract, code) : contracts.deploy(contract, code), o);
      const event = r.receipt?.events.find((e) => e.contract === "contracts");
      if (Array.isArray(event?.data)) {
        const [, codeHash, version] = event.data;
        process.stderr.write(`${event.name} ${contract}: version ${version}, code hash ${String(codeHash)}\n`);
      }
    });
  }

  txOptions(
    group
      .command("call")
      .description("call a contract method in a signed transaction")
      .argument("<name>", "contract name")
      .argument("<method>", "method name")
      .argument("[args...]", ARGS_HELP),
  ).action(async (name: string, method: string, words: string[], o: TxOpts, cmd: Command) => {
    const args = callArgs(cmd, words);
    await sendTx(call(contractName(cmd, name), method, args), o);
  });

  readOptions(
    group
      .command("query")
      .description("run a read-only contract method on the committed state (no transaction)")
      .argument("<name>", "contract name")
      .argument("<method>", "method name")
      .argument("[args...]", ARGS_HELP),
  ).action(async (name: string, method: string, words: string[], o: ReadOpts, cmd: Command) => {
    const args = callArgs(cmd, words);
    const client = await readClient(o);
    const r = await client.query(contractName(cmd, name), method, args);
    if (!r.ok) {
      printJson({ ok: false, code: r.code, message: r.message, gasUsed: r.gasUsed, height: r.height });
      throw new CliError(r.code ?? "QUERY_FAILED", `${r.code}: the query failed: ${r.message}`);
    }
    printJson({ ok: true, output: r.outputJson, outputHex: r.outputHex, gasUsed: r.gasUsed, height: r.height });
  });

  readOptions(
    group
      .command("info")
      .description("a contract's kind, methods, code hash, version and deployer")
      .argument("<name>", "contract name"),
  ).action(async (name: string, o: ReadOpts, cmd: Command) => {
    const client = await readClient(o);
    const info = await client.getContract(contractName(cmd, name));
    if (info === undefined) throw new CliError("UNKNOWN_CONTRACT", `no contract named ${name}`);
    printJson(info);
  });
}
