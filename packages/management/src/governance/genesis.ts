import type { Validator } from "@cairn/messaging";
import type { Role } from "../privilege/roles.ts";
import {
  encodeIdentity,
  encodeLatestValidators,
  encodeNames,
  encodeNode,
  encodeParams,
  encodeValidators,
  type GovParams,
  identityKey,
  LATEST_VALIDATORS_KEY,
  nodeKey,
  ORGS_KEY,
  orgKey,
  PARAMS_KEY,
  validatorsKey,
} from "./layout.ts";

/** What governance starts from, as declared in the genesis file. */
export interface GovernanceGenesis {
  /** Empty for an open chain (any key may submit; genesis admins mint and deploy). */
  readonly organizations: readonly {
    readonly name: string;
    readonly members: readonly { readonly publicKey: Uint8Array; readonly roles: readonly Role[] }[];
  }[];
  readonly validators: readonly Validator[];
  readonly nodes: readonly { readonly name: string; readonly peerId: string; readonly org: string }[];
  readonly params: GovParams;
}

/** The `gov` namespace entries of the state at height 0. */
export function governanceGenesisState(g: GovernanceGenesis): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [
    [validatorsKey(1), encodeValidators(g.validators)],
    [LATEST_VALIDATORS_KEY, encodeLatestValidators(1, g.validators)],
  ];
  for (const n of g.nodes) out.push([nodeKey(n.peerId), encodeNode(n)]);
  if (g.organizations.length === 0) return out;
  out.push([PARAMS_KEY, encodeParams(g.params)]);
  out.push([ORGS_KEY, encodeNames(g.organizations.map((o) => o.name))]);
  for (const org of g.organizations) {
    out.push([orgKey(org.name), encodeNames([org.name])]);
    for (const m of org.members) {
      out.push([
        identityKey(m.publicKey),
        encodeIdentity({ publicKey: m.publicKey, org: org.name, roles: m.roles, active: true }),
      ]);
    }
  }
  return out;
}
