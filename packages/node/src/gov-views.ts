// What the API's GET /gov/* routes read, from the ledger's committed governance state: the
// registry (organisations, identities, validators, nodes) and the proposal records of the `gov`
// namespace. NodeBackend delegates here.
import type {
  GovIdentityView,
  GovParamsView,
  NodeRecordView,
  OrganizationView,
  ProposalFilter,
  ProposalView,
  ValidatorScheduleView,
} from "@cairn/api";
import { equalBytes } from "@cairn/crypto";
import type { Ledger } from "@cairn/ledger";
import {
  ACTIONS,
  approvalsNeeded,
  type ChainRegistry,
  decodeProposal,
  GOV_CONTRACT,
  GovPrefix,
  type Identity,
  type Proposal,
  proposalKey,
  proposalState,
} from "@cairn/management";

function neededNow(registry: ChainRegistry): number {
  const params = registry.params;
  return params === undefined ? 0 : approvalsNeeded(registry.organizations.length, params.thresholdPercent);
}

/** A stored proposal as the API shows it, judged at `nextHeight` (head + 1). */
export function proposalView(p: Proposal, registry: ChainRegistry, nextHeight: number): ProposalView {
  const argNames = Object.hasOwn(ACTIONS, p.action) ? ACTIONS[p.action as keyof typeof ACTIONS] : undefined;
  return {
    id: p.id,
    action: p.action,
    args: p.args,
    ...(argNames === undefined ? {} : { argNames }),
    proposer: p.proposer,
    ...(p.approvals[0] === undefined ? {} : { proposerOrg: p.approvals[0] }),
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
    ...(p.status === "executed" ? { executedAt: p.executedAt } : {}),
    approvals: p.approvals,
    needed: neededNow(registry),
    status: proposalState(p, nextHeight),
  };
}

/** Reads against one committed state: retried when a commit lands in between. */
async function consistent<T>(ledger: Ledger, read: () => Promise<T>): Promise<T> {
  for (;;) {
    const head = ledger.head();
    const r = await read();
    if (equalBytes(ledger.head().hash, head.hash)) return r;
  }
}

/** Proposals newest first: of one status (all without), at most `filter.limit`. */
export function listProposals(ledger: Ledger, filter: ProposalFilter): Promise<ProposalView[]> {
  return consistent(ledger, async () => {
    const next = ledger.head().height + 1;
    const registry = ledger.registry;
    // Ids are u64 big-endian, so the prefix walks them in ascending order: keep the newest matches.
    const out: ProposalView[] = [];
    for await (const [, v] of ledger.state.iterate(GOV_CONTRACT, { prefix: GovPrefix.proposal })) {
      const view = proposalView(decodeProposal(v), registry, next);
      if (filter.status !== undefined && view.status !== filter.status) continue;
      out.push(view);
      if (out.length > filter.limit) out.shift();
    }
    return out.reverse();
  });
}

export function getProposal(ledger: Ledger, id: number): Promise<ProposalView | undefined> {
  return consistent(ledger, async () => {
    const b = await ledger.state.get(GOV_CONTRACT, proposalKey(id));
    return b === undefined ? undefined : proposalView(decodeProposal(b), ledger.registry, ledger.head().height + 1);
  });
}

const identityView = (i: Identity): GovIdentityView => ({
  publicKey: i.publicKey,
  org: i.org,
  roles: i.roles,
  active: i.active,
});

export function organizations(registry: ChainRegistry): OrganizationView[] {
  const ids = registry.identityList();
  return registry.organizations.map((name) => ({
    name,
    identities: ids.filter((i) => i.org === name).map(identityView),
  }));
}

export function identity(registry: ChainRegistry, publicKey: Uint8Array): GovIdentityView | undefined {
  const i = registry.identity(publicKey);
  return i === undefined ? undefined : identityView(i);
}

export function validators(ledger: Ledger): ValidatorScheduleView {
  const height = ledger.head().height + 1;
  return { height, validators: ledger.validatorsAt(height), schedule: ledger.registry.validatorSchedule() };
}

export function nodes(registry: ChainRegistry): NodeRecordView[] {
  return registry.nodes.map((n) => ({ peerId: n.peerId, name: n.name, org: n.org }));
}

export function params(registry: ChainRegistry): GovParamsView | undefined {
  const p = registry.params;
  if (p === undefined) return undefined;
  return { ...p, organizations: registry.organizations.length, needed: neededNow(registry) };
}
