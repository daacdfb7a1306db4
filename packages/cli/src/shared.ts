// What the CLI's client commands share: the node to talk to, the key to sign with, and sending a
// signed transaction (used by `cairn tx ...` in main.ts and `cairn contract deploy/call ...` in
// contract-tx.ts).

import { existsSync } from "node:fs";
import { type ContractCall, createClient, type PrivateWrite, type StatusInfo, type SubmitResult } from "@cairn/client";
import type { KeyPair } from "@cairn/crypto";
import { homePaths, loadConfig, readKeyFile } from "@cairn/node/config";
import type { Command } from "commander";
import { printJson } from "./output.ts";

/** An error the user can fix: printed without a stack trace. */
export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ConnectionOpts {
  url?: string;
  home?: string;
}

/** Options of a command that signs and sends a transaction. */
export interface TxOpts extends ConnectionOpts {
  key?: string;
  wait: boolean;
}

export const DEFAULT_URL = "http://127.0.0.1:26657";
/** The local cluster `npm start` writes and runs, and the dev chain of `npm run start:solo`. */
export const LOCAL_CLUSTER_HOME = ".cairn/cluster/node0";
export const LOCAL_DEV_HOME = ".cairn/dev";

/** The node a command talks to, and why that one (for messages when it cannot be reached). */
export interface Target {
  readonly url: string;
  readonly why: string;
}

let lastTarget: Target | undefined;

/** The node the last command chose (undefined before any). */
export function chosenTarget(): Target | undefined {
  return lastTarget;
}

/**
 * The home a command uses when given neither --url nor --home: the local cluster's node0 when
 * `npm start` has written one here, else the dev chain, else none.
 */
export function defaultHome(): string | undefined {
  if (existsSync(homePaths(LOCAL_CLUSTER_HOME).config)) return LOCAL_CLUSTER_HOME;
  if (existsSync(homePaths(LOCAL_DEV_HOME).config)) return LOCAL_DEV_HOME;
  return undefined;
}

/**
 * The API to talk to: --url, else the node in --home, else the local cluster (.cairn/cluster, as
 * `npm start` writes it), else the dev chain (.cairn/dev), else the default local node.
 */
export async function apiUrl(o: ConnectionOpts): Promise<string> {
  const t = await resolveTarget(o);
  lastTarget = t;
  return t.url;
}

async function resolveTarget(o: ConnectionOpts): Promise<Target> {
  if (o.url !== undefined) return { url: o.url, why: "given with --url" };
  const home = o.home ?? defaultHome();
  if (home !== undefined) {
    const c = await loadConfig(home);
    const host = c.api.host === "0.0.0.0" ? "127.0.0.1" : c.api.host;
    const why =
      o.home !== undefined
        ? `the API of --home ${o.home}`
        : home === LOCAL_CLUSTER_HOME
          ? `the local cluster's node0 (${LOCAL_CLUSTER_HOME} exists; \`npm start\` runs it)`
          : `the dev chain (${LOCAL_DEV_HOME} exists; \`npm run start:solo\` runs it)`;
    return { url: `http://${host}:${c.api.port}`, why };
  }
  return { url: DEFAULT_URL, why: "the default (no --url, no --home, and no .cairn/cluster or .cairn/dev here)" };
}

/** The signing key: --key FILE, else the admin key in --home (or in the default home, see apiUrl). */
export async function signingKey(o: ConnectionOpts & { key?: string }): Promise<KeyPair> {
  const home = o.home ?? (o.url === undefined ? defaultHome() : undefined);
  const path = o.key ?? (home !== undefined ? homePaths(home).adminKey : undefined);
  if (path === undefined)
    throw new CliError("NO_KEY", "no signing key: pass --key FILE (see `cairn keys new`) or --home DIR");
  return readKeyFile(path);
}

/** Options of a command that reads the ledger. */
export interface ReadOpts extends ConnectionOpts {
  key?: string;
}

/**
 * A client for reads, signing them (as a chain whose read policy is "members" requires) with
 * --key FILE, else with the admin key in --home when there is one; else unsigned.
 */
export async function readClient(o: ReadOpts): Promise<ReturnType<typeof createClient>> {
  const home = o.home ?? (o.url === undefined ? defaultHome() : undefined);
  const admin = home === undefined ? undefined : homePaths(home).adminKey;
  const path = o.key ?? (admin !== undefined && existsSync(admin) ? admin : undefined);
  return createClient({ url: await apiUrl(o), ...(path === undefined ? {} : { readKey: await readKeyFile(path) }) });
}

/** --url, --home and --key: the options of a command that reads the ledger. */
export function readOptions(cmd: Command): Command {
  return connectionOptions(cmd).option(
    "--key <file>",
    'key file that signs the reads on a chain whose reads are "members" only (default: the admin key in --home, if any)',
  );
}

export function connectionOptions(cmd: Command): Command {
  return cmd
    .option(
      "--url <url>",
      `API of the node to talk to (default: the node in --home, else ${LOCAL_CLUSTER_HOME} or ${LOCAL_DEV_HOME} when present, else ${DEFAULT_URL})`,
    )
    .option("--home <dir>", "node home directory (for its API address and, for tx, its admin key)");
}

/** --url, --home, --key and --no-wait: the options of a command that sends a transaction. */
export function txOptions(cmd: Command): Command {
  return connectionOptions(cmd)
    .option("--key <file>", "key file that signs the transaction (default: the admin key in --home)")
    .option("--no-wait", "return once the node accepted it, without waiting for the commit");
}

/**
 * Signs `call`, submits it and (unless --no-wait) waits for the commit; prints the result with its
 * receipt. Throws a CliError (exit 1) when the transaction was rejected or its receipt is not OK.
 */
export async function sendTx(
  call: ContractCall,
  o: TxOpts,
  privateWrites?: readonly PrivateWrite[],
): Promise<SubmitResult> {
  const client = createClient({ url: await apiUrl(o) });
  const key = await signingKey(o);
  const signer = client.signer(key);
  const wait: { wait?: "commit" } = o.wait ? { wait: "commit" } : {};
  const result =
    privateWrites === undefined ? await signer.send(call, wait) : await signer.sendPrivate(call, privateWrites, wait);
  printJson(result);
  if (result.status === "rejected" && result.error !== undefined) {
    throw new CliError(
      result.error.code,
      `${result.error.code}: the node dropped the transaction: ${result.error.message}`,
    );
  }
  if ("receipt" in result && result.receipt !== undefined && result.receipt.code !== "OK") {
    throw new CliError(
      result.receipt.code,
      `${result.receipt.code}: transaction committed but failed: ${result.receipt.message}`,
    );
  }
  return result;
}

/** Why a request to a node got no answer, in a few words ("connection refused", ...); undefined if it did answer. */
export function unreachableReason(e: unknown, timeoutMs: number): string | undefined {
  for (let c: unknown = e; c instanceof Error || (typeof c === "object" && c !== null); ) {
    const err = c as Error & { code?: string };
    if (err.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
    if (err.code === "ECONNREFUSED") return "connection refused";
    if (err.code === "ECONNRESET") return "connection reset";
    if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") return "unknown host";
    if (err.code === "EHOSTUNREACH" || err.code === "ENETUNREACH") return "host unreachable";
    c = err.cause;
  }
  const err = e as Error & { code?: string };
  if (err.code === "NETWORK") return (err.cause as Error | undefined)?.message ?? err.message;
  return undefined;
}

/** GET /status of the node at `url`, giving up after `timeoutMs`. */
export function fetchStatus(url: string, timeoutMs: number): Promise<StatusInfo> {
  return createClient({
    url,
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
  }).status();
}
