// Cluster tooling: write a testnet (process homes or a Docker Compose project), add a node to a
// chain, build the node image, inject faults into containers, and supervise a local cluster of
// processes. The CLI and `cairn bench` use it; a node never does.

export {
  type ClusterControl,
  ControlError,
  type ControlledNode,
  type NodeState,
  startControlServer,
} from "./control.ts";
export {
  COMPOSE_FILE,
  type ContainerState,
  composeFile,
  createDockerTestnet,
  DOCKER_CLUSTER_FILE,
  DockerCluster,
  type DockerClusterInfo,
  type DockerNodeInfo,
  type DockerNodeStatus,
  type DockerTestnetOptions,
  type DockerTestnetResult,
  FAULTS,
  type Fault,
  projectName,
  run,
  subnetPlan,
} from "./docker.ts";
export { type BuildImageOptions, buildNodeImage, LOCAL_BASE_IMAGE } from "./docker-image.ts";
export { ClusterError } from "./errors.ts";
export { createJoinHome, type JoinOptions, type JoinResult } from "./join.ts";
export {
  createK8sTestnet,
  DEFAULT_NAMESPACE,
  K8S_API_PORT,
  K8S_DIR,
  K8S_P2P_PORT,
  type K8sObject,
  type K8sTestnetOptions,
  type K8sTestnetResult,
} from "./k8s.ts";
export { freePort } from "./ports.ts";
export {
  BLOCK_LINES_ENV,
  type ClusterOptions,
  type ClusterRecord,
  CONTROL_ENV,
  clusterHomes,
  runCluster,
  runningCluster,
  SUPERVISOR_ENV,
  stopCluster,
  TEACH_CONSENSUS,
  TEACH_MAX_BLOCK_TXS,
} from "./supervisor.ts";
export { BFT_MAX_BLOCK_TXS, createTestnet, type TestnetOptions, type TestnetResult } from "./testnet.ts";
