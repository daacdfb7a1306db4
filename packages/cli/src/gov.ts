// `cairn gov ...`: on-chain governance (docs/governance.md). Admins propose and approve changes
// of membership, roles, validators and the node registry; members rotate and revoke keys. Sends
// transactions like `cairn tx ...` (--key, or the admin key in --home; waits for the commit unless
// --no-wait) and reads GET /gov/* like `cairn query ...`.
import {
  type GovIdentityInfo,
  govEvents,
  governance,
  type ProposalInfo,
  type SubmitResult,
  type Value,
} from "@cairn/client";
import { fromHex, toHex } from "@cairn/crypto";
import { ACTIONS, isRole, ROLES } from "@cairn/management";
import { readKeyFile } from "@cairn/node/config";
import type { Command } from "commander";
import { formatTable, printJson, printLine, shortId } from "./output.ts";
import { CliError, type ReadOpts, readClient, readOptions, sendTx, type TxOpts, txOptions } from "./shared.ts";

type ActionName = keyof typeof ACTIONS;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_HEX = /^[0-9a-fA-F]{64}$/;
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const STATUSES = ["open", "executed", "expired", "all"] as const;

/** What each kind of argument looks like on the command line, for usage lines and errors. */
const ARG_HELP: Readonly<Record<string, string>> = {
  publicKey: "a public key: 64 hex digits",
  newKey: "a public key: 64 hex digits",
  roles: `a comma list of ${ROLES.join(", ")}`,
  power: "an integer from 1 to 1000000",
  peerId: "a libp2p peer id (base58, 12D3KooW...)",
  name: "a name: 1-64 letters, digits, '.', '_' or '-'",
  org: "an organisation name",
  members: "a comma list of organisation names",
  requiredPeerCount: "an integer from 0 to 100",
  maxPeerCount: "an integer from 0 to 100",
  blockToLive: "a number of blocks (0: keep until purged)",
  memberOnlyRead: "true or false",
  memberOnlyWrite: "true or false",
};

/** A bad command line: one line saying what to do, exit code 2. */
function usageError(cmd: Command, message: string): never {
  return cmd.error(`error: ${message}`, { exitCode: 2, code: "cairn.badArgument" });
}

export function actionUsage(action: ActionName): string {
  return `cairn gov propose ${action} ${ACTIONS[action].map((a) => `<${a}>`).join(" ")}`;
}

/** A bad `cairn gov propose` command line; the message says what to write instead. */
export class GovArgError extends Error {
  readonly code = "BAD_ARG";
}

function argValue(name: string, word: string): Value {
  const bad = (): never => {
    throw new GovArgError(`bad ${name} ${JSON.stringify(word)}: expected ${ARG_HELP[name] ?? "text"}`);
  };
  switch (name) {
    case "publicKey":
    case "newKey":
      return KEY_HEX.test(word) ? fromHex(word.toLowerCase()) : bad();
    case "roles": {
      const roles = word.split(",").map((r) => r.trim());
      if (roles.length === 0 || !roles.every(isRole) || new Set(roles).size !== roles.length) bad();
      return roles;
    }
    case "power": {
      const n = Number(word);
      return /^[0-9]{1,7}$/.test(word) && n >= 1 && n <= 1_000_000 ? n : bad();
    }
    case "peerId":
      return PEER_ID.test(word) ? word : bad();
    case "members": {
      const orgs = word.split(",").map((o) => o.trim());
      return orgs.length > 0 && orgs.every((o) => NAME.test(o)) ? orgs : bad();
    }
    case "requiredPeerCount":
    case "maxPeerCount":
      return /^[0-9]{1,3}$/.test(word) && Number(word) <= 100 ? Number(word) : bad();
    case "blockToLive":
      return /^[0-9]{1,10}$/.test(word) && Number(word) <= 0xffffffff ? Number(word) : bad();
    case "memberOnlyRead":
    case "memberOnlyWrite":
      return word === "true" ? true : word === "false" ? false : bad();
    default:
      return NAME.test(word) ? word : bad();
  }
}

/** The action and its typed arguments from `cairn gov propose <action> [args...]`. Throws GovArgError. */
export function parseProposal(action: string, words: readonly string[]): { action: ActionName; args: Value[] } {
  if (!Object.hasOwn(ACTIONS, action)) {
    throw new GovArgError(
      `unknown action ${JSON.stringify(action)}; known actions: ${Object.keys(ACTIONS).join(", ")}`,
    );
  }
  const a = action as ActionName;
  const names = ACTIONS[a];
  if (words.length !== names.length) {
    throw new GovArgError(
      `${a} takes ${names.length} argument(s), got ${words.length}. Usage: ${actionUsage(a)} ` +
        `(${names.map((n) => `${n}: ${ARG_HELP[n] ?? "text"}`).join("; ")})`,
    );
  }
  return { action: a, args: names.map((n, i) => argValue(n, words[i] as string)) };
}

function parseId(cmd: Command, word: string): number {
  if (!/^[0-9]{1,15}$/.test(word) || Number(word) < 1)
    usageError(cmd, `a proposal id is a positive integer, got "${word}"`);
  return Number(word);
}

function parseKey(cmd: Command, word: string, what: string): Uint8Array {
  if (!KEY_HEX.test(word)) usageError(cmd, `${what} must be a public key of 64 hex digits, got "${word}"`);
  return fromHex(word.toLowerCase());
}

/** A governance argument for people: keys shortened in tables, lists joined. */
function argText(v: unknown, short: boolean): string {
  if (Array.isArray(v)) return v.map((x) => argText(x, short)).join(",");
  const s = String(v);
  return short && /^[0-9a-f]{64}$/.test(s) ? shortId(s) : s;
}

function approvalsText(p: ProposalInfo): string {
  return `${p.approvals.length}/${p.needed}`;
}

/** `cairn gov show`: a proposal for people. */
export function formatProposal(p: ProposalInfo): string[] {
  const lines = [
    `proposal    ${p.id}  ${p.action}  (${p.status})`,
    ...p.args.map((a, i) => `  ${(p.argNames[i] ?? `arg${i}`).padEnd(10)} ${argText(a, false)}`),
    `proposer    ${p.proposer}${p.proposerOrg === undefined ? "" : ` (${p.proposerOrg})`}`,
    `approvals   ${approvalsText(p)}: ${p.approvals.join(", ")}`,
    `created     height ${p.createdAt}`,
    `expires     after height ${p.expiresAt}`,
  ];
  if (p.executedAt !== undefined) lines.push(`executed    at height ${p.executedAt}`);
  return lines;
}

/** `cairn gov list`: proposals as a table. */
export function formatProposals(ps: readonly ProposalInfo[]): string[] {
  if (ps.length === 0) return ["no proposals"];
  return formatTable(
    ["ID", "ACTION", "STATUS", "APPROVALS", "BY", "CREATED", "EXPIRES", "ARGS"],
    ps.map((p) => [
      String(p.id),
      p.action,
      p.status === "executed" ? `executed@${p.executedAt}` : p.status,
      approvalsText(p),
      p.proposerOrg ?? shortId(p.proposer),
      String(p.createdAt),
      String(p.expiresAt),
      p.args.map((a) => argText(a, true)).join(" "),
    ]),
  );
}

/** What a committed governance transaction did, on stderr (the result itself is on stdout, as JSON). */
function report(r: SubmitResult, what: string, then?: string): void {
  if (r.receipt === undefined) {
    process.stderr.write(`submitted ${r.hash}, not committed yet; see \`cairn query tx ${r.hash}\`\n`);
    return;
  }
  const ev = govEvents(r.receipt);
  const id = ev.proposalId === undefined ? "" : `proposal ${ev.proposalId}: `;
  const executed = ev.executed ? "; executed (took effect)" : "";
  process.stderr.write(`${id}${what} at height ${r.height}${executed}${then === undefined ? "" : `; ${then}`}\n`);
}

function identityRow(i: GovIdentityInfo): string[] {
  return [i.org, i.publicKey, i.roles.join(","), i.active ? "yes" : "revoked"];
}

/** Registers `cairn gov` and its subcommands. */
export function govCommands(program: Command): Command {
  const gov = program
    .command("gov")
    .description("on-chain governance: proposals, approvals, members, validators, nodes, key rotation");

  const actions = (Object.keys(ACTIONS) as ActionName[]).map((a) => `  ${actionUsage(a)}`).join("\n");
  txOptions(
    gov
      .command("propose")
      .description("propose a governance change; your organisation approves it at once (admin key)")
      .argument("<action>", `one of ${Object.keys(ACTIONS).join(", ")}`)
      .argument("[args...]", "the action's arguments (see below)")
      .addHelpText(
        "after",
        `\nActions:\n${actions}\n\nRoles are a comma list (client,auditor); keys 64 hex digits; power an integer.`,
      ),
  ).action(async (action: string, words: string[], o: TxOpts, cmd: Command) => {
    let parsed: { action: ActionName; args: Value[] };
    try {
      parsed = parseProposal(action, words);
    } catch (err) {
      if (err instanceof GovArgError) usageError(cmd, err.message);
      throw err;
    }
    const r = await sendTx(governance.propose(parsed.action, parsed.args), o);
    report(r, `${parsed.action} proposed`);
  });

  txOptions(
    gov
      .command("approve")
      .description("approve a proposal for your organisation; it executes once enough organisations did (admin key)")
      .argument("<id>", "proposal id (see `cairn gov list`)"),
  ).action(async (word: string, o: TxOpts, cmd: Command) => {
    const id = parseId(cmd, word);
    const r = await sendTx(governance.approve(id), o);
    report(r, `proposal ${id} approved`);
  });

  readOptions(
    gov
      .command("list")
      .description("proposals, newest first: status, approvals, expiry")
      .option("--status <status>", "open, executed, expired or all", "all")
      .option("--limit <n>", "at most this many (1-1000)", "100")
      .option("--json", "print them as JSON"),
  ).action(async (o: ReadOpts & { status: string; limit: string; json?: boolean }, cmd: Command) => {
    if (!(STATUSES as readonly string[]).includes(o.status)) {
      usageError(cmd, `--status must be one of ${STATUSES.join(", ")}, got "${o.status}"`);
    }
    const limit = Number(o.limit);
    if (!/^[0-9]{1,4}$/.test(o.limit) || limit < 1 || limit > 1000) {
      usageError(cmd, `--limit must be a whole number from 1 to 1000, got "${o.limit}"`);
    }
    const client = await readClient(o);
    const ps = await client.gov.proposals({ status: o.status as (typeof STATUSES)[number], limit });
    if (o.json) printJson(ps);
    else for (const line of formatProposals(ps)) printLine(line);
  });

  readOptions(
    gov
      .command("show")
      .description("one proposal: its arguments, approvals, status and heights")
      .argument("<id>", "proposal id")
      .option("--json", "print it as JSON"),
  ).action(async (word: string, o: ReadOpts & { json?: boolean }, cmd: Command) => {
    const id = parseId(cmd, word);
    const p = await (await readClient(o)).gov.proposal(id);
    if (p === undefined) throw new CliError("PROPOSAL_NOT_FOUND", `no proposal ${id} (see \`cairn gov list\`)`);
    if (o.json) printJson(p);
    else for (const line of formatProposal(p)) printLine(line);
  });

  readOptions(
    gov
      .command("members")
      .description("the organisations and their identities: public key, roles, active")
      .option("--json", "print them as JSON"),
  ).action(async (o: ReadOpts & { json?: boolean }) => {
    const orgs = await (await readClient(o)).gov.organizations();
    if (o.json) return printJson(orgs);
    if (orgs.length === 0) {
      printLine("no organisations: an open chain (any key may send transactions; see docs/governance.md)");
      return;
    }
    const rows = orgs.flatMap((org) =>
      org.identities.length === 0 ? [[org.name, "-", "-", "-"]] : org.identities.map(identityRow),
    );
    for (const line of formatTable(["ORG", "PUBLIC KEY", "ROLES", "ACTIVE"], rows)) printLine(line);
  });

  readOptions(
    gov
      .command("validators")
      .description("the validator set deciding the next height, and scheduled changes")
      .option("--json", "print it as JSON"),
  ).action(async (o: ReadOpts & { json?: boolean }) => {
    const v = await (await readClient(o)).gov.validators();
    if (o.json) return printJson(v);
    printLine(`validators deciding height ${v.height}:`);
    const rows = v.validators.map((x) => [x.name, x.publicKey, String(x.power)]);
    for (const line of formatTable(["NAME", "PUBLIC KEY", "POWER"], rows)) printLine(`  ${line}`);
    if (v.schedule.length > 0) {
      printLine("schedule:");
      for (const e of v.schedule) {
        const mark = e.from > v.height ? "  (scheduled)" : "";
        printLine(`  from height ${e.from}: ${e.validators.map((x) => `${x.name}(${x.power})`).join(", ")}${mark}`);
      }
    }
  });

  readOptions(
    gov
      .command("nodes")
      .description("the node registry: the peer ids allowed on the chain's network")
      .option("--json", "print them as JSON"),
  ).action(async (o: ReadOpts & { json?: boolean }) => {
    const nodes = await (await readClient(o)).gov.nodes();
    if (o.json) return printJson(nodes);
    if (nodes.length === 0) {
      printLine("no registered nodes (a chain without a network, or one not declaring its members)");
      return;
    }
    for (const line of formatTable(
      ["NAME", "ORG", "PEER ID"],
      nodes.map((n) => [n.name, n.org || "-", n.peerId]),
    )) {
      printLine(line);
    }
  });

  readOptions(
    gov
      .command("collections")
      .description("private data collections: member organisations, dissemination, blockToLive (docs/privacy.md)")
      .option("--json", "print them as JSON"),
  ).action(async (o: ReadOpts & { json?: boolean }) => {
    const collections = await (await readClient(o)).gov.collections();
    if (o.json) return printJson(collections);
    if (collections.length === 0) {
      printLine("no collections (define one: cairn gov propose define-collection ...)");
      return;
    }
    for (const line of formatTable(
      ["NAME", "MEMBERS", "REQUIRED", "MAX", "BLOCK TO LIVE", "READ", "WRITE"],
      collections.map((c) => [
        c.name,
        c.members.join(","),
        String(c.requiredPeerCount),
        String(c.maxPeerCount),
        c.blockToLive === 0 ? "until purged" : String(c.blockToLive),
        c.memberOnlyRead ? "members" : "any identity",
        c.memberOnlyWrite ? "members" : "any identity",
      ]),
    )) {
      printLine(line);
    }
  });

  txOptions(
    gov
      .command("rotate")
      .description("move your identity (organisation and roles) to a new key; the signing key is revoked")
      .requiredOption("--new-key <file>", "key file of the new key (see `cairn keys new --out FILE`)"),
  ).action(async (o: TxOpts & { newKey: string }) => {
    const next = await readKeyFile(o.newKey);
    const r = await sendTx(governance.rotate(next.publicKey), o);
    report(r, `key rotated to ${toHex(next.publicKey)}`, `sign with ${o.newKey} from now on`);
  });

  txOptions(
    gov
      .command("revoke")
      .description("revoke a key: your own, or (admin key) one of your organisation's")
      .argument("<publicKey>", "the key to revoke, 64 hex digits"),
  ).action(async (word: string, o: TxOpts, cmd: Command) => {
    const key = parseKey(cmd, word, "the key to revoke");
    const r = await sendTx(governance.revoke(key), o);
    report(r, `key ${toHex(key)} revoked`);
  });

  return gov;
}
