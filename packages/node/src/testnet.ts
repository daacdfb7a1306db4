import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { generateKeyPair, type KeyPair } from "@cairn/crypto";
import { defaultChainParams, type Genesis, genesisToJson } from "@cairn/ledger";
import { loadOrCreatePeerKey, peerIdFromKeyFile } from "@cairn/network";
import { defaultNodeConfig, homePaths, type NodeConfig, writeKeyFile } from "./config.ts";
import { NodeError } from "./errors.ts";

/**
 * A BFT block must reach every validator and be re-executed by each of them within the propose
 * timeout, so it is bounded well below the solo default: under overload, blocks of 10,000
 * transactions missed their rounds (nothing committed for ~20 s), blocks of 2,000 commit in round 0.
 */
export const BFT_MAX_BLOCK_TXS = 2_000;

export interface TestnetOptions {
  readonly validators: number;
  readonly out: string;
  /** API ports are basePort + i, peer-to-peer ports basePort + 100 + i. */
  readonly basePort?: number;
  readonly chainId?: string;
}

export interface TestnetResult {
  readonly out: string;
  readonly chainId: string;
  readonly homes: readonly string[];
  readonly apiUrls: readonly string[];
  readonly admin: KeyPair;
  readonly client: KeyPair;
}

/**
 * Writes a local BFT cluster: one home per validator (DIR/node0 ... DIR/nodeN-1) with its
 * validator key, its libp2p peer key and a config, and one genesis shared by all (validator set,
 * member nodes, admin and client keys). Ports are chosen so the nodes share one machine.
 */
export async function createTestnet(opts: TestnetOptions): Promise<TestnetResult> {
  const n = opts.validators;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new NodeError("BAD_TESTNET", "--validators must be 1 to 64");
  const basePort = opts.basePort ?? 26600;
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + 100 + n > 65535) {
    throw new NodeError("BAD_TESTNET", "--base-port must leave room for API (base+i) and p2p (base+100+i) ports");
  }
  const out = resolve(opts.out);
  const chainId = opts.chainId ?? "cairn-testnet";
  const homes = Array.from({ length: n }, (_, i) => join(out, `node${i}`));
  const validators: KeyPair[] = [];
  const peerIds: string[] = [];
  for (const home of homes) {
    const p = homePaths(home);
    await mkdir(p.keys, { recursive: true, mode: 0o700 });
    const v = generateKeyPair();
    await writeKeyFile(p.validatorKey, v).catch((e: NodeJS.ErrnoException) => {
      throw new NodeError(
        "HOME_EXISTS",
        e.code === "EEXIST" ? `${home} already holds a node; choose another --out` : e.message,
      );
    });
    validators.push(v);
    await loadOrCreatePeerKey(p.peerKey);
    peerIds.push(String(await peerIdFromKeyFile(p.peerKey)));
  }
  const admin = generateKeyPair();
  const client = generateKeyPair();
  const genesis: Genesis = {
    chainId,
    genesisTime: Date.now(),
    validators: validators.map((v, i) => ({ publicKey: v.publicKey, power: 1, name: `node${i}` })),
    admins: [admin.publicKey],
    accounts: [
      { publicKey: admin.publicKey, balance: 1_000_000_000_000n },
      { publicKey: client.publicKey, balance: 1_000_000_000n },
    ],
    members: peerIds.map((peerId, i) => ({ name: `node${i}`, peerId })),
    params: { ...defaultChainParams, maxBlockTxs: BFT_MAX_BLOCK_TXS },
  };
  const genesisText = `${JSON.stringify(genesisToJson(genesis), null, 2)}\n`;
  const p2pAddr = (i: number) => `/ip4/127.0.0.1/tcp/${basePort + 100 + i}`;
  await mkdir(join(out, "keys"), { recursive: true, mode: 0o700 });
  await writeKeyFile(join(out, "keys", "admin.json"), admin);
  await writeKeyFile(join(out, "keys", "client.json"), client);
  for (let i = 0; i < n; i++) {
    const home = homes[i] as string;
    const p = homePaths(home);
    const config: NodeConfig = {
      ...defaultNodeConfig,
      moniker: `node${i}`,
      api: { host: "127.0.0.1", port: basePort + i },
      consensus: { engine: "tendermint", blockInterval: defaultNodeConfig.consensus.blockInterval },
      p2p: {
        listen: p2pAddr(i),
        bootstrap: peerIds.flatMap((id, j) => (j === i ? [] : [`${p2pAddr(j)}/p2p/${id}`])),
      },
    };
    // Each home holds the admin key too, so `cairn tx ... --home DIR/nodeI` signs with it.
    await writeKeyFile(p.adminKey, admin);
    await writeFile(p.genesis, genesisText, { flag: "wx" });
    await writeFile(p.config, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx" });
  }
  return {
    out,
    chainId,
    homes,
    apiUrls: homes.map((_, i) => `http://127.0.0.1:${basePort + i}`),
    admin,
    client,
  };
}
