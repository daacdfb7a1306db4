export { ACTIONS, type Action, applyAction, parseAction } from "./actions.ts";
export { governanceContract } from "./contract.ts";
export { type GovernanceGenesis, governanceGenesisState } from "./genesis.ts";
export {
  approvalsNeeded,
  type Collection,
  decodeProposal,
  GOV_CONTRACT,
  type GovParams,
  GovPrefix,
  type Identity,
  type NodeRecord,
  type Proposal,
  proposalKey,
  proposalState,
} from "./layout.ts";
export { ChainRegistry, type GovStateReader, loadRegistry, type Refusal } from "./registry.ts";
