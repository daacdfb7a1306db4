// View 1, the landing view: the FG DLT reference architecture, its layers and 22 components, each
// with this node's live figures (refreshed every second). Selecting one shows what it does, where
// Cairn implements it, and its recent log lines and trace events.
import type { ConsensusEventInfo, TxTraceInfo } from "@cairn/client";
import { useEffect, useState } from "preact/hooks";
import { COMPONENTS, type Component, LAYERS } from "../components.ts";
import { clock, short } from "../format.ts";
import { type Snapshot, snapshot } from "../monitor.ts";
import { session } from "../session.ts";
import { useStore } from "../store.ts";

function groupsOf(layer: string): [string, Component[]][] {
  const groups = new Map<string, Component[]>();
  for (const c of COMPONENTS.filter((c) => c.layer === layer)) {
    groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  }
  return [...groups];
}

export function describeEvent(e: ConsensusEventInfo, name: (key: string) => string): string {
  switch (e.kind) {
    case "step":
      return `→ ${e.step} (h ${e.height}, r ${e.round}) after ${e.cause}`;
    case "proposal":
      return `${e.own ? "proposed" : `proposal from ${name(e.proposer)}`} ${short(e.blockHash)} (h ${e.height}, r ${e.round})`;
    case "vote":
      return `${e.own ? "sent" : `${name(e.validator)}:`} ${e.type} ${e.blockHash === null ? "nil" : short(e.blockHash)} (h ${e.height}, r ${e.round})`;
    case "timeout":
      return `timeout ${e.step} (h ${e.height}, r ${e.round})`;
    case "lock":
      return `locked on round ${e.lockedRound} (h ${e.height})`;
    case "commit":
      return `committed block ${e.height} in round ${e.round}: ${e.txs} txs, ${short(e.blockHash)}`;
    case "evidence":
      return `evidence: ${e.evidence} (h ${e.height})`;
    case "election":
      return `${name(e.voter)} ${e.granted ? "granted" : "refused"} ${e.type} to ${name(e.candidate)} (term ${e.round})`;
  }
}

export function validatorNames(s: Snapshot): (key: string) => string {
  const names = new Map((s.status?.validators ?? []).map((v) => [v.publicKey, v.name]));
  return (key) => names.get(key) ?? short(key);
}

/** A component's live figures, as label/value pairs. */
function Figures({ c, s, wide = false }: { c: Component; s: Snapshot; wide?: boolean }) {
  return (
    <dl class={wide ? "figures wide" : "figures"}>
      {c.figures(s).map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * The trace events of the latest committed transactions at this component: the points it records
 * of the newest block's transactions on this node (at most five), refreshed every 2 s while shown.
 */
function useRecentTraces(points: readonly string[] | undefined): TxTraceInfo[] {
  const [traces, setTraces] = useState<TxTraceInfo[]>([]);
  useEffect(() => {
    if (points === undefined) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const client = session.get().home.client;
      try {
        let block = await client.getBlock("latest");
        // An idle chain makes empty blocks: look back a few for the newest with transactions.
        for (let h = block.height - 1; block.txs.length === 0 && h > 0 && h > block.height - 20; h--) {
          block = await client.getBlock(h);
        }
        const found = await Promise.all(block.txs.slice(0, 5).map((t) => client.getTxTrace(t).catch(() => undefined)));
        if (!cancelled) setTraces(found.filter((t): t is TxTraceInfo => t !== undefined));
      } catch {
        if (!cancelled) setTraces([]);
      }
      if (!cancelled) timer = setTimeout(load, 2_000);
    };
    void load();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [points]);
  return traces;
}

function Details({ c, s }: { c: Component; s: Snapshot }) {
  const traces = useRecentTraces(c.tracePoints);
  const traceRows = traces
    .flatMap((t) => t.points.filter((p) => c.tracePoints?.includes(p.point)).map((p) => ({ hash: t.hash, ...p })))
    .sort((a, b) => a.timeUs - b.timeUs);
  const lines = s.lines.filter((l) => l.layer === c.logLayer).slice(-12);
  const events = c.consensusTrace ? s.events.slice(-12) : [];
  const name = validatorNames(s);
  return (
    <section class="panel details" aria-labelledby="details-title" data-details={c.slug}>
      <h2 id="details-title">
        {c.group === c.name ? c.name : `${c.group}: ${c.name}`} <span class="tag">{c.layer} layer</span>
      </h2>
      <p>{c.what}</p>
      <p>
        <strong>In Cairn:</strong> <code>{c.where}</code>
      </p>
      <Figures c={c} s={s} wide />
      {c.consensusTrace && (
        <>
          <h3>Recent consensus events</h3>
          {events.length === 0 ? (
            <p class="hint">{s.eventsError ?? "none yet"}</p>
          ) : (
            <ol class="log">
              {events.map((e) => (
                <li key={e.seq}>
                  <time>{clock(e.timeUs)}</time> {describeEvent(e, name)}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
      {c.tracePoints !== undefined && (
        <>
          <h3>Recent trace events ({c.tracePoints.join(", ")})</h3>
          {traceRows.length === 0 ? (
            <p class="hint">No transaction in the latest blocks yet: send one (Transaction journey).</p>
          ) : (
            <ol class="log" data-trace-events={c.slug}>
              {traceRows.map((r) => (
                <li key={`${r.hash}-${r.point}`}>
                  <time>{clock(r.timeUs)}</time> {r.point}{" "}
                  <a href={`#/journey/${r.hash}`}>
                    <code>{short(r.hash)}</code>
                  </a>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
      <h3>
        Recent log lines (layer <code>{c.logLayer}</code>)
      </h3>
      {s.linesError !== undefined ? (
        <p class="hint">Log lines are not available: {s.linesError}</p>
      ) : lines.length === 0 ? (
        <p class="hint">No lines at info or above from this layer yet.</p>
      ) : (
        <ol class="log">
          {lines.map((l) => (
            <li key={l.seq} class={`level-${l.level}`}>
              <time>{clock(l.timeUs)}</time> <span class="tag">{l.level}</span> {l.msg}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function MapView() {
  const s = useStore(snapshot);
  const [selected, setSelected] = useState<string>("consensus");
  const chosen = COMPONENTS.find((c) => c.slug === selected);
  return (
    <div class="map-view">
      <h2 class="visually-hidden">Architecture map</h2>
      <p class="lead">
        The ITU-T FG DLT reference architecture, live on <strong>{s.status?.moniker ?? "this node"}</strong>: every
        component with this node's figures, refreshed every second. Select one to see what it does and where it lives.
      </p>
      <div class="architecture">
        {LAYERS.map((layer) => (
          <section class={`layer layer-${layer.toLowerCase()}`} key={layer} aria-label={`${layer} layer`}>
            <h3>{layer}</h3>
            <div class="groups">
              {groupsOf(layer).map(([group, comps]) => (
                <div class="group" key={group}>
                  {group !== comps[0]?.name && <h4>{group}</h4>}
                  {comps.map((c) => (
                    <button
                      type="button"
                      class="component"
                      key={c.slug}
                      data-component={c.slug}
                      aria-pressed={selected === c.slug}
                      onClick={() => setSelected(c.slug)}
                    >
                      <span class="name">{c.name}</span>
                      <Figures c={c} s={s} />
                    </button>
                  ))}
                </div>
              ))}
            </div>
          </section>
        ))}
      </div>
      {chosen !== undefined && <Details c={chosen} s={s} />}
    </div>
  );
}
