import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { generateKeyPair, type KeyPair } from "@cairn/crypto";
import {
  defaultChainParams,
  type Genesis,
  type GenesisOrganization,
  genesisToJson,
  type ReadAccess,
} from "@cairn/ledger";
import type { Role } from "@cairn/management";
import { loadOrCreatePeerKey, peerIdFromKeyFile } from "@cairn/network";
import { defaultNodeConfig, homePaths, type NodeConfig, writeKeyFile } from "@cairn/node/config";
import { ClusterError } from "./errors.ts";

/**
 * A BFT block must reach every validator and be re-executed by each of them within the propose
 * timeout, so it is bounded well below the solo default: under overload, blocks of 10,000
 * transactions missed their rounds (nothing committed for ~20 s), blocks of 2,000 commit in round 0.
 */
export const BFT_MAX_BLOCK_TXS = 2_000;

export interface TestnetOptions {
  readonly validators: number;
  readonly out: string;
  /** API ports are basePort + i, peer-to-peer ports basePort + 100 + i (validators first, then observers). */
  readonly basePort?: number;
  readonly chainId?: string;
  /** Non-validating full nodes (DIR/observer0 ...) in the node registry (default 0). */
  readonly observers?: number;
  /** Client keys to register and fund: keys/client.json, then keys/client-1.json ... (default 1). */
  readonly clients?: number;
  /** Read policy of the chain (default "open"). */
  readonly readAccess?: ReadAccess;
  /** The chain's bound on transactions per block (default BFT_MAX_BLOCK_TXS). */
  readonly maxBlockTxs?: number;
  /** The chain's consensus engine, written into its genesis (default "tendermint"). */
  readonly engine?: NonNullable<Genesis["consensus"]>;
  /** Extra consensus settings in every node's config (say, a teaching cluster's timeouts and pace). */
  readonly consensus?: Partial<Omit<NodeConfig["consensus"], "engine">>;
  /**
   * The libp2p address node i (validators, then observers) listens on and the others dial (default
   * /ip4/127.0.0.1/tcp/base+100+i); a Docker cluster uses each container's fixed address (docker.ts).
   */
  readonly p2pAddress?: (i: number) => string;
}

export interface TestnetResult {
  readonly out: string;
  readonly chainId: string;
  /** Validator homes, then observer homes. */
  readonly homes: readonly string[];
  readonly apiUrls: readonly string[];
  /** org0's admin (roles admin, client, deployer): DIR/keys/admin.json. */
  readonly admin: KeyPair;
  /** The admin of each organisation orgI (DIR/keys/orgI-admin.json); orgAdmins[0] is `admin`. */
  readonly orgAdmins: readonly KeyPair[];
  readonly client: KeyPair;
  readonly clients: readonly KeyPair[];
  /** org0's auditor (DIR/keys/auditor.json): reads everything, submits nothing. */
  readonly auditor: KeyPair;
}

const FUNDS = { admin: 1_000_000_000_000n, client: 1_000_000_000n } as const;

/**
 * Writes a local permissioned BFT cluster: one organisation per validator (org0 ... orgN-1), each
 * with an admin key; one home per validator (DIR/node0 ... DIR/nodeN-1) and per observer
 * (DIR/observer0 ...) with its validator key, its libp2p peer key and a config; and one genesis
 * shared by all (organisations and their identities, validator set, node registry, balances).
 * Each home's keys/admin.json is its organisation's admin, so `cairn gov approve --home DIR/nodeI`
 * approves for orgI. Ports are chosen so the nodes share one machine.
 */
export async function createTestnet(opts: TestnetOptions): Promise<TestnetResult> {
  const n = opts.validators;
  const observers = opts.observers ?? 0;
  const clientCount = opts.clients ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ClusterError("BAD_TESTNET", "--validators must be 1 to 64");
  if (!Number.isInteger(observers) || observers < 0 || n + observers > 64) {
    throw new ClusterError("BAD_TESTNET", "--observers must be 0 or more, with at most 64 nodes in all");
  }
  if (!Number.isInteger(clientCount) || clientCount < 1 || clientCount > 10_000) {
    throw new ClusterError("BAD_TESTNET", "--clients must be 1 to 10000");
  }
  const maxBlockTxs = opts.maxBlockTxs ?? BFT_MAX_BLOCK_TXS;
  if (!Number.isInteger(maxBlockTxs) || maxBlockTxs < 1 || maxBlockTxs > defaultChainParams.maxBlockTxs) {
    throw new ClusterError("BAD_TESTNET", `--max-block-txs must be 1 to ${defaultChainParams.maxBlockTxs}`);
  }
  const total = n + observers;
  const basePort = opts.basePort ?? 26600;
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + 100 + total > 65535) {
    throw new ClusterError("BAD_TESTNET", "--base-port must leave room for API (base+i) and p2p (base+100+i) ports");
  }
  const out = resolve(opts.out);
  const chainId = opts.chainId ?? "cairn-testnet";
  const names = [
    ...Array.from({ length: n }, (_, i) => `node${i}`),
    ...Array.from({ length: observers }, (_, i) => `observer${i}`),
  ];
  const homes = names.map((name) => join(out, name));
  const nodeKeys: KeyPair[] = [];
  const peerIds: string[] = [];
  for (const home of homes) {
    const p = homePaths(home);
    await mkdir(p.keys, { recursive: true, mode: 0o700 });
    const v = generateKeyPair();
    await writeKeyFile(p.validatorKey, v).catch((e: NodeJS.ErrnoException) => {
      throw new ClusterError(
        "HOME_EXISTS",
        e.code === "EEXIST" ? `${home} already holds a node; choose another --out` : e.message,
      );
    });
    nodeKeys.push(v);
    await loadOrCreatePeerKey(p.peerKey);
    peerIds.push(String(await peerIdFromKeyFile(p.peerKey)));
  }
  const orgAdmins = Array.from({ length: n }, () => generateKeyPair());
  const admin = orgAdmins[0] as KeyPair;
  const clients = Array.from({ length: clientCount }, () => generateKeyPair());
  const client = clients[0] as KeyPair;
  const auditor = generateKeyPair();
  // Observers belong to org0, the organisation that also holds the shared client keys.
  const orgOf = (i: number) => `org${i < n ? i : 0}`;
  const organizations: GenesisOrganization[] = orgAdmins.map((a, i) => ({
    name: `org${i}`,
    members: [
      { publicKey: a.publicKey, roles: ["admin", "client", "deployer"] },
      { publicKey: (nodeKeys[i] as KeyPair).publicKey, roles: ["validator"] },
      ...(i === 0
        ? [
            ...clients.map((c) => ({ publicKey: c.publicKey, roles: ["client"] as Role[] })),
            { publicKey: auditor.publicKey, roles: ["auditor"] as Role[] },
          ]
        : []),
    ],
  }));
  const genesis: Genesis = {
    chainId,
    genesisTime: Date.now(),
    validators: nodeKeys.slice(0, n).map((v, i) => ({ publicKey: v.publicKey, power: 1, name: `node${i}` })),
    admins: [admin.publicKey],
    accounts: [
      ...orgAdmins.map((a) => ({ publicKey: a.publicKey, balance: FUNDS.admin })),
      ...clients.map((c) => ({ publicKey: c.publicKey, balance: FUNDS.client })),
    ],
    members: peerIds.map((peerId, i) => ({ name: names[i] as string, peerId, org: orgOf(i) })),
    organizations,
    readAccess: opts.readAccess ?? "open",
    ...(opts.engine === "raft" ? { consensus: "raft" as const } : {}),
    params: { ...defaultChainParams, maxBlockTxs },
  };
  const genesisText = `${JSON.stringify(genesisToJson(genesis), null, 2)}\n`;
  const p2pAddr = opts.p2pAddress ?? ((i: number) => `/ip4/127.0.0.1/tcp/${basePort + 100 + i}`);
  const keysDir = join(out, "keys");
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  await writeKeyFile(join(keysDir, "admin.json"), admin);
  for (let i = 0; i < n; i++) await writeKeyFile(join(keysDir, `org${i}-admin.json`), orgAdmins[i] as KeyPair);
  await writeKeyFile(join(keysDir, "client.json"), client);
  for (let j = 1; j < clientCount; j++) await writeKeyFile(join(keysDir, `client-${j}.json`), clients[j] as KeyPair);
  await writeKeyFile(join(keysDir, "auditor.json"), auditor);
  for (let i = 0; i < total; i++) {
    const home = homes[i] as string;
    const p = homePaths(home);
    const config: NodeConfig = {
      ...defaultNodeConfig,
      moniker: names[i] as string,
      api: { host: "127.0.0.1", port: basePort + i },
      consensus: {
        engine: opts.engine ?? "tendermint",
        blockInterval: defaultNodeConfig.consensus.blockInterval,
        ...opts.consensus,
      },
      p2p: {
        listen: p2pAddr(i),
        bootstrap: peerIds.flatMap((id, j) => (j === i ? [] : [`${p2pAddr(j)}/p2p/${id}`])),
      },
    };
    // Each home holds its organisation's admin key, so `cairn tx|gov ... --home DIR/nodeI` signs with it.
    await writeKeyFile(p.adminKey, orgAdmins[i < n ? i : 0] as KeyPair);
    await writeFile(p.genesis, genesisText, { flag: "wx" });
    await writeFile(p.config, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx" });
  }
  return {
    out,
    chainId,
    homes,
    apiUrls: homes.map((_, i) => `http://127.0.0.1:${basePort + i}`),
    admin,
    orgAdmins,
    client,
    clients,
    auditor,
  };
}
