// What a newcomer meets in the CLI: one exit code convention (4 when what was asked for does not
// exist), the node it talks to by default (the local cluster when `npm start` wrote one here) and
// why, a warning before a secret key lands in a git work tree, and privilege errors that name the
// command granting what is missing.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLoggers } from "@cairn/management";
import { type CairnNode, initHome, startNode } from "@cairn/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, grantHint } from "../../src/main.ts";
import { freePort, runCairnInProcess } from "./cli-run.ts";

const cairn = (...argv: string[]) => runCairnInProcess(argv);
let dir: string;
let home: string;
let node: CairnNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-conv-"));
  home = join(dir, "node0");
  mkdirSync(home);
  await initHome({ home, apiPort: await freePort() });
  node = await startNode({
    home,
    config: { verifyWorkers: 1 },
    loggers: createLoggers({ level: "silent", pretty: false }),
  });
});

afterAll(async () => {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("CLI conventions", () => {
  it("exits 4 when a queried key, transaction or block does not exist, and 0 when it does", async () => {
    const missing = await cairn("query", "kv", "MISSING", "--home", home);
    expect(missing.code).toBe(EXIT.notFound);
    expect(JSON.parse(missing.out).value).toBeNull(); // the proof of absence is still printed
    expect(missing.err).toContain("not found");
    expect((await cairn("query", "tx", "ab".repeat(32), "--home", home)).code).toBe(EXIT.notFound);
    expect((await cairn("query", "block", "999999", "--home", home)).code).toBe(EXIT.notFound);
    expect((await cairn("tx", "kv", "put", "here", "v", "--home", home)).code).toBe(EXIT.ok);
    const found = await cairn("query", "kv", "here", "--home", home);
    expect(found.code).toBe(EXIT.ok);
    expect(JSON.parse(found.out).utf8).toBe("v");
  });

  it("defaults to the local cluster's node0 when .cairn/cluster exists, and says which URL and why when it is down", async () => {
    const cwd = process.cwd();
    const here = mkdtempSync(join(tmpdir(), "cairn-cwd-"));
    try {
      process.chdir(here);
      const none = await cairn("status");
      expect(none.code).toBe(EXIT.failed);
      expect(none.err).toContain("http://127.0.0.1:26657");
      const clusterHome = join(here, ".cairn", "cluster", "node0");
      mkdirSync(clusterHome, { recursive: true });
      const port = await freePort();
      await initHome({ home: clusterHome, apiPort: port });
      const r = await cairn("query", "kv", "x");
      expect(r.code).toBe(EXIT.failed);
      expect(r.err).toContain(`cannot reach http://127.0.0.1:${port}`);
      expect(r.err).toContain("the local cluster's node0");
      expect(r.err).toContain("--url URL or --home DIR");
    } finally {
      process.chdir(cwd);
      rmSync(here, { recursive: true, force: true });
    }
  });

  it("warns when `keys new --out` writes a secret inside a git work tree, saying whether git ignores it", async () => {
    const repo = mkdtempSync(join(tmpdir(), "cairn-git-"));
    try {
      execFileSync("git", ["init", "-q", repo]);
      const plain = await cairn("keys", "new", "--out", join(repo, "alice.json"));
      expect(plain.code).toBe(0);
      expect(plain.err).toContain("inside the git work tree");
      expect(plain.err).toContain("NOT ignored");
      execFileSync("sh", ["-c", `printf 'bob.json\\n' > ${join(repo, ".gitignore")}`]);
      const ignored = await cairn("keys", "new", "--out", join(repo, "bob.json"));
      expect(ignored.err).toContain("git ignores it");
      const outside = await cairn("keys", "new", "--out", join(dir, "carol.json"));
      expect(outside.err).toBe("");
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("names the command that grants a missing privilege", () => {
    expect(grantHint("UNKNOWN_IDENTITY")).toContain("cairn gov propose add-member KEY ORG client");
    expect(grantHint("ROLE_REQUIRED")).toContain("cairn gov propose set-roles");
    expect(grantHint("WRONG_CHAIN")).toBe("");
  });

  it("the repository ignores key files written at its top (the README's alice.json)", () => {
    const repoRoot = new URL("../../../../", import.meta.url).pathname;
    const check = (f: string) => {
      try {
        execFileSync("git", ["-C", repoRoot, "check-ignore", "-q", f]);
        return true;
      } catch {
        return false;
      }
    };
    expect(check("alice.json")).toBe(true);
    expect(check("package.json")).toBe(false);
  });
});
