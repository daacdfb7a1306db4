import { equalBytes } from "@cairn/crypto";
import type { Value } from "@cairn/messaging";
import { prepareContract, VmError } from "@cairn/vm";
import { argCount, bytesArg } from "../args.ts";
import { ContractError } from "../errors.ts";
import type { CallContext, Contract, ContractMethod } from "../types.ts";
import {
  CONTRACT_NAME,
  type ContractMeta,
  codeKey,
  decodeMeta,
  encodeMeta,
  metaKey,
  SYSTEM_CONTRACT,
} from "./layout.ts";

/** Largest module `deploy` accepts (the verifier's own bound). */
export const MAX_CODE_BYTES = 512 * 1024;
/** Gas per byte of deployed code: verification and instrumentation are linear in it. */
export const DEPLOY_GAS_PER_BYTE = 10;

function nameArg(args: readonly Value[], reserved: ReadonlySet<string>): string {
  const name = args[0];
  if (typeof name !== "string" || !CONTRACT_NAME.test(name)) {
    throw new ContractError("BAD_ARGS", "argument 0 (name) must match [a-z][a-z0-9_-]{0,31}");
  }
  if (reserved.has(name)) throw new ContractError("BAD_ARGS", `"${name}" is the name of a native contract`);
  return name;
}

function check(reserved: ReadonlySet<string>) {
  return (args: readonly Value[]) => {
    argCount(args, 2);
    nameArg(args, reserved);
    bytesArg(args, 1, "code", { max: MAX_CODE_BYTES });
  };
}

/** Verifies and instruments the module (on every node, as part of executing the transaction). */
function prepare(code: Uint8Array) {
  try {
    return prepareContract(code);
  } catch (e) {
    if (e instanceof VmError) throw new ContractError(e.code, e.message);
    throw e;
  }
}

async function install(
  ctx: CallContext,
  name: string,
  code: Uint8Array,
  previous: ContractMeta | undefined,
): Promise<void> {
  if (!ctx.hasRole(ctx.sender, "deployer") && !ctx.isAdmin(ctx.sender)) {
    throw new ContractError(
      "UNAUTHORIZED",
      "only a key with the deployer or admin role may deploy or upgrade a contract",
    );
  }
  ctx.chargeGas(code.length * DEPLOY_GAS_PER_BYTE);
  const prepared = prepare(code);
  if (previous !== undefined && equalBytes(prepared.codeHash, previous.codeHash)) {
    throw new ContractError("SAME_CODE", `${name} already runs this code (version ${previous.version})`);
  }
  // Modules are stored once per code hash: two contracts with the same code share it.
  const key = codeKey(prepared.codeHash);
  if ((await ctx.storage.get(key)) === undefined) ctx.storage.set(key, prepared.code);
  const meta: ContractMeta = {
    codeHash: prepared.codeHash,
    deployer: previous?.deployer ?? ctx.sender,
    version: (previous?.version ?? 0) + 1,
    deployedAt: previous?.deployedAt ?? ctx.height,
    updatedAt: ctx.height,
    codeSize: code.length,
    methods: [...prepared.methods],
  };
  ctx.storage.set(metaKey(name), encodeMeta(meta));
  ctx.emit(previous === undefined ? "deployed" : "upgraded", [name, prepared.codeHash, meta.version]);
}

/**
 * The system contract `contracts`: `deploy [name, code]` verifies a WebAssembly module, injects its
 * gas metering and records it under `name`; `upgrade [name, code]` replaces the code of a deployed
 * contract and keeps its state. Both are for admin keys (genesis admins; governance later).
 * `reserved` are the names of the native contracts, which a deployed contract may not take.
 */
export function createSystemContract(reserved: Iterable<string>): Contract {
  const names = new Set([...reserved, SYSTEM_CONTRACT]);
  const deploy: ContractMethod = {
    gas: 1_000,
    check: check(names),
    async execute(ctx, args) {
      const name = nameArg(args, names);
      if ((await ctx.storage.get(metaKey(name))) !== undefined) {
        throw new ContractError("ALREADY_DEPLOYED", `a contract named ${name} exists: use upgrade`);
      }
      await install(ctx, name, args[1] as Uint8Array, undefined);
    },
  };
  const upgrade: ContractMethod = {
    gas: 1_000,
    check: check(names),
    async execute(ctx, args) {
      const name = nameArg(args, names);
      const current = await ctx.storage.get(metaKey(name));
      if (current === undefined) throw new ContractError("UNKNOWN_CONTRACT", `no contract named ${name}`);
      await install(ctx, name, args[1] as Uint8Array, decodeMeta(current));
    },
  };
  return { name: SYSTEM_CONTRACT, methods: { deploy, upgrade } };
}
