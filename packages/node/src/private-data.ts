// Private data on the wire (docs/privacy.md): the node that takes a transaction with private writes
// pushes their plaintext straight to other member organisations' nodes (request/response, never
// gossip), and a member that missed some (it was down) pulls it from other members afterwards.
// The stores are the ledger's (PrivateDataStore); this file is the network side and the API's.
import { nativeVerify } from "@cairn/crypto/native";
import type { Ledger } from "@cairn/ledger";
import type { AdmissionGate, Rejection } from "@cairn/mempool";
import {
  decode,
  decodePrivateWrites,
  decodeTransaction,
  encode,
  encodePrivateWrites,
  MessagingError,
  matchesRef,
  type PrivateRef,
  type PrivateWrite,
  pairPrivateWrites,
  privateRefsFromValue,
  privateRefToValue,
  type SignedTransaction,
  txSigningBytes,
  type Value,
} from "@cairn/messaging";
import type { Network } from "@cairn/network";

/** Request protocol: [envelope, writes] from the node that took the transaction to a member node. */
export const PRIVATE_PUSH = "private-push";
/** Request protocol: [refs] from a member that lacks their plaintext; answered with the writes held. */
export const PRIVATE_PULL = "private-pull";
/** How long a member node gets to store pushed plaintext. */
const PUSH_TIMEOUT_MS = 3_000;
/** How often a member looks for committed writes it lacks, and how many it asks for at once. */
const RECONCILE_MS = 2_000;
const RECONCILE_BATCH = 100;

interface Log {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  debug(o: object, m?: string): void;
}

/** What the API's private routes need from the node. */
export interface PrivateDataService {
  /**
   * The mempool's last check of a transaction submitted with the plaintext of its private writes,
   * once it passed every admission check (signature included): pairs the plaintext with the
   * transaction's references, checks this node's membership, keeps the plaintext and pushes it to
   * other member nodes; null (admit) once each collection's requiredPeerCount of them hold it.
   */
  gate(writes: readonly PrivateWrite[]): AdmissionGate;
  /** Pushes of plaintext this node sent (acknowledged or failed), received, and submissions refused for want of them. */
  readonly counts: { pushed: number; push_failed: number; received: number; refused: number };
  /** Stops the reconciliation loop. */
  stop(): void;
}

const refused = (code: string, message: string): Rejection => ({ code, message });

/**
 * Tells the ledger's private store which organisation this node belongs to: the one the node
 * registry gives its peer id (followed live, as governance changes the registry). Set before the
 * first block is synced, so blocks fetched at start-up already keep (or record missing) plaintext.
 */
export function followMembership(ledger: Ledger, peerId: string | undefined): void {
  ledger.privateData.setOrganization(() => (peerId === undefined ? undefined : ledger.registry.orgOfNode(peerId)));
}

export async function createPrivateData(c: { ledger: Ledger; net?: Network; log: Log }): Promise<PrivateDataService> {
  const { ledger, net, log } = c;
  const store = ledger.privateData;

  const peerOrg = (peer: string) => ledger.registry.orgOfNode(peer);
  const counts = { pushed: 0, push_failed: 0, received: 0, refused: 0 };

  if (net !== undefined) {
    await net.handle(PRIVATE_PUSH, async (request, from) => {
      let stx: SignedTransaction;
      let pushed: PrivateWrite[];
      try {
        const [envelope, writesBytes] = decode(request) as [Uint8Array, Uint8Array];
        stx = decodeTransaction(envelope);
        pushed = decodePrivateWrites(writesBytes);
      } catch (err) {
        net.penalize(from, "malformed private data push");
        throw err;
      }
      if (!nativeVerify(stx.signature, txSigningBytes(stx.body), stx.tx.sender)) {
        net.penalize(from, "private data pushed with a transaction whose signature is invalid");
        throw new Error("bad signature");
      }
      const refs = stx.tx.private ?? [];
      const registry = ledger.registry;
      const fromOrg = peerOrg(from);
      // Only the writes of collections both this node and the sending node are members of.
      const writes = pushed.filter((w) => {
        const collection = registry.collection(w.collection);
        return (
          collection !== undefined &&
          fromOrg !== undefined &&
          collection.members.includes(fromOrg) &&
          refs.some((r) => matchesRef(w, r))
        );
      });
      const kept = await store.putTransient(stx, writes, registry);
      if (kept > 0) counts.received++;
      log.debug({ tx: stx.hash, from, kept }, "private data received");
      return encode([kept]);
    });

    await net.handle(PRIVATE_PULL, async (request, from) => {
      let refs: PrivateRef[];
      try {
        refs = privateRefsFromValue(decode(request) as Value);
      } catch (err) {
        net.penalize(from, "malformed private data pull");
        throw err;
      }
      const org = peerOrg(from);
      const registry = ledger.registry;
      // Served only to a node of a member organisation of each collection asked about.
      const allowed = refs.filter((r) => {
        const collection = registry.collection(r.collection);
        return org !== undefined && collection?.members.includes(org) === true;
      });
      return encodePrivateWrites(await store.serve(allowed));
    });
  }

  // Reconciliation: committed writes this member lacks, asked of the other members' nodes.
  let reconciling = false;
  const reconcile = async () => {
    if (net === undefined || reconciling) return;
    reconciling = true;
    try {
      const missing = await store.missing(RECONCILE_BATCH);
      if (missing.length === 0) return;
      const registry = ledger.registry;
      for (const peer of net.peers()) {
        const org = peerOrg(peer);
        const wanted = missing.filter((m) => {
          const collection = registry.collection(m.ref.collection);
          return org !== undefined && collection?.members.includes(org) === true;
        });
        for (let i = 0; i < wanted.length; i += 16) {
          const refs = wanted.slice(i, i + 16).map((m) => m.ref);
          try {
            const answer = await net.request(peer, PRIVATE_PULL, encode(refs.map(privateRefToValue)), {
              timeoutMs: PUSH_TIMEOUT_MS,
            });
            const kept = await store.storePulled(decodePrivateWrites(answer), ledger.registry, ledger.head().height);
            if (kept > 0) log.info({ peer, kept }, "pulled missing private data from a member node");
          } catch (err) {
            log.debug({ peer, err: (err as Error).message }, "private data pull failed");
          }
        }
        if ((await store.missing(1)).length === 0) return;
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, "private data reconciliation failed");
    } finally {
      reconciling = false;
    }
  };
  const timer = setInterval(() => void reconcile(), RECONCILE_MS);
  timer.unref();

  /** Pushes each collection's writes to up to maxPeerCount of its other member nodes. */
  const disseminate = async (
    stx: SignedTransaction,
    writes: readonly PrivateWrite[],
  ): Promise<Rejection | undefined> => {
    const registry = ledger.registry;
    const byCollection = new Map<string, PrivateWrite[]>();
    for (const w of writes) byCollection.set(w.collection, [...(byCollection.get(w.collection) ?? []), w]);
    const connected = net?.peers() ?? [];
    // Each peer gets the writes of every collection it was chosen for, in one request.
    const plan = new Map<string, PrivateWrite[]>();
    const chosen = new Map<string, string[]>();
    for (const [name, ws] of byCollection) {
      const collection = registry.collection(name);
      if (collection === undefined) continue;
      const members = connected.filter((p) => {
        const org = peerOrg(p);
        return org !== undefined && collection.members.includes(org);
      });
      const targets = members.slice(0, collection.maxPeerCount);
      chosen.set(name, targets);
      for (const p of targets) plan.set(p, [...(plan.get(p) ?? []), ...ws]);
    }
    const acked = new Set<string>();
    await Promise.all(
      [...plan].map(async ([peer, ws]) => {
        try {
          const answer = await (net as Network).request(
            peer,
            PRIVATE_PUSH,
            encode([stx.bytes, encodePrivateWrites(ws)]),
            { timeoutMs: PUSH_TIMEOUT_MS },
          );
          const [kept] = decode(answer) as [number];
          if (kept > 0) acked.add(peer);
          counts.pushed++;
        } catch (err) {
          counts.push_failed++;
          log.debug({ peer, err: (err as Error).message }, "private data push failed");
        }
      }),
    );
    for (const [name, targets] of chosen) {
      const collection = registry.collection(name);
      const required = collection?.requiredPeerCount ?? 0;
      const got = targets.filter((p) => acked.has(p)).length;
      if (got < required) {
        counts.refused++;
        return refused(
          "PRIVATE_DISSEMINATION_FAILED",
          `collection ${name} needs its private data on ${required} other member node(s) before a transaction is accepted; ${got} took it: retry when more member nodes are up`,
        );
      }
    }
    return undefined;
  };

  /** Why this node does not take `stx` with `writes`, or null (the plaintext is kept and disseminated). */
  const take = async (stx: SignedTransaction, writes: readonly PrivateWrite[]): Promise<Rejection | null> => {
    const refs = stx.tx.private ?? [];
    if (refs.length === 0) {
      return refused("NO_PRIVATE_DATA", "the transaction names no private writes: submit it with POST /txs");
    }
    let paired: PrivateWrite[];
    try {
      paired = pairPrivateWrites(refs, writes);
    } catch (e) {
      if (e instanceof MessagingError) return refused(e.code, e.message);
      throw e;
    }
    const registry = ledger.registry;
    for (const ref of refs) {
      // Admission refused unknown collections; the node's own organisation is checked here.
      const collection = registry.collection(ref.collection);
      if (collection !== undefined && !store.isMember(collection)) {
        return refused(
          "NOT_A_MEMBER",
          `this node (organisation ${store.organization() ?? "none"}) is not a member of collection ${collection.name}: submit to a node of ${collection.members.join(" or ")}`,
        );
      }
    }
    await store.putTransient(stx, paired, registry);
    const failed = await disseminate(stx, paired);
    if (failed === undefined) return null;
    await store.dropTransient(stx.hash);
    return failed;
  };

  return {
    gate: (writes) => (txs) => Promise.all(txs.map((stx) => take(stx, writes))),
    counts,
    stop() {
      clearInterval(timer);
    },
  };
}
