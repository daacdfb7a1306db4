// A Cairn node: the module that wires the FG DLT layers together (as CometBFT's node package
// does), its configuration and home directory, and the stores it keeps beside the ledger. The
// `cairn` CLI is @cairn/cli; testnets and cluster tooling are @cairn/cluster.
export { assessReadiness, NodeBackend } from "./backend.ts";
export {
  defaultNodeConfig,
  homePaths,
  type InitOptions,
  type InitResult,
  initHome,
  loadConfig,
  loadGenesis,
  type NodeConfig,
  readKeyFile,
  writeKeyFile,
} from "./config.ts";
export { NodeError } from "./errors.ts";
export { type CairnNode, type NodeOptions, startNode } from "./node.ts";
export { createSafetyStore } from "./safety-store.ts";
export { VERSION } from "./version.ts";
