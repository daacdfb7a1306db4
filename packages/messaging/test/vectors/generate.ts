import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { buildVectors } from "./vectors.ts";

// Rewrites messaging's part of the file; other parts (the ledger's: genesis, stateProof) stay.
const out = new URL("../../../../docs/spec/test-vectors.json", import.meta.url);
const old = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : {};
writeFileSync(out, `${JSON.stringify({ ...old, ...buildVectors() }, null, 2)}\n`);
console.log(`wrote ${out.pathname} (run \`npm run vectors -w @cairn/ledger\` for the ledger's part)`);
