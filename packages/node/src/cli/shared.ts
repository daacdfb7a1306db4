// What the CLI's client commands share: the node to talk to, the key to sign with, and sending a
// signed transaction (used by `cairn tx ...` in main.ts and `cairn contract deploy/call ...` in
// contract-tx.ts).

import { existsSync } from "node:fs";
import { type ContractCall, createClient, type StatusInfo, type SubmitResult } from "@cairn/client";
import type { KeyPair } from "@cairn/crypto";
import type { Command } from "commander";
import { homePaths, loadConfig, readKeyFile } from "../config.ts";
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

/** The API to talk to: --url, else the node in --home, else the default local node. */
export async function apiUrl(o: ConnectionOpts): Promise<string> {
  if (o.url !== undefined) return o.url;
  if (o.home !== undefined) {
    const c = await loadConfig(o.home);
    const host = c.api.host === "0.0.0.0" ? "127.0.0.1" : c.api.host;
    return `http://${host}:${c.api.port}`;
  }
  return DEFAULT_URL;
}

/** The signing key: --key FILE, else the admin key of the dev chain in --home. */
export async function signingKey(o: ConnectionOpts & { key?: string }): Promise<KeyPair> {
  const path = o.key ?? (o.home !== undefined ? homePaths(o.home).adminKey : undefined);
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
  const admin = o.home === undefined ? undefined : homePaths(o.home).adminKey;
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
    .option("--url <url>", `API of the node to talk to (default: the node in --home, else ${DEFAULT_URL})`)
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
export async function sendTx(call: ContractCall, o: TxOpts): Promise<SubmitResult> {
  const client = createClient({ url: await apiUrl(o) });
  const key = await signingKey(o);
  const signer = client.signer(key);
  const result = await signer.send(call, o.wait ? { wait: "commit" } : {});
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
