// View 3: consensus as it happens. Every node's height, round and step (GET /status); for the recent
// heights, what this node saw, round by round: the proposal, which prevotes and precommits arrived
// from whom and when, timeouts and why rounds changed, locks, the commit (GET /consensus/events).
// On a teaching cluster (`cairn cluster --teach`) the chain can be paused and stepped from here.
import type { ConsensusEventInfo } from "@cairn/client";
import { clock, count, short } from "../format.ts";
import { snapshot, useControl } from "../monitor.ts";
import { useStore } from "../store.ts";
import { describeEvent, validatorNames } from "./map.tsx";

const HEIGHTS_SHOWN = 4;

interface RoundView {
  round: number;
  events: ConsensusEventInfo[];
}

function byHeight(events: readonly ConsensusEventInfo[]): [number, RoundView[]][] {
  const heights = new Map<number, Map<number, RoundView>>();
  for (const e of events) {
    const round = "round" in e ? e.round : 0;
    let rounds = heights.get(e.height);
    if (rounds === undefined) {
      rounds = new Map();
      heights.set(e.height, rounds);
    }
    let r = rounds.get(round);
    if (r === undefined) {
      r = { round, events: [] };
      rounds.set(round, r);
    }
    r.events.push(e);
  }
  return [...heights]
    .sort((a, b) => b[0] - a[0])
    .slice(0, HEIGHTS_SHOWN)
    .map(([h, rounds]) => [h, [...rounds.values()].sort((a, b) => a.round - b.round)]);
}

function Votes({ events, type, name }: { events: ConsensusEventInfo[]; type: string; name: (k: string) => string }) {
  const votes = events.filter((e) => e.kind === "vote" && e.type === type) as Extract<
    ConsensusEventInfo,
    { kind: "vote" }
  >[];
  if (votes.length === 0) return <span class="hint">none</span>;
  return (
    <ul class="votes">
      {votes.map((v) => (
        <li key={v.seq} class={v.blockHash === null ? "nil" : "for"}>
          {v.own ? "this node" : name(v.validator)}: {v.blockHash === null ? "nil" : short(v.blockHash, 4)}{" "}
          <time>{clock(v.timeUs)}</time>
        </li>
      ))}
    </ul>
  );
}

function TeachControls({ teach }: { teach: boolean }) {
  const { busy, message, act } = useControl();
  return (
    <fieldset class="panel controls">
      <legend>{teach ? "Teaching cluster" : "Local cluster"}</legend>
      <button type="button" disabled={busy} onClick={() => act("Pause", "/chain/pause")}>
        Pause the chain
      </button>{" "}
      <button type="button" disabled={busy} onClick={() => act("Step", "/chain/step")}>
        Step one block
      </button>{" "}
      <button type="button" disabled={busy} onClick={() => act("Resume", "/chain/resume")}>
        Resume
      </button>
      <span class="hint" aria-live="polite">
        {" "}
        {message ??
          "Pause stops every node (SIGSTOP); step lets the chain commit one more block, then pauses it again."}
      </span>
    </fieldset>
  );
}

export function ConsensusView() {
  const s = useStore(snapshot);
  const name = validatorNames(s);
  const heights = byHeight(s.events);
  const evidence = s.metrics?.sum("cairn_consensus_evidence_total");
  // A Raft chain: rounds are terms, steps are roles, and the leader and commit index are shown.
  const raft = s.status?.consensus.engine === "raft";
  return (
    <div class="consensus-view" data-engine={s.status?.consensus.engine}>
      <h2>Consensus</h2>
      {raft ? (
        <p class="lead">
          Engine <strong>raft</strong> (crash-fault tolerant). The leader appends each block and a block commits when
          acknowledgements of more than half of the voting power name it; a follower that hears no leader for its
          election timeout runs a pre-vote, then an election for the next term.
        </p>
      ) : (
        <p class="lead">
          Engine <strong>{s.status?.consensus.engine ?? "—"}</strong>. A block commits when precommits of more than two
          thirds of the voting power name it; a round that gets none times out and the next proposer tries.
        </p>
      )}
      {s.control !== undefined && <TeachControls teach={s.control.teach} />}
      <table class="nodes">
        <caption>Every node, as its GET /status says (refreshed every second)</caption>
        <thead>
          <tr>
            <th scope="col">node</th>
            <th scope="col">role</th>
            <th scope="col">height</th>
            <th scope="col">{raft ? "term" : "round"}</th>
            <th scope="col">{raft ? "raft role" : "step"}</th>
            {raft && <th scope="col">leader</th>}
            {raft && <th scope="col">commit index</th>}
            <th scope="col">peers</th>
            <th scope="col">state</th>
          </tr>
        </thead>
        <tbody>
          {s.nodes.map((n) => {
            const st = n.status;
            return (
              <tr key={n.url} data-node={n.name} data-up={st !== undefined}>
                <th scope="row">{n.name}</th>
                <td>{st?.role ?? "—"}</td>
                <td class="num">{count(st?.consensus.height)}</td>
                <td class="num">{count(st?.consensus.round)}</td>
                <td data-step={st?.consensus.step}>{st?.consensus.step ?? "—"}</td>
                {raft && (
                  <td data-leader>
                    {st?.consensus.raft === undefined
                      ? "—"
                      : st.consensus.raft.leader === null
                        ? "none known"
                        : name(st.consensus.raft.leader)}
                  </td>
                )}
                {raft && <td class="num">{count(st?.consensus.raft?.commitIndex)}</td>}
                <td class="num">{count(st?.network.peers)}</td>
                <td class={st === undefined ? "down" : "up"}>
                  {st === undefined ? `down: ${n.error ?? "no answer"}` : "up"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="hint">
        Evidence of misbehaviour recorded by this node: {count(evidence)} (GET /evidence). Engine state:{" "}
        <code>{s.status === undefined ? "—" : JSON.stringify(s.status.consensus)}</code>
      </p>
      {s.eventsError !== undefined && <p class="error">Consensus events are not available: {s.eventsError}</p>}
      {heights.map(([height, rounds]) => (
        <section class="panel height" key={height} data-height={height} aria-label={`Height ${height}`}>
          <h3>Height {height}</h3>
          <table class="rounds">
            <thead>
              <tr>
                <th scope="col">{raft ? "term" : "round"}</th>
                <th scope="col">{raft ? "leader's block" : "proposal"}</th>
                {!raft && <th scope="col">prevotes</th>}
                {!raft && <th scope="col">precommits</th>}
                <th scope="col">{raft ? "roles, elections, commit" : "steps, timeouts, locks"}</th>
              </tr>
            </thead>
            <tbody>
              {rounds.map((r) => {
                const proposal = r.events.find((e) => e.kind === "proposal") as
                  | Extract<ConsensusEventInfo, { kind: "proposal" }>
                  | undefined;
                const other = r.events.filter((e) => e.kind !== "vote" && e.kind !== "proposal");
                return (
                  <tr key={r.round}>
                    <th scope="row">{r.round}</th>
                    <td>
                      {proposal === undefined ? (
                        <span class="hint">none seen</span>
                      ) : (
                        <>
                          {proposal.own ? "this node" : name(proposal.proposer)}: {short(proposal.blockHash, 4)}{" "}
                          <time>{clock(proposal.timeUs)}</time>
                        </>
                      )}
                    </td>
                    {!raft && (
                      <td>
                        <Votes events={r.events} type="prevote" name={name} />
                      </td>
                    )}
                    {!raft && (
                      <td>
                        <Votes events={r.events} type="precommit" name={name} />
                      </td>
                    )}
                    <td>
                      <ul class="plain small">
                        {other.map((e) => (
                          <li key={e.seq} class={`ev-${e.kind}`}>
                            <time>{clock(e.timeUs)}</time> {describeEvent(e, name)}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
