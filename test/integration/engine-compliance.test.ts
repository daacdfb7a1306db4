// The ConsensusEngine compliance suite (@cairn/test-utils) against every engine Cairn has.
import {
  engineComplianceSuite,
  raftHarness,
  raftSoloHarness,
  soloHarness,
  tendermintHarness,
  tendermintSoloHarness,
} from "@cairn/test-utils";

engineComplianceSuite("solo", soloHarness);
engineComplianceSuite("tendermint", tendermintHarness);
engineComplianceSuite("tendermint with one validator", tendermintSoloHarness);
engineComplianceSuite("raft", raftHarness);
engineComplianceSuite("raft with one validator", raftSoloHarness);
