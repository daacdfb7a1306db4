// The `cairn` command line. Started through ../../bin/cairn.js, which picks a new enough Node.
import { enableCompileCache } from "node:module";

// Loading the CLI and its dependencies (several thousand small modules) costs about a second of
// CPU per process, and a local cluster starts one process per node: V8's compile cache (in the
// OS temporary directory, or NODE_COMPILE_CACHE) saves about 40 % of it from the second start on.
// It is enabled before the CLI is imported, so the import itself is cached.
enableCompileCache();
const { runCli } = await import("../main.ts");

process.exitCode = await runCli(process.argv);
