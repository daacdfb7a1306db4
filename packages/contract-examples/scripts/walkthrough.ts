// Shared machinery of the walkthrough scripts: command-line options, building and deploying an
// example contract with the admin key, fresh keys for the other parties, and transactions and
// queries through @cairn/client that print what happens and stop at the first unexpected result.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual, parseArgs } from "node:util";
import {
  CairnApiError,
  type CairnClient,
  CairnClientError,
  call,
  contracts,
  createClient,
  generateKey,
  type JsonValue,
  type KeyPair,
  parseKeyFile,
  type Receipt,
  type Signer,
  type Value,
} from "@cairn/client";
import { buildContract, ContractBuildError } from "@cairn/contract-sdk/build";

const DEFAULT_URL = "http://127.0.0.1:26600";
/** The keys of `npm start`'s cluster, at the repository root. */
const DEFAULT_KEYS = fileURLToPath(new URL("../../../.cairn/cluster/keys", import.meta.url));
const COMMIT_TIMEOUT_MS = 30_000;
/** Query results longer than this are printed one entry per line. */
const LINE_WIDTH = 110;

/** An unexpected result: the walkthrough stops and the script exits with status 1. */
export class WalkthroughError extends Error {
  readonly code = "WALKTHROUGH_FAILED";
  constructor(message: string) {
    super(message);
    this.name = "WalkthroughError";
  }
}

/** Bad command-line options: the script prints its usage and exits with status 2. */
class UsageError extends Error {
  readonly code = "USAGE";
}

export interface Options {
  readonly url: string;
  /** Directory with admin.json. */
  readonly keys: string;
}

function usage(script: string): string {
  return [
    `usage: node packages/contract-examples/scripts/${script}.ts [--url URL] [--keys DIR]`,
    `  --url URL   a node's API (default ${DEFAULT_URL}, the first node of \`npm start\`)`,
    "  --keys DIR  the cluster's keys directory, with admin.json (default .cairn/cluster/keys;",
    "              for `cairn testnet --out DIR`: DIR/keys)",
  ].join("\n");
}

function parseOptions(argv: readonly string[], script: string): Options | undefined {
  let values: { url?: string; keys?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: "string" },
        keys: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(`${usage(script)}\n`);
    return undefined;
  }
  // npm runs package scripts in the package's directory; relative paths are the user's.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const keys = values.keys === undefined ? DEFAULT_KEYS : resolve(cwd, values.keys);
  return { url: values.url ?? DEFAULT_URL, keys };
}

// ---------------------------------------------------------------------------------------------
// Printing values: keys by their party's name, text quoted, binary as short hex.

/** Binary in the API's JSON (event data): "0x" and hex digits. */
const BINARY_JSON = /^0x((?:[0-9a-f]{2})*)$/;

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

/** The JSON form the API gives contract values in (binary as "0x" hex, big integers as text). */
export function toJson(v: Value): JsonValue {
  if (v instanceof Uint8Array) return `0x${hexOf(v)}`;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  return v as JsonValue;
}

const formatInt = (n: number): string => n.toLocaleString("en-US");

export interface Actor {
  readonly name: string;
  readonly key: KeyPair;
  readonly signer: Signer;
  /** The public key, the account's address. */
  readonly publicKey: Uint8Array;
}

/** One walkthrough: a client of one node, the admin, the parties, and the deployed contract. */
export class Walkthrough {
  readonly client: CairnClient;
  readonly admin: Actor;
  private readonly names = new Map<string, string>();
  private deployed: string | undefined;
  /** Parties not yet members of the chain (registered by governance before their first call). */
  private unregistered: Actor[] = [];
  private readonly keysDir: string;

  private constructor(client: CairnClient, adminKey: KeyPair, keysDir: string) {
    this.client = client;
    this.keysDir = keysDir;
    this.admin = this.actorOf("Admin", adminKey);
  }

  static async connect(opts: Options): Promise<Walkthrough> {
    const adminFile = join(opts.keys, "admin.json");
    if (!existsSync(adminFile)) {
      throw new WalkthroughError(
        `no admin key at ${adminFile}: start a cluster with \`npm start\`, or pass --keys DIR/keys of a \`cairn testnet --out DIR\``,
      );
    }
    const admin = parseKeyFile(readFileSync(adminFile, "utf8"));
    const client = createClient({ url: opts.url });
    const status = await client.status();
    const w = new Walkthrough(client, admin, opts.keys);
    w.info(`node   ${client.url} (chain ${status.chainId}, height ${status.height})`);
    w.info(`admin  ${hexOf(admin.publicKey)} (${adminFile})`);
    return w;
  }

  /** The deployed contract's name. */
  get contract(): string {
    if (this.deployed === undefined) throw new WalkthroughError("no contract deployed yet");
    return this.deployed;
  }

  private actorOf(name: string, key: KeyPair): Actor {
    this.names.set(hexOf(key.publicKey), name);
    return { name, key, signer: this.client.signer(key), publicKey: key.publicKey };
  }

  /**
   * A party with a fresh key (transactions have no fees, so it needs no funds). On a permissioned
   * chain it becomes a client of org0 by governance before its first transaction.
   */
  actor(name: string): Actor {
    const a = this.actorOf(name, generateKey());
    this.info(`${name.padEnd(8)} ${hexOf(a.publicKey).slice(0, 16)}… (new key)`);
    this.unregistered.push(a);
    return a;
  }

  /**
   * Registers the new parties as clients of the admin's organisation (docs/governance.md): the
   * admin proposes one add-member per party, and the admins of the next organisations approve
   * until the threshold is met (their keys are DIR/keys/orgI-admin.json of the cluster).
   */
  private async registerParties(): Promise<void> {
    const parties = this.unregistered;
    this.unregistered = [];
    const params = await this.client.gov.params();
    if (!params.permissioned || parties.length === 0) return;
    const me = await this.client.gov.identity(this.admin.publicKey);
    if (me === undefined) throw new WalkthroughError("the admin key is not a member of this chain");
    this.section(`Governance: ${parties.map((p) => p.name).join(", ")} join ${me.org} as clients`);
    const needed = params.needed ?? 1;
    const approvers: Actor[] = [];
    for (let i = 1; approvers.length < needed - 1; i++) {
      const file = join(this.keysDir, `org${i}-admin.json`);
      if (!existsSync(file)) {
        throw new WalkthroughError(`${needed} organisations must approve, and there is no admin key at ${file}`);
      }
      approvers.push(this.actorOf(`org${i} admin`, parseKeyFile(readFileSync(file, "utf8"))));
    }
    const ids: number[] = [];
    for (const p of parties) {
      const r = await this.client.gov.propose(this.admin.signer, "add-member", [p.publicKey, me.org, ["client"]]);
      if (!r.ok || r.proposalId === undefined) throw new WalkthroughError(`add-member ${p.name}: ${r.receipt?.code}`);
      this.info(`Admin → gov.propose add-member ${p.name} ${me.org} client: proposal ${r.proposalId}`);
      ids.push(r.proposalId);
    }
    for (const a of approvers) {
      for (const id of ids) {
        const r = await this.client.gov.approve(a.signer, id);
        if (!r.ok) throw new WalkthroughError(`approve ${id}: ${r.receipt?.code}`);
        this.info(`${a.name} → gov.approve ${id}${r.executed ? ": executed" : ""}`);
      }
    }
  }

  /** A value for people: known keys by name, strings quoted, nil for null. */
  show(v: Value | JsonValue | undefined): string {
    if (v === null || v === undefined) return "nil";
    if (v instanceof Uint8Array) {
      const hex = hexOf(v);
      const name = this.names.get(hex);
      if (name !== undefined) return name;
      return v.length > 16 ? `0x${hex.slice(0, 16)}…` : `0x${hex}`;
    }
    if (typeof v === "string") {
      const m = BINARY_JSON.exec(v);
      return m === null ? JSON.stringify(v) : this.show(Buffer.from(m[1]!, "hex"));
    }
    if (Array.isArray(v)) return `[${v.map((x) => this.show(x)).join(", ")}]`;
    return String(v);
  }

  section(title: string): void {
    process.stdout.write(`\n== ${title}\n`);
  }

  info(line: string): void {
    process.stdout.write(`  ${line}\n`);
  }

  note(line: string): void {
    process.stdout.write(`  # ${line}\n`);
  }

  /** Builds contracts/<example> with buildContract and deploys it as `<example>-<random>` with the admin key. */
  async deploy(example: string): Promise<string> {
    const dir = fileURLToPath(new URL(`../contracts/${example}`, import.meta.url));
    const out = mkdtempSync(join(tmpdir(), `cairn-${example}-`));
    let wasm: Uint8Array;
    let methods: string[];
    try {
      ({ wasm, methods } = await buildContract(dir, { out: join(out, `${example}.wasm`) }));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    this.info(`built contracts/${example}: ${formatInt(wasm.length)} bytes, methods ${methods.join(", ")}`);
    const name = `${example}-${hexOf(crypto.getRandomValues(new Uint8Array(3)))}`;
    const receipt = await this.submit(this.admin, contracts.deploy(name, wasm), `Admin → deploy ${name}`, "OK");
    if (!receipt.events.some((e) => e.name === "deployed")) {
      throw new WalkthroughError(`deploy ${name}: the receipt has no deployed event`);
    }
    const described = await this.client.getContract(name);
    if (described === undefined)
      throw new WalkthroughError(`GET /contracts/${name}: the node does not know the contract`);
    this.expectEqual([...described.methods], methods, `the node lists the methods of ${name}`);
    this.deployed = name;
    return name;
  }

  /**
   * Sends a call of the deployed contract signed by `actor`, waits for it to commit, prints the
   * receipt (code, events, gas) and checks its code is `expect`. Returns the receipt.
   */
  send(actor: Actor, method: string, args: Value[] = [], expect = "OK"): Promise<Receipt> {
    const line = `${actor.name} → ${method}(${args.map((a) => this.show(a)).join(", ")})`;
    return this.submit(actor, call(this.contract, method, args), line, expect);
  }

  private async submit(actor: Actor, c: ReturnType<typeof call>, line: string, expect: string): Promise<Receipt> {
    if (this.unregistered.length > 0 && actor !== this.admin) await this.registerParties();
    this.info(line);
    const res = await actor.signer.send(c, { wait: "commit", timeoutMs: COMMIT_TIMEOUT_MS });
    const receipt = res.receipt;
    if (res.status !== "committed" || receipt === undefined) {
      const why = res.error === undefined ? "" : `: ${res.error.code}: ${res.error.message}`;
      throw new WalkthroughError(`${line}: the transaction did not commit (status ${res.status ?? "refused"}${why})`);
    }
    const where = `height ${res.height} · gas ${formatInt(receipt.gasUsed)}`;
    if (receipt.code === expect && expect === "OK") this.info(`    ✓ OK · ${where}`);
    else if (receipt.code === expect) this.info(`    ✓ ${receipt.code} as expected: ${receipt.message} · ${where}`);
    else {
      const got = receipt.message === "" ? receipt.code : `${receipt.code}: ${receipt.message}`;
      throw new WalkthroughError(`${line}: expected ${expect}, got ${got}`);
    }
    for (const e of receipt.events) this.info(`    event ${e.name} ${this.show(e.data)}`);
    return receipt;
  }

  /**
   * Runs a read-only query of the deployed contract, prints the result and checks it ended with
   * `expect` (OK or the error code). Returns the decoded value (null on failure).
   */
  async query(method: string, args: Value[] = [], expect = "OK"): Promise<Value> {
    const line = `? ${method}(${args.map((a) => this.show(a)).join(", ")})`;
    this.info(line);
    const r = await this.client.query(this.contract, method, args);
    const code = r.ok ? "OK" : (r.code ?? "FAILED");
    if (code !== expect) {
      throw new WalkthroughError(`${line}: expected ${expect}, got ${r.ok ? "a result" : `${code}: ${r.message}`}`);
    }
    if (!r.ok) this.info(`    ✓ ${code} as expected: ${r.message}`);
    else {
      const shown = this.show(r.output);
      // A long list reads better one entry per line.
      if (shown.length <= LINE_WIDTH || !Array.isArray(r.output)) this.info(`    → ${shown}`);
      else {
        this.info(`    → ${r.output.length} entries:`);
        for (const entry of r.output) this.info(`      ${this.show(entry)}`);
      }
    }
    return r.output;
  }

  /** Checks that a receipt has exactly these events of the contract, in order (or in any order). */
  expectEvents(
    receipt: Receipt,
    expected: readonly (readonly [string, Value])[],
    opts: { anyOrder?: boolean } = {},
  ): void {
    const got = receipt.events.map((e) => [e.name, e.data]);
    const want = expected.map(([name, data]) => [name, toJson(data)]);
    const order = (list: JsonValue[][]) => (opts.anyOrder ? list.map((e) => JSON.stringify(e)).sort() : list);
    if (!isDeepStrictEqual(order(got), order(want))) {
      throw new WalkthroughError(
        `unexpected events: got ${got.map(([n, d]) => `${n} ${this.show(d)}`).join("; ")}, ` +
          `expected ${want.map(([n, d]) => `${n} ${this.show(d)}`).join("; ")}`,
      );
    }
  }

  expectEqual(actual: Value, expected: Value, what: string): void {
    if (!isDeepStrictEqual(toJson(actual), toJson(expected))) {
      throw new WalkthroughError(`${what}: got ${this.show(actual)}, expected ${this.show(expected)}`);
    }
    this.info(`    ✓ ${what}`);
  }

  async height(): Promise<number> {
    return (await this.client.status()).height;
  }

  /** Waits until the chain's committed height is at least `height`. */
  async waitForHeight(height: number, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const h = await this.height();
      if (h >= height) return h;
      if (Date.now() > deadline) throw new WalkthroughError(`the chain did not reach height ${height} (at ${h})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function describeError(err: unknown, url: string): string {
  if (err instanceof WalkthroughError) return err.message;
  if (err instanceof CairnClientError && err.code === "NETWORK") {
    return `${err.message}\n  is a cluster running? Start one with \`npm start\`, or pass --url of a running node`;
  }
  if (err instanceof CairnClientError) return `${err.code}: ${err.message}`;
  if (err instanceof CairnApiError)
    return `the node at ${url} refused a request: ${err.code} (HTTP ${err.status}): ${err.message}`;
  if (err instanceof ContractBuildError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * Runs a walkthrough script: parses the options, connects as the admin, runs `body`, and exits
 * with status 0 when every step went as expected, 1 otherwise (2 for bad options).
 */
export function runWalkthrough(
  script: string,
  title: string,
  body: (w: Walkthrough) => Promise<void>,
  argv: readonly string[] = process.argv.slice(2),
): void {
  let url = DEFAULT_URL;
  const main = async (): Promise<void> => {
    const opts = parseOptions(argv, script);
    if (opts === undefined) return;
    url = opts.url;
    process.stdout.write(`${title}\n`);
    const started = performance.now();
    const w = await Walkthrough.connect(opts);
    await body(w);
    process.stdout.write(
      `\n✓ ${script} walkthrough completed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  };
  main().then(
    () => {
      process.exitCode = 0;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${err.message}\n${usage(script)}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`\n✗ ${script} walkthrough failed: ${describeError(err, url)}\n`);
      process.exitCode = 1;
    },
  );
}
