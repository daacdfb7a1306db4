// Builds an SDK fixture contract (fixtures/<name>) for the unit tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContract } from "@cairn/contract-sdk/build";
import { type PreparedContract, prepareContract } from "@cairn/vm";

/** Builds `fixtures/<name>` with `buildContract` into a temporary directory and prepares it as a node does at deploy. */
export async function buildFixture(name: string): Promise<PreparedContract> {
  const out = mkdtempSync(join(tmpdir(), `cairn-sdk-${name}-`));
  try {
    const dir = fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
    return prepareContract((await buildContract(dir, { out: join(out, `${name}.wasm`) })).wasm);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
