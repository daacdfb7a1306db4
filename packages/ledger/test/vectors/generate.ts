import { readFileSync, writeFileSync } from "node:fs";
import { buildLedgerVectors } from "./vectors.ts";

// Adds the ledger's part (genesis, stateProof) to the file messaging's generator wrote.
const out = new URL("../../../../docs/spec/test-vectors.json", import.meta.url);
const file = JSON.parse(readFileSync(out, "utf8"));
writeFileSync(out, `${JSON.stringify({ ...file, ...(await buildLedgerVectors()) }, null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
