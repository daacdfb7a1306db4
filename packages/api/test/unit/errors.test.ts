import { connect } from "node:net";
import { toHex } from "@cairn/crypto";
import { encode } from "@cairn/messaging";
import { unpack } from "msgpackr";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS, statusForCode, wantsMsgpack } from "../../src/index.ts";
import { type Json, postBytes, postJson, start } from "./helpers.ts";

async function expectError(res: Response, status: number, code: string): Promise<Json> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as Json;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  return body;
}

describe("the error table", () => {
  it("maps every documented code to its status", () => {
    const expected: Record<number, string[]> = {
      400: [
        "MALFORMED",
        "NON_CANONICAL",
        "BAD_FIELD",
        "BAD_VERSION",
        "TOO_DEEP",
        "UNSUPPORTED_VALUE",
        "BAD_SIGNATURE",
        "WRONG_CHAIN",
        "EXPIRED",
        "EXPIRY_TOO_FAR",
        "UNKNOWN_CONTRACT",
        "UNKNOWN_METHOD",
        "BAD_ARGS",
        "BAD_REQUEST",
        "BAD_HEX",
        "BAD_NAME",
        "PRIVATE_DATA_MISMATCH",
        "PRIVATE_DATA_REQUIRED",
        "NO_PRIVATE_DATA",
      ],
      413: ["TX_TOO_LARGE", "BODY_TOO_LARGE", "BATCH_TOO_LARGE", "QUERY_TOO_LARGE"],
      401: ["READ_SIGNATURE_REQUIRED", "BAD_READ_SIGNATURE", "READ_SIGNATURE_EXPIRED"],
      403: ["UNKNOWN_IDENTITY", "IDENTITY_REVOKED", "ROLE_REQUIRED", "NOT_A_MEMBER"],
      409: ["DUPLICATE"],
      404: [
        "TX_NOT_FOUND",
        "BLOCK_NOT_FOUND",
        "KEY_NOT_FOUND",
        "PROPOSAL_NOT_FOUND",
        "IDENTITY_NOT_FOUND",
        "EVIDENCE_NOT_FOUND",
        "TRACE_NOT_FOUND",
        "NOT_FOUND",
        "NO_SUCH_COLLECTION",
        "PRIVATE_NOT_HELD",
      ],
      408: ["REQUEST_TIMEOUT"],
      431: ["HEADERS_TOO_LARGE"],
      415: ["UNSUPPORTED_MEDIA_TYPE"],
      429: ["RATE_LIMITED", "TOO_MANY_CONNECTIONS"],
      503: ["MEMPOOL_FULL", "NOT_READY", "SERVER_BUSY", "PRIVATE_DISSEMINATION_FAILED"],
      500: ["INTERNAL"],
    };
    const flat = Object.entries(expected).flatMap(([st, codes]) => codes.map((c) => [c, Number(st)] as const));
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(flat.map(([c]) => c).sort());
    for (const [code, st] of flat) expect(statusForCode(code), code).toBe(st);
    expect(statusForCode("SOME_NEW_ADMISSION_RULE")).toBe(400);
    expect(statusForCode("toString")).toBe(400);
  });
});

describe("bad input", () => {
  it("answers malformed or empty JSON", async () => {
    const h = await start();
    await expectError(await postJson(`${h.url}/txs`, "{not json"), 400, "MALFORMED");
    await expectError(await postJson(`${h.url}/txs`, ""), 400, "BAD_REQUEST");
    await expectError(await postJson(`${h.url}/txs`, '{"__proto__":{"x":1}}'), 400, "MALFORMED");
  });

  it("answers JSON of the wrong shape", async () => {
    const h = await start();
    for (const body of [[], '"str"', "null", { nothing: 1 }, { tx: 1 }, { txs: "00" }, { tx: "00", txs: ["00"] }]) {
      const res = await postJson(`${h.url}/txs`, typeof body === "string" ? body : JSON.stringify(body));
      const code = (body as Json)?.tx === 1 ? "BAD_HEX" : "BAD_REQUEST";
      await expectError(res, 400, code);
    }
    await expectError(await postJson(`${h.url}/txs`, { tx: "0g" }), 400, "BAD_HEX");
    await expectError(await postJson(`${h.url}/txs`, { tx: "abc" }), 400, "BAD_HEX");
  });

  it("passes the messaging layer's codes through for bad envelopes", async () => {
    const h = await start();
    await expectError(await postJson(`${h.url}/txs`, { tx: "" }), 400, "MALFORMED");
    await expectError(await postJson(`${h.url}/txs`, { tx: toHex(encode([1, 2])) }), 400, "BAD_FIELD");
    // 5 encoded as uint8 (0xcc 0x05) is not the canonical positive fixint.
    await expectError(await postJson(`${h.url}/txs`, { tx: "cc05" }), 400, "NON_CANONICAL");
  });

  it("answers bad msgpack bodies", async () => {
    const h = await start();
    const mp = "application/msgpack";
    await expectError(await postBytes(`${h.url}/txs`, new Uint8Array([0xc4]), mp), 400, "MALFORMED");
    await expectError(await postBytes(`${h.url}/txs`, new Uint8Array([0xcc, 0x05]), mp), 400, "NON_CANONICAL");
    await expectError(await postBytes(`${h.url}/txs`, encode("text"), mp), 400, "BAD_REQUEST");
    await expectError(await postBytes(`${h.url}/txs`, encode([]), mp), 400, "BAD_REQUEST");
    // 40 nested one-element arrays around a bin.
    const bytes = new Uint8Array([...new Array(40).fill(0x91), 0xc4, 0x01, 0x00]);
    await expectError(await postBytes(`${h.url}/txs`, bytes, mp), 400, "TOO_DEEP");
  });

  it("answers unsupported content types", async () => {
    const h = await start();
    await expectError(
      await postBytes(`${h.url}/txs`, new Uint8Array([1]), "text/plain"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    await expectError(await postBytes(`${h.url}/txs`, new Uint8Array([1]), "image/png"), 415, "UNSUPPORTED_MEDIA_TYPE");
    await expectError(await postBytes(`${h.url}/txs`, new Uint8Array([1]), "nonsense"), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers a POST without a body", async () => {
    const h = await start();
    await expectError(await fetch(`${h.url}/txs`, { method: "POST" }), 400, "BAD_REQUEST");
  });

  it("answers oversized bodies with 413 BODY_TOO_LARGE", async () => {
    const h = await start({ bodyLimit: 1024 });
    await expectError(await postJson(`${h.url}/txs`, { tx: "00".repeat(2048) }), 413, "BODY_TOO_LARGE");
    const mp = await postBytes(`${h.url}/txs`, new Uint8Array(4096), "application/msgpack");
    await expectError(mp, 413, "BODY_TOO_LARGE");
  });

  it("answers unknown routes and methods with 404 NOT_FOUND", async () => {
    const h = await start();
    await expectError(await fetch(`${h.url}/nope`), 404, "NOT_FOUND");
    await expectError(await fetch(`${h.url}/txs`), 404, "NOT_FOUND");
    await expectError(await fetch(`${h.url}/status`, { method: "DELETE" }), 404, "NOT_FOUND");
    await expectError(await fetch(`${h.url}/state/kv`), 404, "NOT_FOUND");
  });

  it("answers malformed URLs with 400 BAD_REQUEST", async () => {
    const h = await start();
    await expectError(await fetch(`${h.url}/state/kv/%E0%A4%A`), 400, "BAD_REQUEST");
    await expectError(await fetch(`${h.url}/txs/%zz`), 400, "BAD_REQUEST");
  });

  it("answers errors in msgpack when asked", async () => {
    const h = await start();
    const res = await fetch(`${h.url}/nope`, { headers: { accept: "application/msgpack" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/msgpack");
    expect(unpack(new Uint8Array(await res.arrayBuffer()))).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("hides backend faults behind 500 INTERNAL", async () => {
    const h = await start();
    h.backend.getTx = async () => {
      throw new TypeError("secret detail");
    };
    const body = await expectError(await fetch(`${h.url}/txs/${"00".repeat(32)}`), 500, "INTERNAL");
    expect(body.error.message).not.toMatch(/secret/);
    h.backend.submit = async () => [];
    await expectError(await postJson(`${h.url}/txs`, { tx: "00" }), 500, "INTERNAL");
  });

  it("answers broken HTTP in the same format", async () => {
    const h = await start();
    const { port } = new URL(h.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), "127.0.0.1", () => sock.write("GARBAGE\r\n\r\n"));
      let data = "";
      sock.on("data", (d) => {
        data += d.toString();
      });
      sock.on("end", () => resolve(data));
      sock.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect(reply).toMatch(/"code":"BAD_REQUEST"/);
    // Oversized headers: 431 with its own code, in the error table.
    const big = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), "127.0.0.1", () =>
        sock.write(`GET /status HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`),
      );
      let data = "";
      sock.on("data", (d) => {
        data += d.toString();
      });
      sock.on("end", () => resolve(data));
      sock.on("error", reject);
    });
    expect(big).toMatch(/^HTTP\/1.1 431/);
    expect(big).toMatch(/"code":"HEADERS_TOO_LARGE"/);
  });

  it("keeps serving after bad input", async () => {
    const h = await start();
    await postJson(`${h.url}/txs`, "{{{");
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
  });
});

describe("content negotiation", () => {
  it("chooses msgpack only when named and not outranked by JSON", () => {
    expect(wantsMsgpack(undefined)).toBe(false);
    expect(wantsMsgpack("*/*")).toBe(false);
    expect(wantsMsgpack("application/json")).toBe(false);
    expect(wantsMsgpack("application/msgpack")).toBe(true);
    expect(wantsMsgpack("application/x-msgpack")).toBe(true);
    expect(wantsMsgpack("application/json, application/msgpack")).toBe(true);
    expect(wantsMsgpack("application/json, application/msgpack;q=0.5")).toBe(false);
    expect(wantsMsgpack("application/json;q=0.1, application/msgpack;q=0.9")).toBe(true);
    expect(wantsMsgpack("application/msgpack;q=0")).toBe(false);
    expect(wantsMsgpack("Application/MsgPack, */*")).toBe(true);
  });
});

describe("logging", () => {
  it("logs backend faults to an injected pino-compatible logger", async () => {
    const lines: { level: string; args: unknown[] }[] = [];
    const make = (): Json => {
      const log: Json = { level: "info" };
      for (const level of ["trace", "debug", "info", "warn", "error", "fatal"]) {
        log[level] = (...args: unknown[]) => lines.push({ level, args });
      }
      log.child = () => log;
      return log;
    };
    const h = await start({ logger: make() });
    h.backend.getBlock = async () => {
      throw new RangeError("disk on fire");
    };
    expect((await fetch(`${h.url}/blocks/1`)).status).toBe(500);
    const errors = lines.filter((l) => l.level === "error");
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors[0]!.args)).toContain("request failed");
  });
});

describe("startup", () => {
  it("fails cleanly when the port is taken", async () => {
    const h = await start();
    const { port } = new URL(h.url);
    await expect(start({ port: Number(port) })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});
