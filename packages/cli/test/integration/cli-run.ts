import type { Command } from "commander";
import { vi } from "vitest";
import { runCli } from "../../src/main.ts";

export { freePort } from "@cairn/cluster";

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `cairn ...argv` in this process, as bin/cairn.ts does, with stdout and stderr captured. */
export async function runCairnInProcess(argv: readonly string[], program?: Command): Promise<CliRun> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await runCli(["node", "cairn", ...argv], program);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
