// Privilege management (FG DLT: System management): the roles an identity can hold and which
// role each kind of transaction needs on a permissioned chain.

/**
 * - admin: governs (proposes and approves governance changes for its organisation), mints tokens;
 * - client: submits transactions to contracts;
 * - deployer: deploys and upgrades WebAssembly contracts;
 * - auditor: reads everything (blocks, events, any transaction), submits nothing;
 * - validator: a node's consensus key; signs votes, submits nothing.
 */
export const ROLES = ["admin", "client", "deployer", "auditor", "validator"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Governance methods any active identity may call on its own behalf (key rotation, revocation). */
const SELF_SERVICE = new Set(["rotate", "revoke"]);

/**
 * The roles that may send a transaction calling `contract.method` on a permissioned chain (any one
 * of them suffices), or "member" for calls open to every active identity.
 */
export function rolesFor(contract: string, method: string): readonly Role[] | "member" {
  if (contract === "gov") return SELF_SERVICE.has(method) ? "member" : ["admin"];
  if (contract === "contracts") return ["deployer", "admin"];
  if (contract === "token" && method === "mint") return ["admin"];
  return ["client"];
}
