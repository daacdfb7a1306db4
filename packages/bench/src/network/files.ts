// Network files of this repository (benchmarks/networks/).
import { join } from "node:path";
import { ROOT } from "../process.ts";

/** The three-regions network the wan suite and the simulation use (Europe, North America, Asia-Pacific). */
export const THREE_REGIONS_FILE = join(ROOT, "benchmarks", "networks", "three-regions.json");
