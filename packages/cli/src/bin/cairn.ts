// The `cairn` command line. Started through ../../bin/cairn.js, which picks a new enough Node.
import { runCli } from "../main.ts";

process.exitCode = await runCli(process.argv);
