import { HASH_LENGTH } from "@cairn/crypto";
import { decode, encode, type Value } from "./codec.ts";
import { asArray, asBytes, asString, asUint } from "./schema.ts";

/** Something a contract reports while executing, e.g. a transfer. */
export interface ContractEvent {
  readonly contract: string;
  readonly name: string;
  readonly data: Value;
}

/** The outcome of one transaction in a block. A failed transaction changes no state. */
export interface Receipt {
  readonly txHash: Uint8Array;
  /** "OK" on success, otherwise a stable error code such as INSUFFICIENT_FUNDS. */
  readonly code: string;
  readonly message: string;
  readonly events: readonly ContractEvent[];
  /** Resource use: gas charged for the transaction (FG DLT "incentive" accounting). */
  readonly gasUsed: number;
}

export const RECEIPT_OK = "OK";

export function receiptToValue(r: Receipt): Value {
  return [r.txHash, r.code, r.message, r.events.map((e) => [e.contract, e.name, e.data]), r.gasUsed];
}

export function receiptFromValue(v: Value): Receipt {
  const f = asArray(v, "receipt", 5);
  return {
    txHash: asBytes(f[0] as Value, "receipt.txHash", HASH_LENGTH),
    code: asString(f[1] as Value, "receipt.code", 64),
    message: asString(f[2] as Value, "receipt.message", 1024),
    events: asArray(f[3] as Value, "receipt.events").map((e, i) => {
      const p = asArray(e, `receipt.events[${i}]`, 3);
      return {
        contract: asString(p[0] as Value, "event.contract", 64),
        name: asString(p[1] as Value, "event.name", 64),
        data: p[2] as Value,
      };
    }),
    gasUsed: asUint(f[4] as Value, "receipt.gasUsed"),
  };
}

export function encodeReceipt(r: Receipt): Uint8Array {
  return encode(receiptToValue(r));
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  return receiptFromValue(decode(bytes));
}
