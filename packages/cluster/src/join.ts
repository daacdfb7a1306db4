import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { generateKeyPair, toHex } from "@cairn/crypto";
import { loadOrCreatePeerKey, peerIdFromKeyFile } from "@cairn/network";
import { homePaths, loadConfig, type NodeConfig, writeKeyFile } from "@cairn/node/config";
import { ClusterError } from "./errors.ts";

export interface JoinOptions {
  /** The home of a node of the network to join: its genesis is copied, its address bootstraps. */
  readonly from: string;
  readonly out: string;
  readonly moniker: string;
  readonly apiPort: number;
  readonly p2pPort: number;
  readonly host?: string;
}

export interface JoinResult {
  readonly home: string;
  /** libp2p peer id: what `gov propose add-node` registers. */
  readonly peerId: string;
  /** Validator (consensus) public key, hex: what `gov propose add-validator` adds. */
  readonly publicKey: string;
}

/**
 * Writes the home of a node joining an existing network (nodes management): the network's genesis,
 * a fresh validator key and libp2p key, and a config that bootstraps from `from` and its peers.
 * The network admits the node once governance registers its peer id (add-node); it then syncs and
 * follows consensus as an observer, and votes once it is added to the validator set (add-validator).
 */
export async function createJoinHome(opts: JoinOptions): Promise<JoinResult> {
  const from = homePaths(resolve(opts.from));
  const fromConfig = await loadConfig(from.home);
  if (fromConfig.p2p === undefined) {
    throw new ClusterError("BAD_CONFIG", `${from.home} is not a node of a network (its config has no p2p section)`);
  }
  const fromPeer = String(await peerIdFromKeyFile(from.peerKey));
  const p = homePaths(resolve(opts.out));
  await mkdir(p.keys, { recursive: true, mode: 0o700 });
  const validator = generateKeyPair();
  await writeKeyFile(p.validatorKey, validator).catch((e: NodeJS.ErrnoException) => {
    throw new ClusterError(
      "HOME_EXISTS",
      e.code === "EEXIST" ? `${p.home} already holds a node; choose another --out` : e.message,
    );
  });
  await loadOrCreatePeerKey(p.peerKey);
  const peerId = String(await peerIdFromKeyFile(p.peerKey));
  const host = opts.host ?? "127.0.0.1";
  const config: NodeConfig = {
    ...fromConfig,
    moniker: opts.moniker,
    api: { host, port: opts.apiPort },
    p2p: {
      listen: `/ip4/${host}/tcp/${opts.p2pPort}`,
      bootstrap: [`${fromConfig.p2p.listen}/p2p/${fromPeer}`, ...fromConfig.p2p.bootstrap],
    },
  };
  await copyFile(from.genesis, p.genesis);
  await writeFile(p.config, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx" });
  return { home: p.home, peerId, publicKey: toHex(validator.publicKey) };
}
