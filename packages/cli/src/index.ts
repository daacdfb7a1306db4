// The `cairn` command line (bin/cairn.js starts src/bin/cairn.ts). Exported for tests and for
// programs that embed the CLI.

export { scaffoldContract } from "./contract.ts";
export { checkHome, type DoctorReport, resetData } from "./doctor.ts";
export { buildProgram, EXIT, grantHint, runCli } from "./main.ts";
