// AssemblyScript 0.28 resolves a package import to <package>/index.ts (not `ascMain`).
export * from "./assembly/index";
