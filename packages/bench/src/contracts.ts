// The example WebAssembly token (packages/contract-examples/contracts/token) as the benchmarks use
// it: built once, untimed, into a temp dir (the package's own build/ is left alone).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TOKEN_DIR = new URL("../../contract-examples/contracts/token", import.meta.url).pathname;

/** The name the benchmarks deploy the example token under. */
export const WASM_TOKEN = "wtoken";

/** Compiles the example token with `buildContract` (what `cairn contract build` runs); the module's bytes. */
export async function buildExampleToken(): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "cairn-bench-token-"));
  try {
    // Loaded on demand: the AssemblyScript compiler only for the contract cases.
    const { buildContract } = await import("@cairn/contract-sdk/build");
    const built = await buildContract(TOKEN_DIR, { out: join(dir, "token.wasm") });
    for (const m of ["init", "mint", "transfer", "supply"]) {
      if (!built.methods.includes(m))
        throw new Error(`the example token has no method ${m} (${built.methods.join(", ")})`);
    }
    return built.wasm;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
