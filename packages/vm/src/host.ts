import { ABORT_MODULE, ABORT_NAME, HOST_MODULE } from "./abi.ts";
import { VmError } from "./errors.ts";
import type { GasCosts, VmLimits } from "./options.ts";

/** What the ledger provides to a call; every callback is synchronous. */
export interface VmHost {
  /** Public key (32 bytes) that signed the transaction; 32 zero bytes for an anonymous query. */
  readonly caller: Uint8Array;
  readonly height: number;
  /** Block time in ms. */
  readonly time: number;
  storageGet(key: Uint8Array): Uint8Array | undefined;
  storageSet(key: Uint8Array, value: Uint8Array): void;
  storageDelete(key: Uint8Array): void;
  /** The smallest key starting with `prefix` and greater than `after` (any, if undefined), in byte order. */
  storageNext(prefix: Uint8Array, after: Uint8Array | undefined): Uint8Array | undefined;
  emit(name: string, data: Uint8Array): void;
  /** Private writes the transaction names (docs/privacy.md): only their hashes reach a contract. */
  readonly privateCount: number;
  /** The i-th reference, canonical [collection, keyHash, valueHash]; undefined past the end. */
  privateRef(index: number): Uint8Array | undefined;
  /** Records the i-th reference's value hash as its key's hash in the collection's hashed state. */
  privatePut(index: number): void;
  /** The committed (or this block's) value hash of a key of a collection; undefined if never written. */
  privateHash(collection: string, keyHash: Uint8Array): Uint8Array | undefined;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Lenient = new TextDecoder("utf-8");
const utf16 = new TextDecoder("utf-16le");
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,31}$/;

function badCall(message: string): never {
  throw new VmError("BAD_HOST_CALL", message);
}

function checkLength(what: string, len: number, min: number, max: number): void {
  if (len < min || len > max) badCall(`${what} length ${len} not in ${min}..${max}`);
}

function decodeName(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return badCall(`${what} is not UTF-8`);
  }
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/** What changes from one call to the next on the same instance. */
export interface CallSetup {
  readonly host: VmHost;
  readonly input: Uint8Array;
  readonly readOnly: boolean;
}

/**
 * The host side of a contract instance: the imports handed to it, and the current call's buffer and
 * return value. One context serves every call the instance runs (`begin` starts each). Host
 * functions charge gas on the module's own gas global, so one counter covers both.
 */
export class HostContext {
  private readonly limits: VmLimits;
  private readonly costs: GasCosts;
  private call: CallSetup;
  private memory: WebAssembly.Memory | undefined;
  private gas: WebAssembly.Global | undefined;
  private buffer: Uint8Array = EMPTY;
  output: Uint8Array = EMPTY;

  constructor(limits: VmLimits, costs: GasCosts, call: CallSetup) {
    this.limits = limits;
    this.costs = costs;
    this.call = call;
  }

  /** Starts the next call on the instance. */
  begin(call: CallSetup): void {
    this.call = call;
    this.buffer = EMPTY;
    this.output = EMPTY;
  }

  attach(memory: WebAssembly.Memory, gas: WebAssembly.Global): void {
    this.memory = memory;
    this.gas = gas;
  }

  private charge(amount: number): void {
    const gas = this.gas!;
    const left = gas.value as bigint;
    const cost = BigInt(amount);
    if (left < cost) {
      gas.value = 0n;
      throw new VmError("OUT_OF_GAS", "out of gas in a host call");
    }
    gas.value = left - cost;
  }

  private range(ptr: number, len: number): Uint8Array {
    const buf = this.memory!.buffer;
    if (ptr < 0 || len < 0 || ptr + len > buf.byteLength) {
      badCall(`memory range [${ptr}, ${ptr + len}) out of bounds`);
    }
    return new Uint8Array(buf, ptr, len);
  }

  /** A copy: the host may keep what it receives, and the contract's memory changes afterwards. */
  private read(ptr: number, len: number): Uint8Array {
    return this.range(ptr, len).slice();
  }

  private write(ptr: number, data: Uint8Array): void {
    this.range(ptr, data.length).set(data);
  }

  private checkKey(len: number): void {
    checkLength("key", len, 1, this.limits.maxKeyBytes);
  }

  private writable(what: string): void {
    if (this.call.readOnly) throw new VmError("READ_ONLY", `${what} in a read-only call`);
  }

  private toBuffer(data: Uint8Array | undefined): number {
    if (data === undefined) {
      this.buffer = EMPTY;
      return -1;
    }
    this.buffer = data;
    return data.length;
  }

  imports(): WebAssembly.Imports {
    // The imports outlive a call: each function reads the current one's host and input.
    const { limits, costs } = this;
    const cairn = {
      input_len: (): number => {
        this.charge(costs.hostCall);
        return this.call.input.length;
      },
      input_read: (ptr: number): void => {
        this.charge(costs.hostCall + costs.byte * this.call.input.length);
        this.write(ptr, this.call.input);
      },
      buffer_read: (ptr: number): void => {
        this.charge(costs.hostCall + costs.byte * this.buffer.length);
        this.write(ptr, this.buffer);
      },
      storage_get: (kPtr: number, kLen: number): number => {
        this.checkKey(kLen);
        this.charge(costs.hostCall + costs.byte * kLen);
        const value = this.call.host.storageGet(this.read(kPtr, kLen));
        if (value !== undefined) this.charge(costs.byte * value.length);
        return this.toBuffer(value);
      },
      storage_has: (kPtr: number, kLen: number): number => {
        this.checkKey(kLen);
        this.charge(costs.hostCall + costs.byte * kLen);
        return this.call.host.storageGet(this.read(kPtr, kLen)) === undefined ? 0 : 1;
      },
      storage_set: (kPtr: number, kLen: number, vPtr: number, vLen: number): void => {
        this.writable("storage_set");
        this.checkKey(kLen);
        checkLength("value", vLen, 0, limits.maxValueBytes);
        this.charge(costs.hostCall + costs.storageWrite + costs.storageByte * (kLen + vLen));
        this.call.host.storageSet(this.read(kPtr, kLen), this.read(vPtr, vLen));
      },
      storage_delete: (kPtr: number, kLen: number): void => {
        this.writable("storage_delete");
        this.checkKey(kLen);
        this.charge(costs.hostCall + costs.storageWrite + costs.storageByte * kLen);
        this.call.host.storageDelete(this.read(kPtr, kLen));
      },
      storage_next: (pPtr: number, pLen: number, aPtr: number, aLen: number): number => {
        checkLength("prefix", pLen, 0, limits.maxKeyBytes);
        checkLength("key", aLen, -1, limits.maxKeyBytes);
        this.charge(costs.hostCall + costs.byte * (pLen + Math.max(aLen, 0)));
        const prefix = this.read(pPtr, pLen);
        const after = aLen < 0 ? undefined : this.read(aPtr, aLen);
        const key = this.call.host.storageNext(prefix, after);
        if (key !== undefined) this.charge(costs.byte * key.length);
        return this.toBuffer(key);
      },
      private_count: (): number => {
        this.charge(costs.hostCall);
        return this.call.host.privateCount;
      },
      private_ref: (index: number): number => {
        this.charge(costs.hostCall);
        const ref = this.call.host.privateRef(index);
        if (ref === undefined)
          badCall(`private write ${index} does not exist (the transaction has ${this.call.host.privateCount})`);
        this.charge(costs.byte * (ref as Uint8Array).length);
        return this.toBuffer(ref);
      },
      private_put: (index: number): void => {
        this.writable("private_put");
        if (index < 0 || index >= this.call.host.privateCount) {
          badCall(`private write ${index} does not exist (the transaction has ${this.call.host.privateCount})`);
        }
        this.charge(costs.hostCall + costs.storageWrite + costs.storageByte * 64);
        this.call.host.privatePut(index);
      },
      private_hash: (cPtr: number, cLen: number, kPtr: number): number => {
        checkLength("collection name", cLen, 1, 64);
        this.charge(costs.hostCall + costs.byte * (cLen + 32));
        const name = decodeName(this.range(cPtr, cLen), "collection name");
        const hash = this.call.host.privateHash(name, this.read(kPtr, 32));
        if (hash !== undefined) this.charge(costs.byte * hash.length);
        return this.toBuffer(hash);
      },
      caller: (ptr: number): void => {
        this.charge(costs.hostCall + costs.byte * this.call.host.caller.length);
        this.write(ptr, this.call.host.caller);
      },
      block_height: (): bigint => {
        this.charge(costs.hostCall);
        return BigInt(this.call.host.height);
      },
      block_time: (): bigint => {
        this.charge(costs.hostCall);
        return BigInt(this.call.host.time);
      },
      emit: (nPtr: number, nLen: number, dPtr: number, dLen: number): void => {
        this.writable("emit");
        checkLength("event name", nLen, 1, limits.maxEventNameBytes);
        checkLength("event data", dLen, 0, limits.maxEventBytes);
        this.charge(costs.hostCall + costs.byte * (nLen + dLen));
        const name = decodeName(this.range(nPtr, nLen), "event name");
        this.call.host.emit(name, this.read(dPtr, dLen));
      },
      ret: (ptr: number, len: number): void => {
        checkLength("return value", len, 0, limits.maxReturnBytes);
        this.charge(costs.hostCall + costs.byte * len);
        this.output = this.read(ptr, len);
      },
      fail: (cPtr: number, cLen: number, mPtr: number, mLen: number): void => {
        checkLength("error code", cLen, 1, 32);
        checkLength("error message", mLen, 0, limits.maxErrorMessageBytes);
        this.charge(costs.hostCall + costs.byte * (cLen + mLen));
        const code = String.fromCharCode(...this.range(cPtr, cLen));
        if (!ERROR_CODE.test(code)) badCall("error code does not match [A-Z][A-Z0-9_]{0,31}");
        throw new VmError(code, utf8Lenient.decode(this.range(mPtr, mLen)));
      },
    };
    const env = {
      abort: (msgPtr: number, filePtr: number, line: number, column: number): void => {
        this.charge(costs.hostCall);
        const message = this.asString(msgPtr) ?? "abort";
        const file = this.asString(filePtr);
        const where = file === undefined ? "" : ` at ${file}:${line >>> 0}:${column >>> 0}`;
        throw new VmError("CONTRACT_ABORT", truncateUtf8(message + where, limits.maxErrorMessageBytes));
      },
    };
    return { [HOST_MODULE]: cairn, [ABORT_MODULE]: { [ABORT_NAME]: env.abort } };
  }

  /** An AssemblyScript string: UTF-16LE, its byte length stored as a u32 just before it. */
  private asString(ptr: number): string | undefined {
    if (ptr === 0) return undefined;
    if (ptr < 4) badCall(`string pointer ${ptr} out of bounds`);
    const len = new DataView(this.range(ptr - 4, 4).slice().buffer).getUint32(0, true);
    if (len > 2 ** 31) badCall(`string at ${ptr} out of bounds`);
    this.range(ptr, len);
    // Decode no more than the longest message a receipt keeps (every UTF-16 unit is ≥ 1 UTF-8 byte).
    const read = Math.min(len, this.limits.maxErrorMessageBytes * 2) & ~1;
    this.charge(this.costs.byte * read);
    return utf16.decode(this.range(ptr, read));
  }
}
