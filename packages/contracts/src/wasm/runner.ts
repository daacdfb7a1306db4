import { compareBytes, toHex } from "@cairn/crypto";
import { decode, encode, type PrivateRef, privateRefToValue, type Value } from "@cairn/messaging";
import { type CallResult, createVm, type Vm, type VmHost } from "@cairn/vm";
import { PRIVATE_CONTRACT, privateStateKey } from "../native/pkv.ts";
import { type ContractMeta, codeKey, decodeMeta, metaKey, SYSTEM_CONTRACT } from "./layout.ts";

/**
 * The state a WebAssembly call runs against: the block's overlay (or, for a query, the committed
 * state). Host functions are synchronous, so reads have a blocking form; the committed keys for
 * prefix iteration come from an asynchronous LevelDB iterator and are fetched between attempts.
 */
export interface WasmState {
  get(contract: string, key: Uint8Array): Promise<Uint8Array | undefined>;
  getSync(contract: string, key: Uint8Array): Uint8Array | undefined;
  set(contract: string, key: Uint8Array, value: Uint8Array): void;
  delete(contract: string, key: Uint8Array): void;
  /** Writes not yet committed (this block's), under `prefix`, in key order; deletes as undefined. */
  written(contract: string, prefix: Uint8Array): readonly { key: Uint8Array; value: Uint8Array | undefined }[];
  /** Committed keys under `prefix` greater than `after`, in key order, at most `limit`. */
  committedKeys(
    contract: string,
    prefix: Uint8Array,
    after: Uint8Array | undefined,
    limit: number,
  ): Promise<Uint8Array[]>;
  checkpoint(): number;
  revertTo(checkpoint: number): void;
}

export interface WasmCall {
  readonly contract: string;
  readonly method: string;
  readonly args: readonly Value[];
  readonly caller: Uint8Array;
  readonly height: number;
  readonly time: number;
  readonly gasLimit: number;
  readonly readOnly?: boolean;
  /** The private writes the transaction names (their hashes). */
  readonly private?: readonly PrivateRef[];
}

export type WasmResult =
  | {
      readonly ok: true;
      readonly output: Value;
      readonly outputBytes: Uint8Array;
      readonly events: readonly { name: string; data: Value }[];
      readonly gasUsed: number;
    }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly gasUsed: number };

/** Committed keys fetched per iteration step. */
const NEXT_PAGE = 64;
/** Iteration steps that may need the disk in one call; beyond that the call fails (deterministically). */
const MAX_FETCHES = 256;

/** Thrown by the host when prefix iteration needs committed keys it does not hold yet. */
class NeedKeys {
  readonly prefix: Uint8Array;
  readonly after: Uint8Array | undefined;
  constructor(prefix: Uint8Array, after: Uint8Array | undefined) {
    this.prefix = prefix;
    this.after = after;
  }
}

const fail = (code: string, message: string, gasUsed = 0): WasmResult => ({ ok: false, code, message, gasUsed });
const pageId = (prefix: Uint8Array, after: Uint8Array | undefined) =>
  `${toHex(prefix)}/${after === undefined ? "" : toHex(after)}`;

/**
 * Runs deployed contracts: looks up the contract's description and code in the state, runs the
 * method in the VM (compiled modules are cached by code hash), and turns the outcome into what a
 * receipt or a query answer needs. The same inputs give the same result on every node.
 */
export class WasmRunner {
  readonly vm: Vm;
  // Instrumented code by hash: immutable once deployed, so caching it is always safe.
  private readonly code = new Map<string, Uint8Array>();

  constructor(vm: Vm = createVm()) {
    this.vm = vm;
  }

  /** The contract's description, or undefined when nothing is deployed under `name`. */
  async meta(state: Pick<WasmState, "get">, name: string): Promise<ContractMeta | undefined> {
    const b = await state.get(SYSTEM_CONTRACT, metaKey(name));
    return b === undefined ? undefined : decodeMeta(b);
  }

  async call(state: WasmState, call: WasmCall): Promise<WasmResult> {
    const meta = await this.meta(state, call.contract);
    if (meta === undefined) return fail("UNKNOWN_CONTRACT", `no contract named ${call.contract}`);
    if (!meta.methods.includes(call.method)) {
      return fail("UNKNOWN_METHOD", `contract ${call.contract} has no method ${call.method}`);
    }
    const hash = toHex(meta.codeHash);
    let code = this.code.get(hash);
    if (code === undefined) {
      code = await state.get(SYSTEM_CONTRACT, codeKey(meta.codeHash));
      if (code === undefined) return fail("MISSING_CODE", `the code of ${call.contract} is not in the state`);
      this.code.set(hash, code);
    }
    const input = encode([...call.args]);
    const pages = new Map<string, Uint8Array[]>();
    const start = state.checkpoint();
    for (let attempt = 0; ; attempt++) {
      const events: { name: string; data: Uint8Array }[] = [];
      const host = this.host(state, call, pages, events);
      let r: CallResult;
      try {
        r = this.vm.call({
          codeHash: meta.codeHash,
          code,
          method: call.method,
          input,
          gasLimit: call.gasLimit,
          host,
          readOnly: call.readOnly ?? false,
        });
      } catch (e) {
        if (!(e instanceof NeedKeys)) throw e;
        // Undo this attempt's writes, fetch what iteration needs, and run the call again from the start.
        state.revertTo(start);
        if (attempt >= MAX_FETCHES) {
          return fail("TOO_MANY_STATE_READS", `the call iterated over more than ${MAX_FETCHES} pages of keys`);
        }
        pages.set(pageId(e.prefix, e.after), await state.committedKeys(call.contract, e.prefix, e.after, NEXT_PAGE));
        continue;
      }
      if (!r.ok) {
        state.revertTo(start);
        return r;
      }
      try {
        const output = r.output.length === 0 ? null : decode(r.output);
        const decoded = events.map((e) => ({ name: e.name, data: decode(e.data) }));
        return { ok: true, output, outputBytes: r.output, events: decoded, gasUsed: r.gasUsed };
      } catch (e) {
        state.revertTo(start);
        return fail(
          "BAD_CONTRACT_OUTPUT",
          `return value or event data is not canonical: ${(e as Error).message}`,
          r.gasUsed,
        );
      }
    }
  }

  private host(
    state: WasmState,
    call: WasmCall,
    pages: Map<string, Uint8Array[]>,
    events: { name: string; data: Uint8Array }[],
  ): VmHost {
    const { contract } = call;
    const refs = call.private ?? [];
    return {
      privateCount: refs.length,
      privateRef: (i) => {
        const ref = refs[i];
        return ref === undefined ? undefined : encode(privateRefToValue(ref));
      },
      privatePut: (i) => {
        const ref = refs[i] as PrivateRef;
        state.set(PRIVATE_CONTRACT, privateStateKey(ref.collection, ref.keyHash), ref.valueHash);
      },
      privateHash: (collection, keyHash) => state.getSync(PRIVATE_CONTRACT, privateStateKey(collection, keyHash)),
      caller: call.caller,
      height: call.height,
      time: call.time,
      storageGet: (key) => state.getSync(contract, key),
      storageSet: (key, value) => state.set(contract, key, value),
      storageDelete: (key) => state.delete(contract, key),
      storageNext: (prefix, after) => {
        // The smallest key > after under prefix: among this block's live writes, and among the
        // committed keys that this block has not deleted (fetched page by page).
        const written = state.written(contract, prefix);
        const deleted = new Set<string>();
        let fromWrites: Uint8Array | undefined;
        for (const w of written) {
          if (w.value === undefined) deleted.add(toHex(w.key));
          else if (fromWrites === undefined && (after === undefined || compareBytes(w.key, after) > 0))
            fromWrites = w.key;
        }
        let fromCommitted: Uint8Array | undefined;
        let cursor = after;
        for (;;) {
          const page = pages.get(pageId(prefix, cursor));
          if (page === undefined) throw new NeedKeys(prefix, cursor);
          fromCommitted = page.find((k) => !deleted.has(toHex(k)));
          if (fromCommitted !== undefined || page.length < NEXT_PAGE) break;
          cursor = page[page.length - 1];
        }
        if (fromCommitted === undefined) return fromWrites;
        if (fromWrites === undefined) return fromCommitted;
        return compareBytes(fromWrites, fromCommitted) <= 0 ? fromWrites : fromCommitted;
      },
      emit: (name, data) => {
        events.push({ name, data });
      },
    };
  }
}
