import { fromHex, sha256, toHex } from "@cairn/crypto";
import { isRole, type Role } from "@cairn/management";
import {
  CONSENSUS_KINDS,
  type ConsensusKind,
  checkValidator,
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_MAX_BLOCK_TXS,
  encode,
  MAX_BLOCK_BYTES,
  MAX_TX_BYTES,
  type Validator,
} from "@cairn/messaging";
import { LedgerError } from "./errors.ts";

/** Chain parameters fixed at genesis. */
export interface ChainParams {
  /** Largest encoded transaction accepted. */
  readonly maxTxBytes: number;
  /** Largest sum of transaction bytes in one block. */
  readonly maxBlockBytes: number;
  /** Most transactions in one block. */
  readonly maxBlockTxs: number;
  /** Largest `expiry - height` a transaction may carry: bounds the replay-protection index. */
  readonly maxTxTtl: number;
  /** Gas a transaction may use in a WebAssembly contract (the same on every node: part of consensus). */
  readonly maxTxGas: number;
  /**
   * Most gas one block's transactions may use together (their receipts' gasUsed), so a block of
   * contract calls cannot take longer to execute than a round allows; a block of one transaction
   * may use more. At least maxTxGas.
   */
  readonly maxBlockGas: number;
  /** Blocks a governance proposal stays open for approvals. */
  readonly proposalTtl: number;
  /** A governance proposal passes once more than this percentage of the organisations approved it. */
  readonly govThresholdPercent: number;
  /**
   * A validator set change approved in block h takes effect at h + validatorDelay (at least 2: the
   * set of the height after the one being decided must already be committed).
   */
  readonly validatorDelay: number;
}

export const defaultChainParams: ChainParams = {
  maxTxBytes: 64 * 1024,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
  maxBlockTxs: DEFAULT_MAX_BLOCK_TXS,
  maxTxTtl: 1_000,
  maxTxGas: 50_000_000,
  maxBlockGas: 250_000_000,
  proposalTtl: 1_000,
  govThresholdPercent: 50,
  validatorDelay: 2,
};

export interface GenesisAccount {
  readonly publicKey: Uint8Array;
  readonly balance: bigint;
}

/** A node allowed on the chain's network: its libp2p peer id (the node registry). */
export interface GenesisMember {
  readonly name: string;
  readonly peerId: string;
  /** The organisation that runs it (none on an open chain). */
  readonly org?: string;
}

/** A member organisation and its identities (keys with roles). */
export interface GenesisOrganization {
  readonly name: string;
  readonly members: readonly { readonly publicKey: Uint8Array; readonly roles: readonly Role[] }[];
}

/** Who may read: anyone ("open"), or active members with signed requests ("members", docs/governance.md). */
export type ReadAccess = "open" | "members";

/** The first state of a chain, shared byte for byte by every node of it. */
export interface Genesis {
  readonly chainId: string;
  /** ms since the Unix epoch; block 1's time is never earlier. */
  readonly genesisTime: number;
  readonly validators: readonly Validator[];
  /** Keys with the admin role (mint tokens; later: deploy contracts, governance). */
  readonly admins: readonly Uint8Array[];
  /** Initial token balances. */
  readonly accounts: readonly GenesisAccount[];
  /** Nodes admitted to the peer-to-peer network; empty for a chain without one (solo). */
  readonly members: readonly GenesisMember[];
  /**
   * Member organisations. Declaring any makes the chain permissioned: every transaction's sender
   * must be an active member whose roles allow the call, and membership changes by governance.
   */
  readonly organizations?: readonly GenesisOrganization[];
  /** Default "open". */
  readonly readAccess?: ReadAccess;
  /** The consensus engine every validator runs (docs/consensus.md); default "tendermint". */
  readonly consensus?: ConsensusKind;
  readonly params: ChainParams;
}

/** The genesis file format: JSON with hex keys and decimal-string balances. */
export interface GenesisJson {
  chainId: string;
  genesisTime: number;
  validators: { name: string; publicKey: string; power: number }[];
  admins: string[];
  accounts?: { publicKey: string; balance: string }[];
  members?: { name: string; peerId: string; org?: string }[];
  organizations?: { name: string; members: { publicKey: string; roles: string[] }[] }[];
  readAccess?: ReadAccess;
  consensus?: ConsensusKind;
  params?: Partial<ChainParams>;
}

function bad(message: string): never {
  throw new LedgerError("BAD_GENESIS", message);
}

function key(hex: unknown, what: string): Uint8Array {
  if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) bad(`${what} must be 64 lower-case hex digits`);
  return fromHex(hex);
}

/** Validates a parsed genesis file; every problem names the field at fault. */
export function parseGenesis(json: unknown): Genesis {
  const g = json as GenesisJson;
  if (typeof g !== "object" || g === null) bad("genesis must be a JSON object");
  if (typeof g.chainId !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(g.chainId)) {
    bad("chainId must be 1-64 characters of letters, digits, '.', '_' or '-'");
  }
  if (!Number.isSafeInteger(g.genesisTime) || g.genesisTime < 0) bad("genesisTime must be ms since the Unix epoch");
  if (!Array.isArray(g.validators) || g.validators.length === 0) bad("validators must be a non-empty array");
  const validators = g.validators.map((v, i) => {
    const pk = key(v?.publicKey, `validators[${i}].publicKey`);
    try {
      return checkValidator({ publicKey: pk, power: v.power, name: v.name }, i);
    } catch (e) {
      return bad((e as Error).message);
    }
  });
  if (new Set(validators.map((v) => toHex(v.publicKey))).size !== validators.length) bad("validators repeat a key");
  if (validators.some((v) => v.power < 1)) bad("every validator needs power >= 1");
  if (!Array.isArray(g.admins)) bad("admins must be an array of public keys");
  const admins = g.admins.map((a, i) => key(a, `admins[${i}]`));
  const accounts = (g.accounts ?? []).map((a, i) => {
    const publicKey = key(a?.publicKey, `accounts[${i}].publicKey`);
    if (typeof a.balance !== "string" || !/^[1-9][0-9]{0,19}$/.test(a.balance) || BigInt(a.balance) >= 2n ** 64n) {
      bad(`accounts[${i}].balance must be a decimal string from 1 to 2^64-1`);
    }
    return { publicKey, balance: BigInt(a.balance) };
  });
  if (new Set(accounts.map((a) => toHex(a.publicKey))).size !== accounts.length) bad("accounts repeat a key");
  const members = (g.members ?? []).map((m, i) => {
    if (
      typeof m?.name !== "string" ||
      typeof m.peerId !== "string" ||
      !/^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(m.peerId)
    ) {
      bad(`members[${i}] must be {"name": string, "peerId": a base58 libp2p peer id}`);
    }
    if (m.org !== undefined && typeof m.org !== "string") bad(`members[${i}].org must be an organisation name`);
    return { name: m.name, peerId: m.peerId, org: m.org ?? "" };
  });
  if (new Set(members.map((m) => m.peerId)).size !== members.length) bad("members repeat a peer id");
  if (g.organizations !== undefined && !Array.isArray(g.organizations)) bad("organizations must be an array");
  const identities = new Set<string>();
  const organizations = (g.organizations ?? []).map((o, i) => {
    if (typeof o?.name !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(o.name)) {
      bad(`organizations[${i}].name must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    if (!Array.isArray(o.members)) bad(`organizations[${i}].members must be an array`);
    const orgMembers = o.members.map((m, j) => {
      const where = `organizations[${i}].members[${j}]`;
      const publicKey = key(m?.publicKey, `${where}.publicKey`);
      if (identities.has(toHex(publicKey))) bad(`${where}: key is already a member`);
      identities.add(toHex(publicKey));
      if (
        !Array.isArray(m.roles) ||
        m.roles.length === 0 ||
        !m.roles.every(isRole) ||
        new Set(m.roles).size !== m.roles.length
      ) {
        bad(`${where}.roles must list distinct roles of admin, client, deployer, auditor, validator`);
      }
      return { publicKey, roles: m.roles as Role[] };
    });
    return { name: o.name, members: orgMembers };
  });
  const orgNames = new Set(organizations.map((o) => o.name));
  if (orgNames.size !== organizations.length) bad("organizations repeat a name");
  if (organizations.length > 0) {
    if (!organizations.some((o) => o.members.some((m) => m.roles.includes("admin")))) {
      bad("a permissioned chain needs at least one member with the admin role");
    }
    members.forEach((m, i) => {
      if (!orgNames.has(m.org)) bad(`members[${i}].org must name one of the organizations`);
    });
  }
  const readAccess = g.readAccess ?? "open";
  if (readAccess !== "open" && readAccess !== "members") bad('readAccess must be "open" or "members"');
  if (readAccess === "members" && organizations.length === 0) bad('readAccess "members" needs organizations');
  const consensus = g.consensus ?? "tendermint";
  if (!CONSENSUS_KINDS.includes(consensus)) bad(`consensus must be one of ${CONSENSUS_KINDS.join(", ")}`);
  const params = { ...defaultChainParams, ...(g.params ?? {}) };
  for (const [name, value] of Object.entries(params)) {
    if (!Number.isSafeInteger(value) || value < 1) bad(`params.${name} must be a positive integer`);
  }
  if (params.maxTxBytes > MAX_TX_BYTES) bad(`params.maxTxBytes may be at most ${MAX_TX_BYTES}`);
  if (params.maxTxBytes > params.maxBlockBytes) bad("params.maxTxBytes must not exceed params.maxBlockBytes");
  if (params.maxBlockBytes > MAX_BLOCK_BYTES) bad(`params.maxBlockBytes may be at most ${MAX_BLOCK_BYTES}`);
  if (params.govThresholdPercent > 100) bad("params.govThresholdPercent must be from 1 to 100");
  if (params.validatorDelay < 2) bad("params.validatorDelay must be at least 2");
  if (params.maxBlockGas < params.maxTxGas) bad("params.maxBlockGas must be at least params.maxTxGas");
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime,
    validators,
    admins,
    accounts,
    members,
    organizations,
    readAccess,
    consensus,
    params,
  };
}

export function genesisToJson(g: Genesis): GenesisJson {
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime,
    validators: g.validators.map((v) => ({ name: v.name, publicKey: toHex(v.publicKey), power: v.power })),
    admins: g.admins.map(toHex),
    accounts: g.accounts.map((a) => ({ publicKey: toHex(a.publicKey), balance: a.balance.toString() })),
    members: g.members.map((m) =>
      m.org === undefined || m.org === "" ? { name: m.name, peerId: m.peerId } : { ...m },
    ),
    ...(g.organizations === undefined || g.organizations.length === 0
      ? {}
      : {
          organizations: g.organizations.map((o) => ({
            name: o.name,
            members: o.members.map((m) => ({ publicKey: toHex(m.publicKey), roles: [...m.roles] })),
          })),
        }),
    ...(g.readAccess === undefined || g.readAccess === "open" ? {} : { readAccess: g.readAccess }),
    ...(g.consensus === undefined || g.consensus === "tendermint" ? {} : { consensus: g.consensus }),
    params: { ...g.params },
  };
}

/**
 * The genesis hash: SHA-256 of the canonical encoding of every field, so two nodes with
 * differently formatted JSON files of the same chain agree. Block 1's prevHash.
 */
export function genesisHash(g: Genesis): Uint8Array {
  const p = g.params;
  return sha256(
    encode([
      "CAIRN_GENESIS_V1",
      g.chainId,
      g.genesisTime,
      g.validators.map((v) => [v.publicKey, v.power, v.name]),
      g.admins as Uint8Array[],
      g.accounts.map((a) => [a.publicKey, a.balance]),
      [
        p.maxTxBytes,
        p.maxBlockBytes,
        p.maxBlockTxs,
        p.maxTxTtl,
        p.maxTxGas,
        p.proposalTtl,
        p.govThresholdPercent,
        p.validatorDelay,
      ],
      g.members.map((m) => [m.name, m.peerId, m.org ?? ""]),
      (g.organizations ?? []).map((o) => [o.name, o.members.map((m) => [m.publicKey, m.roles as string[]])]),
      g.readAccess ?? "open",
      // Only a non-default engine is encoded, so every Tendermint chain keeps the hash it had.
      ...(g.consensus === undefined || g.consensus === "tendermint" ? [] : [g.consensus]),
      // Likewise maxBlockGas, added after the other parameters: only when it is not the default.
      ...(p.maxBlockGas === defaultChainParams.maxBlockGas ? [] : [["maxBlockGas", p.maxBlockGas]]),
    ]),
  );
}
