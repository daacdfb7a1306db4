import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiServer, createApiServer } from "@cairn/api";
import { generateKeyPair, type KeyPair, sha256, toHex } from "@cairn/crypto";
import { writeKeyFile } from "@cairn/node";
import {
  ContractFailure,
  MemoryBackend,
  type MemoryBackendOptions,
  type MemoryCallContext,
  wasmModuleExporting,
} from "@cairn/test-utils";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ArgError, parseArg, parseArgs, registerContractTxCommands } from "../../src/contract-tx.ts";
import { runCairnInProcess } from "./cli-run.ts";

describe("parseArg", () => {
  const noFiles = (p: string): Uint8Array => {
    throw new Error(`ENOENT: ${p}`);
  };

  it("reads strings", () => {
    expect(parseArg("hello")).toBe("hello");
    expect(parseArg("str:hello")).toBe("hello");
    expect(parseArg("str:")).toBe("");
    expect(parseArg("str:42")).toBe("42");
    expect(parseArg("str:true")).toBe("true");
    expect(parseArg("str:@x")).toBe("@x");
    expect(parseArg("http://example.com/a")).toBe("http://example.com/a");
    expect(parseArg("a:b")).toBe("a:b");
    expect(parseArg("")).toBe("");
    expect(parseArg("null")).toBe("null");
  });

  it("reads integers as numbers when exact and bigints beyond 2^53", () => {
    expect(parseArg("5")).toBe(5);
    expect(parseArg("0")).toBe(0);
    expect(parseArg("-3")).toBe(-3);
    expect(parseArg("u64:5")).toBe(5);
    expect(parseArg("int:-3")).toBe(-3);
    expect(parseArg("int:7")).toBe(7);
    expect(parseArg(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseArg(String(2n ** 53n))).toBe(2n ** 53n);
    expect(parseArg(`u64:${2n ** 64n - 1n}`)).toBe(2n ** 64n - 1n);
    expect(parseArg(`int:${-(2n ** 63n)}`)).toBe(-(2n ** 63n));
    expect(parseArg(`${-(2n ** 63n)}`)).toBe(-(2n ** 63n));
  });

  it("reads booleans and nil", () => {
    expect(parseArg("true")).toBe(true);
    expect(parseArg("false")).toBe(false);
    expect(parseArg("nil")).toBeNull();
  });

  it("reads binary from hex, keys and files", () => {
    expect(parseArg("hex:0a0b")).toEqual(new Uint8Array([10, 11]));
    expect(parseArg("hex:")).toEqual(new Uint8Array(0));
    expect(parseArg("0x0A0b")).toEqual(new Uint8Array([10, 11]));
    expect(parseArg("0x")).toEqual(new Uint8Array(0));
    const key = "ab".repeat(32);
    expect(parseArg(`key:${key}`)).toEqual(new Uint8Array(32).fill(0xab));
    const files: Record<string, Uint8Array> = { "a.bin": new Uint8Array([1, 2, 3]) };
    const read = (p: string): Uint8Array => {
      const f = files[p];
      if (!f) throw new Error(`ENOENT: ${p}`);
      return f;
    };
    expect(parseArg("@a.bin", read)).toEqual(new Uint8Array([1, 2, 3]));
    expect(parseArgs(["str:x", "1", "@a.bin", "nil"], read)).toEqual(["x", 1, new Uint8Array([1, 2, 3]), null]);
  });

  it("reads a real file for @FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-arg-"));
    try {
      writeFileSync(join(dir, "blob"), new Uint8Array([9, 8]));
      expect(parseArg(`@${join(dir, "blob")}`)).toEqual(new Uint8Array([9, 8]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects bad words with the accepted forms", () => {
    const bad = [
      "u64:",
      "u64:abc",
      "u64:-1",
      `u64:${2n ** 64n}`,
      "u64:1.5",
      "int:",
      "int:--1",
      `int:${-(2n ** 63n) - 1n}`,
      `${2n ** 64n}`,
      "1".repeat(30),
      "hex:abc",
      "hex:zz",
      "0xzz",
      "0x123",
      "key:abcd",
      `key:${"g".repeat(64)}`,
      "@",
      "@missing",
      "u32:5",
      "bool:true",
      "bytes:00",
    ];
    for (const w of bad) {
      let err: unknown;
      try {
        parseArg(w, noFiles);
      } catch (e) {
        err = e;
      }
      expect(err, w).toBeInstanceOf(ArgError);
      expect((err as ArgError).code).toBe("BAD_ARG");
      expect((err as Error).message, w).toContain(JSON.stringify(w));
      expect((err as Error).message).toContain("Accepted forms: str:TEXT");
    }
  });
});

describe("cairn contract deploy/upgrade/call/query/info", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    vi.restoreAllMocks();
  });

  interface Setup {
    backend: MemoryBackend;
    url: string;
    dir: string;
    admin: KeyPair;
    keyFile: string;
  }

  async function setup(opts: MemoryBackendOptions = {}): Promise<Setup> {
    const dir = mkdtempSync(join(tmpdir(), "cairn-contract-cli-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const admin = generateKeyPair();
    const keyFile = join(dir, "admin.json");
    await writeKeyFile(keyFile, admin);
    const backend = new MemoryBackend({ autoBlockMs: 5, ...opts });
    const server: ApiServer = await createApiServer({ backend });
    cleanups.push(async () => {
      backend.close();
      await server.close();
    });
    return { backend, url: server.address, dir, admin, keyFile };
  }

  /** Runs `cairn contract ...` as the CLI does, with its output captured. */
  async function run(argv: string[]) {
    const program = new Command("cairn").exitOverride();
    registerContractTxCommands(program.command("contract"));
    return runCairnInProcess(["contract", ...argv], program);
  }

  function writeModule(s: Setup, file: string, methods: string[]): string {
    const path = join(s.dir, file);
    writeFileSync(path, wasmModuleExporting(methods));
    return path;
  }

  it("deploys and upgrades a module, printing the receipt", async () => {
    const s = await setup();
    const v1 = writeModule(s, "v1.wasm", ["get"]);
    const conn = ["--url", s.url, "--key", s.keyFile];

    const d = await run(["deploy", v1, "--name", "counter", ...conn]);
    expect(d.err).toContain("deployed counter: version 1");
    expect(d.code).toBe(0);
    const receipt = JSON.parse(d.out).receipt;
    expect(receipt).toMatchObject({
      code: "OK",
      events: [
        {
          contract: "contracts",
          name: "deployed",
          data: ["counter", `0x${toHex(sha256(wasmModuleExporting(["get"])))}`, 1],
        },
      ],
    });
    expect(await s.backend.getContract("counter")).toMatchObject({ version: 1, deployer: s.admin.publicKey });

    const v2 = writeModule(s, "v2.wasm", ["get", "add"]);
    const u = await run(["upgrade", v2, "--name", "counter", ...conn]);
    expect(u.code).toBe(0);
    expect(JSON.parse(u.out).receipt.events[0]).toMatchObject({
      name: "upgraded",
      data: ["counter", expect.any(String), 2],
    });

    const info = await run(["info", "counter", "--url", s.url]);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.out)).toEqual({
      name: "counter",
      kind: "wasm",
      methods: ["get", "add"],
      codeHash: toHex(sha256(wasmModuleExporting(["get", "add"]))),
      version: 2,
      deployer: toHex(s.admin.publicKey),
      deployedAt: 1,
      updatedAt: 2,
      codeSize: wasmModuleExporting(["get", "add"]).length,
    });
  });

  it("exits 1 with the receipt's code when the transaction fails", async () => {
    const s = await setup({ admins: [generateKeyPair().publicKey] });
    const v1 = writeModule(s, "v1.wasm", ["get"]);
    const r = await run(["deploy", v1, "--name", "counter", "--url", s.url, "--key", s.keyFile]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).receipt.code).toBe("UNAUTHORIZED");
    expect(r.err).toMatch(/^error: UNAUTHORIZED: transaction committed but failed: /);

    const open = await setup();
    const conn = ["--url", open.url, "--key", open.keyFile];
    expect((await run(["deploy", v1, "--name", "counter", ...conn])).code).toBe(0);
    const again = await run(["deploy", v1, "--name", "counter", ...conn]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("ALREADY_DEPLOYED");
    const native = await run(["deploy", v1, "--name", "kv", ...conn]);
    expect(native.code).toBe(1);
    expect(native.err).toContain("BAD_ARGS");
  });

  it("returns without waiting with --no-wait", async () => {
    const s = await setup({ autoBlockMs: undefined });
    const v1 = writeModule(s, "v1.wasm", ["get"]);
    const r = await run(["deploy", v1, "--name", "counter", "--url", s.url, "--key", s.keyFile, "--no-wait"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: "pending" });
    expect(await s.backend.getContract("counter")).toBeUndefined();
  });

  it("refuses bad names, files and keys before sending anything", async () => {
    const s = await setup();
    const submit = vi.spyOn(s.backend, "submit");
    const v1 = writeModule(s, "v1.wasm", ["get"]);
    const conn = ["--url", s.url, "--key", s.keyFile];

    const badName = await run(["deploy", v1, "--name", "Counter", ...conn]);
    expect(badName.code).toBe(2);
    expect(badName.err).toContain("bad contract name");

    const notWasm = join(s.dir, "notes.txt");
    writeFileSync(notWasm, "hello");
    const nw = await run(["deploy", notWasm, "--name", "counter", ...conn]);
    expect(nw.code).toBe(1);
    expect(nw.err).toContain("is not a WebAssembly module");

    const missing = await run(["deploy", join(s.dir, "nope.wasm"), "--name", "counter", ...conn]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("cannot read");

    const noKey = await run(["deploy", v1, "--name", "counter", "--url", s.url]);
    expect(noKey.code).toBe(1);
    expect(noKey.err).toContain("no signing key");

    const noName = await run(["deploy", v1, ...conn]);
    expect(noName.code).not.toBe(0);
    expect(noName.err).toContain("--name");

    expect(submit).not.toHaveBeenCalled();
  });

  it("calls a method in a transaction with parsed args", async () => {
    const s = await setup();
    const calls: MemoryCallContext[] = [];
    s.backend.registerContract({
      name: "counter",
      methods: ["add"],
      handler: (c) => {
        calls.push(c);
        if (c.args[0] === 0) throw new ContractFailure("ZERO", "adding zero does nothing");
        return undefined;
      },
    });
    const conn = ["--url", s.url, "--key", s.keyFile];
    const r = await run(["call", "counter", "add", "5", "str:x", "0xff", "nil", "true", ...conn]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: "committed", receipt: { code: "OK" } });
    expect(calls[0]).toMatchObject({ method: "add", args: [5, "x", new Uint8Array([0xff]), null, true] });
    expect(calls[0]!.caller).toEqual(s.admin.publicKey);

    const negative = await run(["call", "counter", "add", ...conn, "--", "-3"]);
    expect(negative.code).toBe(0);
    expect(calls[1]!.args).toEqual([-3]);

    const failed = await run(["call", "counter", "add", "0", ...conn]);
    expect(failed.code).toBe(1);
    expect(failed.err).toContain("ZERO: transaction committed but failed: adding zero does nothing");
  });

  it("exits 2 on a bad argument, saying the accepted forms", async () => {
    const s = await setup();
    const submit = vi.spyOn(s.backend, "submit");
    const query = vi.spyOn(s.backend, "query");
    for (const cmd of ["call", "query"]) {
      const key = cmd === "call" ? ["--key", s.keyFile] : [];
      const r = await run([cmd, "counter", "add", "u64:-1", "--url", s.url, ...key]);
      expect(r.code, cmd).toBe(2);
      expect(r.err).toContain('bad argument "u64:-1"');
      expect(r.err).toContain("Accepted forms:");
    }
    expect((await run(["query", "Bad", "get", "--url", s.url])).code).toBe(2);
    expect(submit).not.toHaveBeenCalled();
    expect(query).not.toHaveBeenCalled();
  });

  it("queries a method and prints its output", async () => {
    const s = await setup();
    s.backend.registerContract({
      name: "counter",
      methods: ["get", "fail"],
      handler: (c) => {
        if (c.method === "fail") throw new ContractFailure("NOPE", "not today");
        return [c.args[0] ?? null, 2n ** 60n, new Uint8Array([1])];
      },
    });
    const r = await run(["query", "counter", "get", `key:${"00".repeat(32)}`, "--url", s.url]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      ok: true,
      output: [`0x${"00".repeat(32)}`, String(2n ** 60n), "0x01"],
      outputHex: expect.any(String),
      gasUsed: expect.any(Number),
      height: 0,
    });

    const failed = await run(["query", "counter", "fail", "--url", s.url]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.out)).toMatchObject({ ok: false, code: "NOPE", message: "not today" });
    expect(failed.err).toContain("NOPE: the query failed: not today");

    const unknown = await run(["query", "nobody", "get", "--url", s.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("UNKNOWN_CONTRACT");
  });

  it("describes contracts and reports unknown ones", async () => {
    const s = await setup();
    const kv = await run(["info", "kv", "--url", s.url]);
    expect(kv.code).toBe(0);
    expect(JSON.parse(kv.out)).toEqual({ name: "kv", kind: "native", methods: ["put", "delete"] });
    const unknown = await run(["info", "nobody", "--url", s.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe("error: no contract named nobody\n");
  });

  it("signs query and info with --key on a chain whose reads are members-only", async () => {
    const s = await setup({
      readAccess: "members",
      contracts: [{ name: "counter", methods: ["get"], handler: () => 3 }],
    });
    s.backend.setIdentity({ publicKey: s.admin.publicKey, roles: ["client"] });
    const unsigned = await run(["info", "kv", "--url", s.url]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.err).toContain("READ_SIGNATURE_REQUIRED");
    const info = await run(["info", "kv", "--url", s.url, "--key", s.keyFile]);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.out).kind).toBe("native");
    const q = await run(["query", "counter", "get", "--url", s.url, "--key", s.keyFile]);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.out)).toMatchObject({ ok: true, output: 3 });
  });

  it("says so when the node cannot be reached", async () => {
    const r = await run(["info", "kv", "--url", "http://127.0.0.1:1"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: /);
  });
});
