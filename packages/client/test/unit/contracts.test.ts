import { sha256, toHex, utf8 } from "@cairn/crypto";
import { ContractFailure, wasmModuleExporting } from "@cairn/test-utils";
import { describe, expect, it } from "vitest";
import { CairnApiError, CairnClientError, call, contracts, generateKey, type Value } from "../../src/index.ts";
import { start } from "./helpers.ts";

describe("contract call builders", () => {
  const code = wasmModuleExporting(["get"]);

  it("builds deploy and upgrade calls of the contracts contract", () => {
    expect(contracts.deploy("counter", code)).toEqual({
      contract: "contracts",
      method: "deploy",
      args: ["counter", code],
    });
    expect(contracts.upgrade("my_app-2", code)).toEqual({
      contract: "contracts",
      method: "upgrade",
      args: ["my_app-2", code],
    });
  });

  it("rejects names the chain would refuse and bytes that are not a module", () => {
    for (const name of ["", "Counter", "1abc", "a".repeat(33), "a b"]) {
      expect(() => contracts.deploy(name, code), name).toThrow(expect.objectContaining({ code: "BAD_NAME" }));
    }
    expect(() => contracts.upgrade("x", utf8.encode("not wasm"))).toThrow(
      expect.objectContaining({ code: "BAD_CODE" }),
    );
    expect(() => contracts.deploy("x", new Uint8Array(0))).toThrow(CairnClientError);
    expect(() => contracts.deploy("x", "0061736d" as never)).toThrow(expect.objectContaining({ code: "BAD_CODE" }));
  });

  it("builds generic calls", () => {
    expect(call("counter", "add", [1, "x"])).toEqual({ contract: "counter", method: "add", args: [1, "x"] });
    expect(call("counter", "reset")).toEqual({ contract: "counter", method: "reset", args: [] });
    expect(() => call("", "m")).toThrow(expect.objectContaining({ code: "BAD_NAME" }));
    expect(() => call("c", "")).toThrow(expect.objectContaining({ code: "BAD_NAME" }));
  });
});

describe("client.query", () => {
  it("decodes the output, keeping 64-bit integers and binary exact", async () => {
    const { client, backend } = await start();
    const seen: (readonly Value[])[] = [];
    backend.registerContract({
      name: "echo",
      methods: ["echo", "none"],
      handler: (c) => {
        seen.push(c.args);
        return c.method === "echo" ? [...c.args] : undefined;
      },
    });
    await backend.produceBlock();
    const args: Value[] = ["hi", 2n ** 63n, -5, new Uint8Array([0xff]), null, true, [1, [2]]];
    const r = await client.query("echo", "echo", args);
    expect(r).toEqual({
      ok: true,
      output: args,
      outputJson: ["hi", String(2n ** 63n), -5, "0xff", null, true, [1, [2]]],
      outputHex: expect.any(String),
      gasUsed: expect.any(Number),
      height: 1,
    });
    expect(seen[0]).toEqual(args);
    const none = await client.query("echo", "none");
    expect(none).toMatchObject({ ok: true, output: null, outputJson: null, outputHex: "" });
    expect(seen[1]).toEqual([]);
  });

  it("returns contract failures as results", async () => {
    const { client, backend } = await start();
    backend.registerContract({
      name: "strict",
      methods: ["check"],
      handler: () => {
        throw new ContractFailure("NOT_ALLOWED", "no way");
      },
    });
    const r = await client.query("strict", "check", [1]);
    expect(r).toEqual({
      ok: false,
      output: null,
      outputJson: null,
      outputHex: "",
      gasUsed: expect.any(Number),
      height: 0,
      code: "NOT_ALLOWED",
      message: "no way",
    });
    expect((await client.query("strict", "other")).code).toBe("UNKNOWN_METHOD");
    expect((await client.query("kv", "get")).code).toBe("NOT_QUERYABLE");
  });

  it("throws for unknown contracts, bad names and unencodable args", async () => {
    const { client } = await start();
    await expect(client.query("nobody", "get")).rejects.toMatchObject({
      name: "CairnApiError",
      code: "UNKNOWN_CONTRACT",
      status: 404,
    });
    await expect(client.query("No Such", "get")).rejects.toMatchObject({ code: "BAD_NAME", status: 400 });
    await expect(client.query("echo", "get", [1.5])).rejects.toMatchObject({
      name: "CairnClientError",
      code: "BAD_ARGS",
    });
    await expect(client.query("echo", "get", [{ a: 1 } as never])).rejects.toBeInstanceOf(CairnClientError);
  });
});

describe("client.getContract", () => {
  it("describes native and deployed contracts, and gives undefined for unknown ones", async () => {
    const { client } = await start();
    expect(await client.getContract("token")).toEqual({ name: "token", kind: "native", methods: ["mint", "transfer"] });
    expect(await client.getContract("nobody")).toBeUndefined();
    await expect(client.getContract("Bad Name")).rejects.toBeInstanceOf(CairnApiError);
  });

  it("follows a deploy and an upgrade sent by a signer", async () => {
    const { client, backend } = await start({ autoBlockMs: 5 });
    const admin = client.signer(generateKey());
    const v1 = wasmModuleExporting(["get"]);
    const d = await admin.send(contracts.deploy("counter", v1), { wait: "commit" });
    expect(d.receipt).toMatchObject({
      code: "OK",
      events: [{ contract: "contracts", name: "deployed", data: ["counter", `0x${toHex(sha256(v1))}`, 1] }],
    });
    expect(await client.getContract("counter")).toEqual({
      name: "counter",
      kind: "wasm",
      methods: ["get"],
      codeHash: toHex(sha256(v1)),
      version: 1,
      deployer: admin.address,
      deployedAt: 1,
      updatedAt: 1,
      codeSize: v1.length,
    });

    backend.setContractHandler("counter", (c) => (c.readOnly ? 7 : undefined));
    const v2 = wasmModuleExporting(["get", "add"]);
    const u = await admin.send(contracts.upgrade("counter", v2), { wait: "commit" });
    expect(u.receipt?.events[0]).toMatchObject({ name: "upgraded", data: ["counter", `0x${toHex(sha256(v2))}`, 2] });
    expect(await client.getContract("counter")).toMatchObject({ version: 2, methods: ["get", "add"], deployedAt: 1 });

    const c = await admin.send(call("counter", "add", [1]), { wait: "commit" });
    expect(c.receipt?.code).toBe("OK");
    expect((await client.query("counter", "get")).output).toBe(7);

    const again = await admin.send(contracts.deploy("counter", v1), { wait: "commit" });
    expect(again.receipt?.code).toBe("ALREADY_DEPLOYED");
  });
});
