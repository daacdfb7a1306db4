// Test support shared by Cairn's packages (as lodestar's test-utils): test doubles and simulations
// that never ship in a package's src/. Each double runs the real rules where it has any: the memory
// backend executes kv and token with @cairn/contracts' own native contracts.
export {
  type NodeKind,
  parseSimBlock,
  SIM_CHAIN_ID,
  type SimNode,
  Simulation,
  simBlock,
  simHash,
} from "./bft-simulation.ts";
export { MessageBus, verifyTxsWith } from "./bus.ts";
export {
  type EngineHarness,
  type EngineNode,
  type EngineUnderTest,
  engineComplianceSuite,
  raftHarness,
  raftSoloHarness,
  soloHarness,
  tendermintHarness,
  tendermintSoloHarness,
} from "./engine-compliance.ts";
export {
  ContractFailure,
  MemoryBackend,
  type MemoryBackendOptions,
  type MemoryCallContext,
  type MemoryContract,
  type MemoryContractHandler,
  type MemoryGovernance,
  type MemoryIdentity,
  type MemoryProposal,
  wasmModuleExporting,
} from "./memory-backend.ts";
export { createMemoryHost, type EmittedEvent, type MemoryHost, type MemoryHostOptions } from "./memory-host.ts";
export { RAFT_SIM_CHAIN_ID, type RaftSimNode, type RaftSimOptions, RaftSimulation } from "./raft-simulation.ts";
export { until, waitFor } from "./wait.ts";
