// Cairn's package boundaries, checked in CI (`npm run check:deps`, run by .ci/run):
//   1. no import from a package's src/ against the layer order of docs/architecture.md ("Dependency
//      order"); tests may use any package they declare, since a test is a consumer;
//   2. no cycle, between packages or between modules;
//   3. no import of a workspace package the importer's package.json does not declare;
//   4. no deep import into another package: only its name and the subpaths its "exports" lists.
// The rules are generated from the doc and the package.json files, so neither can drift from the check.
const { readFileSync, readdirSync, existsSync } = require("node:fs");
const { join } = require("node:path");

const root = __dirname;
const pkgDirs = readdirSync(join(root, "packages")).filter((d) =>
  existsSync(join(root, "packages", d, "package.json")),
);
const manifests = Object.fromEntries(
  pkgDirs.map((d) => [d, JSON.parse(readFileSync(join(root, "packages", d, "package.json"), "utf8"))]),
);

// The layers, lowest first: the fenced block after "## Dependency order" in docs/architecture.md,
// one layer per line, packages separated by spaces (text after "#" is a comment).
function layers() {
  const doc = readFileSync(join(root, "docs", "architecture.md"), "utf8");
  const block = /## Dependency order[\s\S]*?```\n([\s\S]*?)```/.exec(doc);
  if (block === null) throw new Error("docs/architecture.md has no '## Dependency order' block");
  const rows = block[1]
    .split("\n")
    .map((l) => l.split("#")[0].trim())
    .filter((l) => l !== "")
    .map((l) => l.split(/\s+/));
  const listed = rows.flat();
  const missing = pkgDirs.filter((d) => !listed.includes(d));
  if (missing.length > 0)
    throw new Error(`docs/architecture.md's dependency order does not list: ${missing.join(", ")}`);
  return rows;
}

const anyOf = (names) => `^packages/(${names.join("|")})/`;
const forbidden = [
  {
    name: "no-cycle",
    comment: "a cycle makes two modules (or packages) one: neither can be understood, tested or replaced alone",
    severity: "error",
    from: {},
    to: { circular: true },
  },
  {
    name: "no-deep-import",
    comment: "import another package by its name (and the subpaths its package.json exports), never by a path into it",
    severity: "error",
    from: { path: "^packages/([^/]+)/" },
    to: { path: "^packages/[^/]+/", pathNot: "^packages/$1/", dependencyTypes: ["local"] },
  },
  {
    name: "no-unresolvable",
    comment: "an import that resolves to nothing",
    severity: "error",
    from: {},
    to: { couldNotResolve: true },
  },
];

const rows = layers();
rows.forEach((row, i) => {
  const above = rows.slice(i).flat();
  for (const pkg of row) {
    const higher = above.filter((p) => p !== pkg);
    if (higher.length === 0) continue;
    forbidden.push({
      name: "layer-order",
      comment: `${pkg} is in layer ${i} of docs/architecture.md; its src/ may import only lower layers`,
      severity: "error",
      from: { path: `^packages/${pkg}/src/` },
      to: { path: anyOf(higher) },
    });
  }
});

for (const d of pkgDirs) {
  const m = manifests[d];
  const declared = new Set(Object.keys({ ...m.dependencies, ...m.devDependencies, ...m.peerDependencies }));
  const undeclared = pkgDirs.filter((o) => o !== d && !declared.has(manifests[o].name));
  if (undeclared.length === 0) continue;
  forbidden.push({
    name: "declared-workspace-dependency",
    comment: `${m.name} imports a workspace package its package.json does not declare`,
    severity: "error",
    from: { path: `^packages/${d}/` },
    to: { path: anyOf(undeclared) },
  });
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|^packages/[^/]+/(build|fixtures)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default"],
      extensions: [".ts", ".js", ".mjs"],
      mainFields: ["main"],
    },
  },
};
