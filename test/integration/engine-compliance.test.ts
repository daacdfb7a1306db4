// The ConsensusEngine compliance suite (@cairn/test-utils) against every engine Cairn has.
import { engineComplianceSuite, soloHarness, tendermintHarness } from "@cairn/test-utils";

engineComplianceSuite("solo", soloHarness);
engineComplianceSuite("tendermint", tendermintHarness);
