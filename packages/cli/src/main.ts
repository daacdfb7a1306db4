import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { CairnApiError, type ContractCall, encodeKeyFile, kv, type StatusInfo, token } from "@cairn/client";
import type { TestnetOptions } from "@cairn/cluster";
import { generateKeyPair, toHex } from "@cairn/crypto";
import { homePaths, initHome, writeKeyFile } from "@cairn/node/config";
import { VERSION } from "@cairn/node/version";
import { Command, CommanderError, Option } from "commander";
import { benchCommand } from "./bench.ts";
import { contractCommands } from "./contract.ts";
import { registerContractTxCommands } from "./contract-tx.ts";
import { dockerCommands } from "./docker.ts";
import { govCommands } from "./gov.ts";
import { formatStatus, printJson, printLine } from "./output.ts";
import { privateCommands } from "./private.ts";
import {
  apiUrl,
  CliError,
  type ConnectionOpts,
  chosenTarget,
  connectionOptions,
  fetchStatus,
  type ReadOpts,
  readClient,
  readOptions,
  sendTx,
  signingKey,
  type TxOpts,
  txOptions,
  unreachableReason,
} from "./shared.ts";

/** This CLI's entry file: the cluster supervisor runs it for each node. */
const CLI_ENTRY = new URL("./bin/cairn.ts", import.meta.url).pathname;

/** The top of the git work tree holding `dir`, if any (git missing counts as none). */
function gitWorkTree(dir: string): string | undefined {
  try {
    return execFileSync("git", ["-C", dir, "rev-parse", "--show-toplevel"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

function gitIgnores(repo: string, file: string): boolean {
  try {
    execFileSync("git", ["-C", repo, "check-ignore", "-q", file], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function txCommand(
  parent: Command,
  name: string,
  description: string,
  args: string[],
  build: (...a: string[]) => ContractCall,
) {
  const cmd = parent.command(name).description(description);
  for (const a of args) cmd.argument(`<${a}>`);
  txOptions(cmd).action(async (...params: unknown[]) => {
    const values = params.slice(0, args.length) as string[];
    const opts = params[args.length] as TxOpts;
    await sendTx(build(...values), opts);
  });
}

function parseAmount(s: string): bigint {
  if (!/^[1-9][0-9]*$/.test(s)) throw new CliError("BAD_AMOUNT", `amount must be a positive whole number, got "${s}"`);
  return BigInt(s);
}

function parseAccount(s: string): string {
  if (!/^[0-9a-f]{64}$/.test(s))
    throw new CliError("BAD_ACCOUNT", `an account is a 64-hex-digit public key, got "${s}"`);
  return s;
}

async function runUntilSignalled(
  home: string,
  opts: { logLevel?: string; apiPort?: string; apiHost?: string; cpuProfile?: string },
  banner: (url: string) => string[],
) {
  const stopProfile =
    opts.cpuProfile === undefined
      ? undefined
      : await (await import("./cpu-profile.ts")).startCpuProfile(resolve(opts.cpuProfile));
  const config: { logLevel?: string; apiPort?: number; apiHost?: string } = {};
  if (opts.logLevel !== undefined) config.logLevel = opts.logLevel;
  if (opts.apiPort !== undefined) config.apiPort = parsePort(opts.apiPort);
  if (opts.apiHost !== undefined) config.apiHost = opts.apiHost;
  // Loaded here, not at the top: client commands should not pay for the whole node.
  const { startNode } = await import("@cairn/node");
  const control = process.env.CAIRN_CLUSTER_CONTROL;
  const node = await startNode({
    home,
    config,
    ...(control === undefined || control === "" ? {} : { console: { clusterControl: control } }),
  });
  // Run by `cairn cluster` with an IPC channel: the supervisor's partition (cut off from these peers).
  if (process.send !== undefined && process.env.CAIRN_SUPERVISOR_PID !== undefined) {
    process.on("message", (m: { type?: string; peers?: unknown }) => {
      if (m?.type === "sever" && Array.isArray(m.peers)) node.sever(m.peers.filter((p) => typeof p === "string"));
    });
    process.channel?.unref();
  }
  for (const line of banner(node.apiUrl)) process.stderr.write(`${line}\n`);
  // On a terminal (or asked to by `cairn cluster`), one line per committed block, so a person
  // sees the chain move; logs stay JSON for machines.
  if (process.stderr.isTTY === true || process.env.CAIRN_BLOCK_LINES === "1") {
    const names = new Map(node.genesis.validators.map((v) => [toHex(v.publicKey), v.name]));
    let last = performance.now();
    node.ledger.onCommit((executed, commit) => {
      const now = performance.now();
      const h = executed.block.header;
      const who = names.get(toHex(h.proposer)) ?? toHex(h.proposer).slice(0, 8);
      process.stderr.write(
        `block ${h.height}  txs ${h.txCount}  proposer ${who}  round ${commit.round}  +${Math.round(now - last)} ms\n`,
      );
      last = now;
    });
  }
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watch);
      process.stderr.write(`\n${sig}: stopping the node...\n`);
      node
        .stop()
        .then(() => stopProfile?.())
        .then((file) => {
          if (file !== undefined) process.stderr.write(`CPU profile written to ${file}\n`);
          resolveStop();
        }, resolveStop);
    };
    // `on`, not `once`: a terminal's Ctrl-C reaches us, and npm passes the same signal on again; a
    // second one must not kill us with the default action before every node has stopped.
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    // Started by `cairn cluster`: never outlive it, even if it was killed with SIGKILL.
    const supervisor = Number(process.env.CAIRN_SUPERVISOR_PID ?? 0);
    const watch = setInterval(() => {
      if (supervisor > 0 && process.ppid !== supervisor) stop("the cluster supervisor is gone");
    }, 300);
  });
}

/** Ends the command with exit 4: the output (printed before) says what is missing. */
function notFound(message: string): never {
  process.stderr.write(`not found: ${message}\n`);
  throw new CommanderError(4, "cairn.notFound", message);
}

function parseTimeout(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError("BAD_TIMEOUT", `--timeout must be a positive number of ms, got "${s}"`);
  return n;
}

/** --consensus: the chain's engine. */
function consensusEngine(s: string): "tendermint" | "raft" {
  if (s !== "tendermint" && s !== "raft") throw new CliError("BAD_ARGS", "--consensus must be tendermint or raft");
  return s;
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new CliError("BAD_PORT", `--api-port must be 0-65535, got "${s}"`);
  return n;
}

export function buildProgram(): Command {
  const program = new Command("cairn")
    .description("Cairn: a permissioned distributed ledger (ITU-T FG DLT reference architecture)")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  program
    .command("init")
    .description("create a one-node development chain: keys, genesis and config in --home")
    .requiredOption("--home <dir>", "directory for the node's keys, genesis, config and data")
    .option("--chain-id <id>", "chain identifier", "cairn-dev")
    .option("--moniker <name>", "human-readable node name", "node0")
    .option("--api-port <port>", "HTTP API port", "26657")
    .action(async (o: { home: string; chainId: string; moniker: string; apiPort: string }) => {
      const r = await initHome({
        home: resolve(o.home),
        chainId: o.chainId,
        moniker: o.moniker,
        apiPort: parsePort(o.apiPort),
      });
      printLine(`Initialised chain ${r.chainId} in ${r.home}`);
      printLine(`  validator key: ${toHex(r.validator.publicKey)}`);
      printLine(`  admin key:     ${toHex(r.admin.publicKey)} (${homePaths(r.home).adminKey})`);
      printLine(`Start it with: cairn start --home ${o.home}`);
    });

  program
    .command("testnet")
    .description(
      "write a local cluster (Tendermint or Raft): keys, one shared genesis and a home per validator (DIR/node0 ...)",
    )
    .requiredOption("--validators <n>", "number of validators")
    .requiredOption("--out <dir>", "directory for the node homes")
    .option("--base-port <port>", "API ports are base+i, peer-to-peer ports base+100+i", "26600")
    .option("--chain-id <id>", "chain identifier", "cairn-testnet")
    .option("--observers <n>", "non-validating full nodes (DIR/observer0 ...)", "0")
    .option("--clients <n>", "client keys to register and fund (keys/client.json, keys/client-1.json ...)", "1")
    .option("--read-access <policy>", "who may read: open, or members (signed reads)", "open")
    .option("--max-block-txs <n>", "the chain's bound on transactions per block", "2000")
    .option(
      "--consensus <engine>",
      "the chain's consensus engine: tendermint (BFT) or raft (crash-fault)",
      "tendermint",
    )
    .option("--docker", "for Docker: also a Compose file, each node in a container (see `cairn docker`)")
    .option("--subnet <cidr>", "--docker: the cluster's private network; node i at .10+i", "10.213.0.0/24")
    .option(
      "--k8s",
      "for Kubernetes: also manifests in DIR/k8s (a kustomize base and an example overlay; docs/kubernetes.md)",
    )
    .option("--namespace <name>", "--k8s: the example overlay's namespace", "cairn")
    .option("--storage <size>", "--k8s: each node's volume claim", "10Gi")
    .option("--image <image>", "--docker, --k8s: the node image", "cairn-node:latest")
    .option("--project <name>", "--docker: Compose project name (default cairn-<name of --out>)")
    .action(
      async (o: {
        validators: string;
        out: string;
        basePort: string;
        chainId: string;
        observers: string;
        clients: string;
        readAccess: string;
        maxBlockTxs: string;
        consensus: string;
        docker?: boolean;
        k8s?: boolean;
        namespace: string;
        storage: string;
        subnet: string;
        image: string;
        project?: string;
      }) => {
        const { createDockerTestnet, createK8sTestnet, createTestnet } = await import("@cairn/cluster");
        const whole = (v: string, flag: string) => {
          const x = Number(v);
          if (!Number.isInteger(x)) throw new CliError("BAD_ARGS", `${flag} must be a whole number`);
          return x;
        };
        if (o.readAccess !== "open" && o.readAccess !== "members") {
          throw new CliError("BAD_ARGS", "--read-access must be open or members");
        }
        const validators = whole(o.validators, "--validators");
        const spec: TestnetOptions = {
          validators,
          out: o.out,
          basePort: parsePort(o.basePort),
          chainId: o.chainId,
          observers: whole(o.observers, "--observers"),
          clients: whole(o.clients, "--clients"),
          readAccess: o.readAccess,
          maxBlockTxs: whole(o.maxBlockTxs, "--max-block-txs"),
          engine: consensusEngine(o.consensus),
        };
        if (o.docker && o.k8s) throw new CliError("BAD_ARGS", "give --docker or --k8s, not both");
        if (o.k8s) {
          const { basePort: _ports, ...k8s } = spec;
          const k = await createK8sTestnet({ ...k8s, image: o.image, namespace: o.namespace, storage: o.storage });
          for (const line of k.summary) printLine(line);
          return;
        }
        if (o.docker) {
          const d = await createDockerTestnet({
            ...spec,
            subnet: o.subnet,
            image: o.image,
            ...(o.project === undefined ? {} : { project: o.project }),
          });
          for (const line of d.summary) printLine(line);
          return;
        }
        const r = await createTestnet(spec);
        printLine(`Wrote a ${validators}-validator testnet (chain ${r.chainId}) to ${r.out}`);
        r.homes.forEach((h, i) => {
          printLine(`  ${basename(h)}: ${h}  API ${r.apiUrls[i]}`);
        });
        printLine(
          `Organisations org0 ... org${validators - 1}, one per validator; each home's keys/admin.json is its org's admin.`,
        );
        printLine(
          `Keys in ${join(r.out, "keys")}: admin.json (org0 admin), orgI-admin.json, client.json, auditor.json`,
        );
        printLine(`Start each node with: cairn start --home ${join(o.out, "node0")}   (and node1, ...)`);
      },
    );

  program
    .command("join")
    .description("write the home of a new node for an existing network; governance then admits it (add-node)")
    .requiredOption("--from <home>", "home of a node of the network (its genesis is copied, its address bootstraps)")
    .requiredOption("--out <dir>", "directory for the new node's home")
    .requiredOption("--api-port <port>", "HTTP API port of the new node")
    .requiredOption("--p2p-port <port>", "peer-to-peer port of the new node")
    .option("--moniker <name>", "human-readable node name", "joined")
    .option("--json", "print the result as JSON")
    .action(
      async (o: { from: string; out: string; apiPort: string; p2pPort: string; moniker: string; json?: boolean }) => {
        const { createJoinHome } = await import("@cairn/cluster");
        const r = await createJoinHome({
          from: o.from,
          out: o.out,
          moniker: o.moniker,
          apiPort: parsePort(o.apiPort),
          p2pPort: parsePort(o.p2pPort),
        });
        if (o.json === true) {
          printLine(JSON.stringify(r));
          return;
        }
        printLine(`Wrote the home of ${o.moniker} to ${r.home}`);
        printLine(`  peer id:       ${r.peerId}`);
        printLine(`  validator key: ${r.publicKey}`);
        printLine("Admit it to the network (an admin of each approving organisation):");
        printLine(`  cairn gov propose add-node ${r.peerId} ${o.moniker} <org> --home <an admin's node home>`);
        printLine("Make it a validator as well (optional; otherwise it is an observer):");
        printLine(`  cairn gov propose add-validator ${r.publicKey} 1 ${o.moniker} --home <an admin's node home>`);
        printLine(`Then start it: cairn start --home ${o.out}`);
      },
    );

  const cluster = program
    .command("cluster")
    .description("run a local cluster of validators on loopback, one process each (what `npm start` does)")
    .option("--validators <n>", "number of validators (first run only)", "4")
    .option("--out <dir>", "directory of the node homes (default .cairn/cluster; with --teach, .cairn/teach)")
    .option("--base-port <port>", "API ports are base+i, peer-to-peer ports base+100+i (first run only)", "26600")
    .option("--log-level <spec>", "log level of every node", "warn")
    .option("--detach", "run in the background (log in DIR/cluster.log); stop it with `cairn cluster stop`")
    .option("--teach", "first run only: a teaching chain (each step paced 1.5 s, long timeouts, 5 txs per block)")
    .option("--consensus <engine>", "first run only: the chain's engine, tendermint or raft", "tendermint")
    .option(
      "--control-port <port>",
      "port of the loopback control endpoint the console uses (default: node0's API port + 99)",
    )
    .action(
      async (o: {
        validators: string;
        out?: string;
        basePort: string;
        logLevel: string;
        detach?: boolean;
        teach?: boolean;
        consensus: string;
        controlPort?: string;
      }) => {
        const validators = Number(o.validators);
        if (!Number.isInteger(validators) || validators < 1)
          throw new CliError("BAD_VALIDATORS", "--validators must be a positive whole number");
        const { runCluster } = await import("@cairn/cluster");
        await runCluster({
          cli: CLI_ENTRY,
          validators,
          out: o.out ?? (o.teach === true ? ".cairn/teach" : ".cairn/cluster"),
          basePort: parsePort(o.basePort),
          logLevel: o.logLevel,
          ...(o.detach === true ? { detach: true } : {}),
          ...(o.teach === true ? { teach: true } : {}),
          engine: consensusEngine(o.consensus),
          ...(o.controlPort === undefined ? {} : { controlPort: parsePort(o.controlPort) }),
        });
      },
    );
  cluster
    .command("stop")
    .description("stop the cluster running from --dir (started by `npm start` or `cairn cluster --detach`)")
    .option("--dir <dir>", "directory of the node homes", ".cairn/cluster")
    .action(async (o: { dir: string }) => {
      const { stopCluster } = await import("@cairn/cluster");
      const r = await stopCluster(o.dir);
      if (r === undefined) throw new CliError("NO_CLUSTER", `no cluster is running from ${o.dir}`);
      printLine(`stopped the cluster from ${o.dir} (supervisor ${r.supervisor}, ${r.nodes.length} nodes)`);
    });
  cluster
    .command("status")
    .description("one table for a local cluster: every node in --dir, up or down, role, height, consensus, peers")
    .option("--dir <dir>", "directory of the node homes (see `cairn testnet` / `cairn cluster`)", ".cairn/cluster")
    .option("--timeout <ms>", "a node that does not answer within this many ms is down", "2000")
    .option("--json", "print the rows as JSON")
    .action(async (o: { dir: string; timeout: string; json?: boolean }) => {
      const { clusterStatus, formatClusterStatus } = await import("./cluster.ts");
      const nodes = await clusterStatus(o.dir, parseTimeout(o.timeout));
      if (o.json) {
        printJson(nodes.map((n) => ({ ...n, up: n.status !== undefined })));
      } else {
        for (const line of formatClusterStatus(nodes)) printLine(line);
      }
      // The table says which nodes are down; the exit code lets scripts tell too.
      const down = nodes.filter((n) => n.status === undefined).length;
      if (down > 0) throw new CommanderError(1, "cairn.nodesDown", `${down} of ${nodes.length} nodes are down`);
    });

  program
    .command("start")
    .description("run the node in --home until Ctrl-C")
    .requiredOption("--home <dir>", "node home directory (see `cairn init`)")
    .option("--log-level <spec>", 'log level, optionally per layer: "info,consensus=debug"')
    .option("--api-port <port>", "override the HTTP API port")
    .option("--api-host <host>", "override the HTTP API host")
    .option(
      "--cpu-profile <dir>",
      "record a CPU profile of the node's main thread until it stops, written to dir (open it in Chrome DevTools)",
    )
    .action(async (o: { home: string; logLevel?: string; apiPort?: string; apiHost?: string; cpuProfile?: string }) => {
      await runUntilSignalled(resolve(o.home), o, (url) => [`Cairn node running. API: ${url}  (Ctrl-C to stop)`]);
    });

  program
    .command("doctor")
    .description("check a stopped node's database and safety record for damage (exit 3 when damaged)")
    .requiredOption("--home <dir>", "node home directory")
    .option("--json", "print the report as JSON")
    .option(
      "--reset-data",
      "move a damaged database aside (keeping the safety record): the node then resyncs from peers",
    )
    .action(async (o: { home: string; json?: boolean; resetData?: boolean }) => {
      const { checkHome, resetData } = await import("./doctor.ts");
      const home = resolve(o.home);
      if (o.resetData) {
        const aside = await resetData(home);
        printLine(
          `moved the database to ${aside}; the safety record stays. Start the node: it fetches the chain from its peers.`,
        );
        return;
      }
      const r = await checkHome(home);
      if (o.json) printJson(r);
      else {
        printLine(
          `${r.ok ? "OK" : "DAMAGED"}: ${r.blocks} blocks, ${r.stateValues} state values in ${r.stateNodes} tree nodes` +
            (r.safetyRecordHeight === undefined ? "" : `, safety record at height ${r.safetyRecordHeight}`),
        );
        for (const p of r.problems) printLine(`  problem: ${p}`);
        for (const n of r.notes) printLine(`  note: ${n}`);
        if (!r.ok)
          printLine(`repair: cairn doctor --home ${o.home} --reset-data, then start the node (it resyncs from peers)`);
      }
      if (!r.ok) throw new CommanderError(3, "cairn.damaged", "the node's data is damaged");
    });

  program
    .command("dev")
    .description("initialise a dev chain on first use, then run it (what `npm start` does)")
    .option("--home <dir>", "node home directory", ".cairn/dev")
    .option("--log-level <spec>", "log level", "warn")
    .option("--api-port <port>", "HTTP API port (first run only)")
    .action(async (o: { home: string; logLevel?: string; apiPort?: string }) => {
      const home = resolve(o.home);
      if (!existsSync(homePaths(home).config)) {
        const r = await initHome({ home, ...(o.apiPort === undefined ? {} : { apiPort: parsePort(o.apiPort) }) });
        process.stderr.write(`Initialised dev chain ${r.chainId} in ${home}\n`);
      }
      await runUntilSignalled(home, { ...(o.logLevel === undefined ? {} : { logLevel: o.logLevel }) }, (url) => [
        `Cairn dev node running.`,
        `  API:       ${url}   (try: curl ${url}/status)`,
        `  home:      ${home}`,
        `  admin key: ${homePaths(home).adminKey}`,
        `  try:       npm run cairn -- tx kv put hello world --home ${o.home}`,
        `Ctrl-C to stop.`,
      ]);
    });

  const keys = program.command("keys").description("manage Ed25519 key files");
  keys
    .command("new")
    .description("generate a key; writes it to --out (mode 600) or prints the key file")
    .option("--out <file>", "write the key file here (refuses to overwrite)")
    .action(async (o: { out?: string }) => {
      const k = generateKeyPair();
      if (o.out === undefined) {
        process.stdout.write(encodeKeyFile(k));
        return;
      }
      await writeKeyFile(o.out, k).catch((e: NodeJS.ErrnoException) => {
        throw new CliError(
          "KEY_EXISTS",
          e.code === "EEXIST" ? `${o.out} already exists; choose another --out` : e.message,
        );
      });
      const repo = gitWorkTree(dirname(resolve(o.out)));
      if (repo !== undefined) {
        process.stderr.write(
          `warning: ${o.out} holds a secret key and is inside the git work tree ${repo}; ` +
            (gitIgnores(repo, resolve(o.out))
              ? "git ignores it here, but keep it out of commits elsewhere too.\n"
              : "it is NOT ignored: move it out of the repository, or add it to .gitignore before committing.\n"),
        );
      }
      printLine(toHex(k.publicKey));
    });
  keys
    .command("show")
    .description("print the public key (account address) of a key file")
    .argument("<file>", "key file")
    .action(async (file: string) => {
      const k = await signingKey({ key: file });
      printLine(toHex(k.publicKey));
    });

  const tx = program.command("tx").description("sign and submit transactions");
  const kvCmd = tx.command("kv").description("the built-in key-value contract");
  txCommand(kvCmd, "put", "store VALUE under KEY (both text)", ["key", "value"], (k, v) =>
    kv.put(k as string, v as string),
  );
  txCommand(kvCmd, "delete", "delete KEY", ["key"], (k) => kv.delete(k as string));
  const tokenCmd = tx.command("token").description("the built-in token contract");
  txCommand(tokenCmd, "transfer", "send AMOUNT tokens to account TO (hex public key)", ["to", "amount"], (to, a) =>
    token.transfer(parseAccount(to as string), parseAmount(a as string)),
  );
  txCommand(tokenCmd, "mint", "create AMOUNT tokens for TO (admin keys only)", ["to", "amount"], (to, a) =>
    token.mint(parseAccount(to as string), parseAmount(a as string)),
  );

  const query = program.command("query").description("read the ledger");
  privateCommands(tx, query);
  readOptions(
    query.command("kv").description("value of KEY in the kv contract (exit 4 when absent)").argument("<key>"),
  ).action(async (key: string, o: ReadOpts) => {
    const s = await (await readClient(o)).getState("kv", key);
    printJson(s);
    if (s.value === null) notFound(`no value under "${key}" (the output carries the proof of its absence)`);
  });
  readOptions(
    query
      .command("state")
      .description("raw state entry of CONTRACT at KEY, with its Merkle proof")
      .argument("<contract>")
      .argument("<key>")
      .addOption(new Option("--hex", "KEY is hex, not text")),
  ).action(async (contract: string, key: string, o: ReadOpts & { hex?: boolean }) => {
    const bytes = o.hex ? Buffer.from(key, "hex") : new TextEncoder().encode(key);
    const s = await (await readClient(o)).getState(contract, new Uint8Array(bytes));
    printJson(s);
    if (s.value === null) notFound(`no value under ${contract}/${key} (the output carries the proof of its absence)`);
  });
  readOptions(query.command("balance").description("token balance of ACCOUNT").argument("<account>")).action(
    async (account: string, o: ReadOpts) => {
      const bal = await (await readClient(o)).balance(parseAccount(account));
      printLine(bal.toString());
    },
  );
  readOptions(query.command("tx").description("status, receipt and proof of a transaction").argument("<hash>")).action(
    async (hash: string, o: ReadOpts) => {
      const t = await (await readClient(o)).getTx(hash);
      printJson(t);
      if (t.status === "unknown") notFound(`no transaction ${hash} is known to this node`);
    },
  );
  readOptions(query.command("block").description("a block by height (default: latest)").argument("[height]")).action(
    async (height: string | undefined, o: ReadOpts) => {
      const h = height === undefined ? "latest" : Number(height);
      if (h !== "latest" && (!Number.isSafeInteger(h) || h < 1))
        throw new CliError("BAD_HEIGHT", "height must be a positive integer");
      printJson(await (await readClient(o)).getBlock(h));
    },
  );

  connectionOptions(
    program
      .command("status")
      .description("a node at a glance: role, height, consensus, peers, validators, mempool, block sync")
      .option("--json", "print the node's GET /status as JSON")
      .option("--timeout <ms>", "give up when the node does not answer within this many ms", "5000"),
  ).action(async (o: ConnectionOpts & { json?: boolean; timeout: string }) => {
    const url = await apiUrl(o);
    const timeoutMs = parseTimeout(o.timeout);
    let s: StatusInfo;
    try {
      s = await fetchStatus(url, timeoutMs);
    } catch (e) {
      const reason = unreachableReason(e, timeoutMs);
      if (reason === undefined) throw e;
      const start = `cairn start --home ${o.home ?? "DIR"}`;
      throw new CliError(
        "UNREACHABLE",
        `no node answers at ${url} (${reason}). Is it started? Start it with \`${start}\`, or name another node with --url URL or --home DIR.`,
      );
    }
    if (o.json) printJson(s);
    else for (const line of formatStatus(s, url)) printLine(line);
  });

  registerContractTxCommands(contractCommands(program));
  govCommands(program);
  benchCommand(program);
  dockerCommands(program);
  return program;
}

/**
 * The CLI's exit codes (README "Exit codes"): 0 done; 1 failed (the node refused, a transaction
 * failed, bad input, the node could not be reached); 3 `cairn doctor` found damage; 4 what was
 * asked for does not exist (a key, a transaction, a block).
 */
export const EXIT = { ok: 0, failed: 1, damaged: 3, notFound: 4 } as const;

/** For a privilege error, the command that grants what is missing (on the same line: errors are one line). */
export function grantHint(code: string): string {
  if (code === "UNKNOWN_IDENTITY") {
    return (
      ". To admit the key, an organisation's admin runs `cairn gov propose add-member KEY ORG client` " +
      "and other organisations' admins `cairn gov approve ID` until it executes (docs/governance.md)"
    );
  }
  if (code === "ROLE_REQUIRED") {
    return ". Roles are granted by governance: `cairn gov propose set-roles KEY ROLES`, then approvals (docs/governance.md)";
  }
  if (code === "IDENTITY_REVOKED")
    return ". This key was revoked: use the identity's new key, or add it again by governance";
  return "";
}

/** Runs the CLI and returns the process exit code; errors become one clear line on stderr. */
export async function runCli(argv: readonly string[], program: Command = buildProgram()): Promise<number> {
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof CairnApiError) {
      process.stderr.write(`error: ${e.code}: ${e.message}${grantHint(e.code)}\n`);
      return e.code.endsWith("_NOT_FOUND") ? EXIT.notFound : EXIT.failed;
    }
    const err = e as Error & { code?: string };
    const unreachable = unreachableReason(e, 10_000);
    if (unreachable !== undefined) {
      const t = chosenTarget();
      process.stderr.write(
        `error: cannot reach ${t?.url ?? "the node"} (${unreachable})` +
          (t === undefined ? "" : `; it was chosen as ${t.why}`) +
          ". Start it (npm start, or npm run start:solo), or name another node with --url URL or --home DIR.\n",
      );
      return EXIT.failed;
    }
    if (typeof err.code === "string" && !(err instanceof TypeError)) {
      process.stderr.write(`error: ${err.message}${grantHint(err.code)}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`error: ${err.stack ?? String(err)}\n`);
    return 1;
  }
}
