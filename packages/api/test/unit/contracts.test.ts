import { sha256, toHex, utf8 } from "@cairn/crypto";
import { encode, type Value } from "@cairn/messaging";
import { ContractFailure, type MemoryCallContext, wasmModuleExporting } from "@cairn/test-utils";
import { pack, unpack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { type Harness, type Json, postBytes, postJson, start } from "./helpers.ts";

const MP = "application/msgpack";

async function read(res: Response): Promise<{ status: number; body: Json }> {
  const body = res.headers.get("content-type")?.startsWith(MP)
    ? unpack(new Uint8Array(await res.arrayBuffer()))
    : await res.json();
  return { status: res.status, body };
}

async function query(h: Harness, body: unknown): Promise<{ status: number; body: Json }> {
  return read(await postJson(`${h.url}/query`, body));
}

/** A harness with a "counter" contract whose methods answer from a handler. */
async function withCounter(opts: Parameters<typeof start>[0] = {}) {
  const calls: MemoryCallContext[] = [];
  const h = await start(opts);
  h.backend.registerContract({
    name: "counter",
    methods: ["get", "echo", "nothing", "boom", "crash"],
    handler: (c) => {
      calls.push(c);
      switch (c.method) {
        case "get":
          return 42;
        case "echo":
          return [...c.args];
        case "boom":
          throw new ContractFailure("NEGATIVE", "the counter would go below zero");
        case "crash":
          throw new TypeError("handler bug");
        default:
          return undefined;
      }
    },
  });
  return { h, calls };
}

describe("POST /query", () => {
  it("runs a method and answers its output as JSON and canonical hex", async () => {
    const { h, calls } = await withCounter();
    await h.backend.produceBlock();
    const { status, body } = await query(h, { contract: "counter", method: "get", args: toHex(encode([])) });
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      output: 42,
      outputHex: toHex(encode(42)),
      gasUsed: expect.any(Number),
      height: 1,
    });
    expect(calls[0]).toMatchObject({ contract: "counter", method: "get", args: [], height: 1, readOnly: true });
    expect(calls[0]!.caller).toEqual(new Uint8Array(32));
  });

  it("passes the args through and renders values as the rest of the API does", async () => {
    const { h } = await withCounter();
    const args: Value[] = ["hi", 7n, 2n ** 60n, -3, new Uint8Array([1, 2]), true, null, [1, ["x"]]];
    const { status, body } = await query(h, { contract: "counter", method: "echo", args: `0x${toHex(encode(args))}` });
    expect(status).toBe(200);
    expect(body.output).toEqual(["hi", 7, String(2n ** 60n), -3, "0x0102", true, null, [1, ["x"]]]);
    expect(body.outputHex).toBe(toHex(encode(args)));
  });

  it("takes no args when args is absent, and renders no output as null", async () => {
    const { h, calls } = await withCounter();
    const { body } = await query(h, { contract: "counter", method: "nothing" });
    expect(body).toMatchObject({ ok: true, output: null, outputHex: "" });
    expect(calls[0]!.args).toEqual([]);
  });

  it("takes a canonical msgpack body and answers in msgpack when asked", async () => {
    const { h } = await withCounter();
    const res = await postBytes(`${h.url}/query`, encode(["counter", "echo", ["a", new Uint8Array([9])]]), MP, {
      accept: MP,
    });
    const { status, body } = await read(res);
    expect(status).toBe(200);
    expect(res.headers.get("content-type")).toBe(MP);
    expect(body).toMatchObject({
      ok: true,
      output: ["a", "0x09"],
      outputHex: toHex(encode(["a", new Uint8Array([9])])),
    });
  });

  it("answers a contract failure as a result, not an HTTP error", async () => {
    const { h } = await withCounter();
    const boom = await query(h, { contract: "counter", method: "boom" });
    expect(boom.status).toBe(200);
    expect(boom.body).toEqual({
      ok: false,
      code: "NEGATIVE",
      message: "the counter would go below zero",
      gasUsed: expect.any(Number),
      height: 0,
    });
    const unknownMethod = await query(h, { contract: "counter", method: "nope" });
    expect(unknownMethod).toMatchObject({ status: 200, body: { ok: false, code: "UNKNOWN_METHOD" } });
    const native = await query(h, { contract: "kv", method: "get" });
    expect(native).toMatchObject({ status: 200, body: { ok: false, code: "NOT_QUERYABLE" } });
  });

  it("answers an unknown contract with 404 UNKNOWN_CONTRACT", async () => {
    const { h } = await withCounter();
    const r = await query(h, { contract: "nobody", method: "get" });
    expect(r).toMatchObject({ status: 404, body: { error: { code: "UNKNOWN_CONTRACT" } } });
    // Also when the backend throws it rather than returning it.
    h.backend.query = async () => {
      throw Object.assign(new Error("no contract"), { code: "UNKNOWN_CONTRACT" });
    };
    const thrown = await query(h, { contract: "counter", method: "get" });
    expect(thrown).toMatchObject({ status: 404, body: { error: { code: "UNKNOWN_CONTRACT" } } });
  });

  it("answers malformed requests with 400 and a code", async () => {
    const { h, calls } = await withCounter();
    const cases: [unknown, string][] = [
      ["{not json", "MALFORMED"],
      ["", "BAD_REQUEST"],
      ["[]", "BAD_REQUEST"],
      ['"counter"', "BAD_REQUEST"],
      ["null", "BAD_REQUEST"],
      [{ method: "get" }, "BAD_REQUEST"],
      [{ contract: "counter" }, "BAD_REQUEST"],
      [{ contract: 5, method: "get" }, "BAD_REQUEST"],
      [{ contract: "counter", method: "get", args: ["x"] }, "BAD_REQUEST"],
      [{ contract: "counter", method: "get", args: 5 }, "BAD_REQUEST"],
      [{ contract: "Counter", method: "get" }, "BAD_NAME"],
      [{ contract: "", method: "get" }, "BAD_NAME"],
      [{ contract: "a".repeat(33), method: "get" }, "BAD_NAME"],
      [{ contract: "counter", method: "" }, "BAD_NAME"],
      [{ contract: "counter", method: "m".repeat(65) }, "BAD_NAME"],
      [{ contract: "counter", method: "get", args: "zz" }, "BAD_HEX"],
      [{ contract: "counter", method: "get", args: "909" }, "BAD_HEX"],
      [{ contract: "counter", method: "get", args: "" }, "MALFORMED"],
      [{ contract: "counter", method: "get", args: "92c0" }, "MALFORMED"],
      [{ contract: "counter", method: "get", args: "91cc05" }, "NON_CANONICAL"],
      [{ contract: "counter", method: "get", args: "9090" }, "MALFORMED"],
      [{ contract: "counter", method: "get", args: toHex(encode("not an array")) }, "BAD_REQUEST"],
      [{ contract: "counter", method: "get", args: `${"91".repeat(40)}c0` }, "TOO_DEEP"],
    ];
    for (const [body, code] of cases) {
      const r = await query(h, typeof body === "string" ? body : JSON.stringify(body));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body)).toBe(code);
    }
    expect(calls).toEqual([]);
  });

  it("answers malformed msgpack bodies and other content types with 4xx", async () => {
    const { h, calls } = await withCounter();
    const cases: [Uint8Array, string, number, string][] = [
      [new Uint8Array([0x93, 0xa1]), MP, 400, "MALFORMED"],
      [new Uint8Array([0xcc, 0x05]), MP, 400, "NON_CANONICAL"],
      [encode(["counter", "get"]), MP, 400, "BAD_REQUEST"],
      [encode(["counter", "get", "args"]), MP, 400, "BAD_REQUEST"],
      [encode(["counter", 1, []]), MP, 400, "BAD_REQUEST"],
      [encode(["BAD", "get", []]), MP, 400, "BAD_NAME"],
      [encode(["counter", "get", [], 1]), MP, 400, "BAD_REQUEST"],
      // msgpack maps are not canonical values.
      [new Uint8Array(pack({ contract: "counter", method: "get" })), MP, 400, "NON_CANONICAL"],
      [encode(["counter", "get", []]), "application/octet-stream", 415, "UNSUPPORTED_MEDIA_TYPE"],
      [utf8.encode("counter get"), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"],
    ];
    for (const [bytes, type, status, code] of cases) {
      const r = await read(await postBytes(`${h.url}/query`, bytes, type));
      expect(r.status, toHex(bytes)).toBe(status);
      expect(r.body.error.code, toHex(bytes)).toBe(code);
    }
    expect(calls).toEqual([]);
  });

  it("answers oversized bodies and args with 413", async () => {
    const { h } = await withCounter({ bodyLimit: 4096, maxQueryBytes: 100 });
    const big = toHex(encode([new Uint8Array(5000)]));
    expect(await query(h, { contract: "counter", method: "echo", args: big })).toMatchObject({
      status: 413,
      body: { error: { code: "BODY_TOO_LARGE" } },
    });
    const over = toHex(encode([new Uint8Array(200)]));
    expect(await query(h, { contract: "counter", method: "echo", args: over })).toMatchObject({
      status: 413,
      body: { error: { code: "QUERY_TOO_LARGE" } },
    });
    const mp = await postBytes(`${h.url}/query`, encode(["counter", "echo", [new Uint8Array(200)]]), MP);
    expect(await read(mp)).toMatchObject({ status: 413, body: { error: { code: "QUERY_TOO_LARGE" } } });
    const fits = toHex(encode([new Uint8Array(90)]));
    expect((await query(h, { contract: "counter", method: "echo", args: fits })).status).toBe(200);
  });

  it("never answers hostile input with a 500", async () => {
    const { h } = await withCounter();
    const bodies = [
      '{"contract":"constructor","method":"get"}',
      '{"contract":"__proto__","method":"get"}',
      '{"__proto__":{"contract":"counter"},"method":"get"}',
      '{"contract":"counter","method":"toString"}',
      '{"contract":"counter","method":"get","args":"0x"}',
      '{"contract":"counter","method":"get","args":"c1"}',
      '{"contract":"counter","method":"get","args":"dc0000"}',
      '{"contract":"counter","method":"get","args":"91d70000"}',
      `{"contract":"counter","method":"get","args":"${"9f".repeat(200)}"}`,
      '{"contract":["counter"],"method":{"a":1}}',
    ];
    for (const b of bodies) {
      const r = await query(h, b);
      expect(r.status, b).toBeGreaterThanOrEqual(200);
      expect(r.status, b).toBeLessThan(500);
    }
  });

  it("hides a backend fault behind 500 INTERNAL", async () => {
    const { h } = await withCounter();
    const r = await query(h, { contract: "counter", method: "crash" });
    expect(r).toMatchObject({ status: 500, body: { error: { code: "INTERNAL" } } });
    expect(r.body.error.message).not.toMatch(/handler bug/);
  });
});

describe("GET /contracts/:name", () => {
  it("describes native contracts", async () => {
    const h = await start();
    const { status, body } = await read(await fetch(`${h.url}/contracts/kv`));
    expect(status).toBe(200);
    expect(body).toEqual({ name: "kv", kind: "native", methods: ["put", "delete"] });
    expect((await read(await fetch(`${h.url}/contracts/contracts`))).body.methods).toEqual(["deploy", "upgrade"]);
  });

  it("describes a registered contract with hex bytes, in JSON or msgpack", async () => {
    const h = await start();
    const code = wasmModuleExporting(["get"]);
    const deployer = h.key.publicKey;
    h.backend.registerContract({
      name: "counter",
      methods: ["get"],
      code,
      version: 3,
      deployer,
      deployedAt: 1,
      updatedAt: 2,
    });
    const expected = {
      name: "counter",
      kind: "wasm",
      methods: ["get"],
      codeHash: toHex(sha256(code)),
      version: 3,
      deployer: toHex(deployer),
      deployedAt: 1,
      updatedAt: 2,
      codeSize: code.length,
    };
    expect(await read(await fetch(`${h.url}/contracts/counter`))).toEqual({ status: 200, body: expected });
    const mp = await read(await fetch(`${h.url}/contracts/counter`, { headers: { accept: MP } }));
    expect(mp).toEqual({ status: 200, body: expected });
    // Only what the backend knows: no invented fields.
    h.backend.registerContract({ name: "bare", methods: [] });
    expect((await read(await fetch(`${h.url}/contracts/bare`))).body).toEqual({
      name: "bare",
      kind: "wasm",
      methods: [],
    });
  });

  it("answers unknown and impossible names", async () => {
    const h = await start();
    expect(await read(await fetch(`${h.url}/contracts/nobody`))).toMatchObject({
      status: 404,
      body: { error: { code: "UNKNOWN_CONTRACT" } },
    });
    for (const name of ["Nope", "a%20b", "x".repeat(40), "constructor%00", "%E0%A4%A"]) {
      const r = await read(await fetch(`${h.url}/contracts/${name}`));
      expect(r.status, name).toBe(400);
      expect(["BAD_NAME", "BAD_REQUEST"], name).toContain(r.body.error.code);
    }
    expect((await read(await fetch(`${h.url}/contracts/constructor`))).status).toBe(404);
    expect((await read(await fetch(`${h.url}/contracts/`))).body.error.code).toBe("BAD_NAME");
  });
});

describe("MemoryBackend contracts", () => {
  async function send(h: Harness, contract: string, method: string, args: Value[]) {
    const tx = h.tx({ contract, method, args });
    const [admitted] = await h.backend.submit([tx.bytes]);
    expect(admitted).toMatchObject({ ok: true });
    const block = await h.backend.produceBlock();
    return block.receipts[0]!;
  }

  it("deploys and upgrades through the contracts contract, keeping the handler", async () => {
    const h = await start();
    const v1 = wasmModuleExporting(["get", "Internal"]);
    const deployed = await send(h, "contracts", "deploy", ["counter", v1]);
    expect(deployed).toMatchObject({ code: "OK" });
    expect(deployed.events).toEqual([{ contract: "contracts", name: "deployed", data: ["counter", sha256(v1), 1] }]);
    expect(await h.backend.getContract("counter")).toEqual({
      name: "counter",
      kind: "wasm",
      methods: ["get"],
      codeHash: sha256(v1),
      version: 1,
      deployer: h.key.publicKey,
      deployedAt: 1,
      updatedAt: 1,
      codeSize: v1.length,
    });
    h.backend.setContractHandler("counter", () => "v");
    const v2 = wasmModuleExporting(["get", "set"]);
    const upgraded = await send(h, "contracts", "upgrade", ["counter", v2]);
    expect(upgraded.events[0]).toMatchObject({ name: "upgraded", data: ["counter", sha256(v2), 2] });
    expect(await h.backend.getContract("counter")).toMatchObject({
      version: 2,
      deployedAt: 1,
      updatedAt: 2,
      methods: ["get", "set"],
    });
    expect((await query(h, { contract: "counter", method: "get" })).body).toMatchObject({ ok: true, output: "v" });
  });

  it("fails bad deploys and upgrades in the receipt", async () => {
    const admin = (await start()).key;
    const h = await start({}, { admins: [admin.publicKey] });
    const code = wasmModuleExporting(["get"]);
    expect((await send(h, "contracts", "deploy", ["counter", code])).code).toBe("UNAUTHORIZED");
    const open = await start();
    const cases: [string, Value[], string][] = [
      ["deploy", ["kv", code], "BAD_ARGS"],
      ["deploy", ["Bad", code], "BAD_ARGS"],
      ["deploy", ["counter", "code"], "BAD_ARGS"],
      ["deploy", ["counter"], "BAD_ARGS"],
      ["deploy", ["counter", new Uint8Array([0, 1, 2])], "INVALID_MODULE"],
      ["upgrade", ["counter", code], "UNKNOWN_CONTRACT"],
    ];
    for (const [method, args, code_] of cases) {
      expect((await send(open, "contracts", method, args)).code, JSON.stringify(args)).toBe(code_);
    }
    expect((await send(open, "contracts", "deploy", ["counter", code])).code).toBe("OK");
    expect((await send(open, "contracts", "deploy", ["counter", code])).code).toBe("ALREADY_DEPLOYED");
    expect((await send(open, "contracts", "upgrade", ["counter", code])).code).toBe("SAME_CODE");
  });

  it("runs transactions to a contract through its handler", async () => {
    const h = await start();
    let total = 0;
    h.backend.registerContract({
      name: "counter",
      methods: ["add"],
      handler: (c) => {
        if (c.readOnly) throw new ContractFailure("READ_ONLY", "no");
        const n = c.args[0] as number;
        if (n < 0) throw new ContractFailure("NEGATIVE", "no negative amounts");
        total += n;
        c.emit("added", [c.caller, n]);
        return total;
      },
    });
    const ok = await send(h, "counter", "add", [5]);
    expect(ok).toMatchObject({
      code: "OK",
      events: [{ contract: "counter", name: "added", data: [h.key.publicKey, 5] }],
    });
    const failed = await send(h, "counter", "add", [-1]);
    expect(failed).toMatchObject({ code: "NEGATIVE", message: "no negative amounts", events: [] });
    expect((await send(h, "counter", "sub", [1])).code).toBe("UNKNOWN_METHOD");
    expect(total).toBe(5);
    // A deployed contract's state is readable (empty here) rather than unknown.
    expect((await read(await fetch(`${h.url}/state/counter/k`))).status).toBe(404);
    expect((await read(await fetch(`${h.url}/state/counter/k`))).body.error.code).toBe("KEY_NOT_FOUND");
  });
});
