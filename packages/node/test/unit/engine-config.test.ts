import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, toHex } from "@cairn/crypto";
import { parseGenesis } from "@cairn/ledger";
import { describe, expect, it } from "vitest";
import { checkEngine, defaultNodeConfig, loadConfig, type NodeConfig } from "../../src/config.ts";

const genesis = (consensus?: "raft" | "tendermint") =>
  parseGenesis({
    chainId: "engine-config",
    genesisTime: 1,
    validators: [{ name: "v0", publicKey: toHex(generateKeyPair().publicKey), power: 1 }],
    admins: [],
    ...(consensus === undefined ? {} : { consensus }),
  });
const config = (engine: NodeConfig["consensus"]["engine"]): NodeConfig => ({
  ...defaultNodeConfig,
  consensus: { ...defaultNodeConfig.consensus, engine },
});

describe("the node's engine and the chain's", () => {
  it("runs the engine the genesis names, and says how to fix a config that names another", () => {
    expect(() => checkEngine(config("raft"), genesis("raft"))).not.toThrow();
    expect(() => checkEngine(config("tendermint"), genesis())).not.toThrow();
    expect(() => checkEngine(config("solo"), genesis())).not.toThrow();
    expect(() => checkEngine(config("tendermint"), genesis("raft"))).toThrow(
      /config.consensus.engine is "tendermint" but the chain's genesis runs raft: set config.consensus.engine to "raft"/,
    );
    expect(() => checkEngine(config("raft"), genesis("tendermint"))).toThrow(/BAD_CONFIG|genesis runs tendermint/);
    expect(() => checkEngine(config("solo"), genesis("raft"))).toThrow(/genesis runs raft/);
  });

  it("a genesis without an engine is Tendermint, and naming it does not change the chain's hash", async () => {
    const { genesisHash } = await import("@cairn/ledger");
    const g = genesis();
    expect(g.consensus).toBe("tendermint");
    expect(toHex(genesisHash({ ...g, consensus: "tendermint" }))).toBe(
      toHex(genesisHash({ ...g, consensus: undefined })),
    );
    expect(toHex(genesisHash({ ...g, consensus: "raft" }))).not.toBe(toHex(genesisHash(g)));
    expect(() =>
      parseGenesis({
        chainId: "x",
        genesisTime: 1,
        validators: g.validators.map((v) => ({ ...v, publicKey: toHex(v.publicKey) })),
        admins: [],
        consensus: "paxos",
      }),
    ).toThrow(/consensus must be one of tendermint, raft/);
  });
});

describe("config.consensus.minBlockInterval", () => {
  const loadWith = async (consensus: object) => {
    const home = mkdtempSync(join(tmpdir(), "cairn-config-"));
    try {
      writeFileSync(join(home, "config.json"), JSON.stringify({ consensus: { engine: "solo", ...consensus } }));
      return await loadConfig(home);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };

  it("is left to the engine's default unless set, and takes 0 to 60000 ms", async () => {
    expect((await loadWith({})).consensus.minBlockInterval).toBeUndefined();
    expect((await loadWith({ minBlockInterval: 0 })).consensus.minBlockInterval).toBe(0);
    expect((await loadWith({ minBlockInterval: 250 })).consensus.minBlockInterval).toBe(250);
  });

  it.each([-1, 2.5, 60_001, "120"])("refuses %j with BAD_CONFIG naming the field", async (minBlockInterval) => {
    await expect(loadWith({ minBlockInterval })).rejects.toMatchObject({
      code: "BAD_CONFIG",
      message: /config\.consensus\.minBlockInterval must be 0 to 60000 ms/,
    });
  });
});
