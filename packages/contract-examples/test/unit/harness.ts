// A small harness for the example contracts' unit tests: builds a contract with `buildContract`,
// prepares it as a node does at deploy, and runs its methods in @cairn/vm against an in-memory host.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildContract } from "@cairn/contract-sdk/build";
import { decode, encode, type Value } from "@cairn/messaging";
import { createMemoryHost, type MemoryHost } from "@cairn/test-utils";
import { type CallResult, createVm, type PreparedContract, prepareContract, type Vm } from "@cairn/vm";
import { expect } from "vitest";

/** The chain's default maxTxGas (genesis). */
export const GAS = 50_000_000;

/** A 32-byte account key filled with `n`. */
export const account = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** What a query runs as on a node: 32 zero bytes. */
export const ANONYMOUS = new Uint8Array(32);

export function contractDir(name: string): string {
  return fileURLToPath(new URL(`../../contracts/${name}`, import.meta.url));
}

export interface Built {
  readonly contract: PreparedContract;
  readonly methods: readonly string[];
  readonly wasm: Uint8Array;
}

/** Builds `contracts/<name>` into a temporary directory and prepares it (verification and metering). */
export async function buildExample(name: string): Promise<Built> {
  const out = mkdtempSync(join(tmpdir(), `cairn-${name}-`));
  try {
    const built = await buildContract(contractDir(name), { out: join(out, `${name}.wasm`) });
    return { contract: prepareContract(built.wasm), methods: built.methods, wasm: built.wasm };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export interface DecodedEvent {
  readonly name: string;
  readonly data: Value;
}

/** One contract's storage and a VM, with helpers for allowed and denied calls. */
export class Harness {
  readonly vm: Vm = createVm();
  readonly host: MemoryHost;
  private readonly contract: PreparedContract;

  constructor(contract: PreparedContract, opts: { height?: number; time?: number } = {}) {
    this.contract = contract;
    this.host = createMemoryHost({ height: opts.height ?? 10, time: opts.time ?? 1_700_000_000_000 });
  }

  /** Moves to a later block: `blocks` heights and 1 s per block. */
  advance(blocks: number): void {
    this.host.height += blocks;
    this.host.time += blocks * 1000;
  }

  call(caller: Uint8Array, method: string, args: Value[] = [], readOnly = false): CallResult {
    this.host.caller = caller;
    return this.vm.call({ ...this.contract, method, input: encode(args), gasLimit: GAS, host: this.host, readOnly });
  }

  /** A transaction that must succeed; returns its decoded return value (undefined for none). */
  send(caller: Uint8Array, method: string, args: Value[] = []): Value {
    return this.ok(this.call(caller, method, args));
  }

  /** A read-only query, as a node runs it (anonymous caller); must succeed. */
  query(method: string, args: Value[] = []): Value {
    return this.ok(this.call(ANONYMOUS, method, args, true));
  }

  /** A query that must fail with `code`; returns the message. */
  queryFails(method: string, args: Value[], code: string): string {
    return this.failed(this.call(ANONYMOUS, method, args, true), code);
  }

  /**
   * A transaction that must fail with `code`, having checked before it wrote: the storage and the
   * events are as they were (the ledger would also revert them; the contracts do not rely on it).
   * Returns the message.
   */
  reject(caller: Uint8Array, method: string, args: Value[], code: string): string {
    const before = this.host.entries();
    const events = this.host.events.length;
    const message = this.failed(this.call(caller, method, args), code);
    expect(this.host.entries()).toEqual(before);
    expect(this.host.events.length).toBe(events);
    return message;
  }

  ok(r: CallResult): Value {
    if (!r.ok) throw new Error(`call failed: ${r.code}: ${r.message}`);
    expect(r.gasUsed).toBeGreaterThan(0);
    expect(r.gasUsed).toBeLessThanOrEqual(GAS);
    return r.output.length === 0 ? undefined! : decode(r.output);
  }

  failed(r: CallResult, code: string): string {
    expect(r.ok ? "ok" : `${r.code}: ${r.message}`).toMatch(new RegExp(`^${code}: `));
    if (r.ok) return "";
    expect(r.gasUsed).toBeGreaterThan(0);
    return r.message;
  }

  /** The events emitted since the last call of `takeEvents`, decoded; clears them. */
  takeEvents(): DecodedEvent[] {
    const out = this.host.events.map((e) => ({ name: e.name, data: decode(e.data) }));
    this.host.events.length = 0;
    return out;
  }
}
