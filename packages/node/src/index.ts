// A Cairn node: the module that wires the FG DLT layers together (as CometBFT's node package
// does), plus home-directory set-up. The `cairn` CLI lives in ./bin.
export { NodeBackend } from "./backend.ts";
export {
  type BuildOptions,
  type BuildResult,
  buildContract,
  checkContractModule,
  scaffoldContract,
} from "./cli/contract.ts";
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
export {
  type ContainerState,
  createDockerTestnet,
  DockerCluster,
  type DockerClusterInfo,
  type DockerNodeInfo,
  type DockerNodeStatus,
  type DockerTestnetOptions,
  type DockerTestnetResult,
  FAULTS,
  type Fault,
} from "./docker.ts";
export { type BuildImageOptions, buildNodeImage, LOCAL_BASE_IMAGE } from "./docker-image.ts";
export { NodeError } from "./errors.ts";
export { type CairnNode, type NodeOptions, startNode } from "./node.ts";
export { VERSION } from "./version.ts";
