// View 2: one transaction's journey across the layers on every node, merged on one timeline:
// received by the API, decoded, signature verified, admitted, gossiped, proposed, voted, executed,
// committed, streamed (each node's GET /txs/:hash/trace), with the proposal and the votes of its
// height from each node's consensus events, and its receipt and block from the explorer's reads.
import type { BlockInfo, ConsensusEventInfo, TracePoint, TxInfo, TxTraceInfo } from "@cairn/client";
import { CairnApiError, kv } from "@cairn/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { clock, errorText, ms, short } from "../format.ts";
import { snapshot } from "../monitor.ts";
import { session } from "../session.ts";
import { useStore } from "../store.ts";
import { validatorNames } from "./map.tsx";

const NOT_TRACED = "not traced here (yet)";

const HASH = /^(0x)?[0-9a-fA-F]{64}$/;
/** How long a journey is followed (polled twice a second). */
const FOLLOW_MS = 60_000;

/** Which layer each trace point belongs to (FG DLT). */
export const STAGES: Readonly<Record<TracePoint, string>> = {
  received: "Interface: received by the API",
  decoded: "Messaging: decoded",
  verified: "Cipher libraries: signature verified",
  admitted: "Legitimate validation: admitted to the mempool",
  gossiped: "Data transceiver: gossiped to peers",
  proposed: "Consensus: included in a proposal",
  voted: "Consensus: voted for",
  executed: "Execution engine: executed",
  committed: "Record: committed",
  streamed: "Interface: streamed as an event",
};

interface Row {
  readonly node: string;
  readonly point: string;
  readonly timeUs: number;
  readonly detail?: string;
}

interface Journey {
  readonly hash: string;
  readonly traces: Readonly<Record<string, TxTraceInfo | string>>;
  readonly tx?: TxInfo;
  readonly block?: BlockInfo;
  readonly votes: Readonly<Record<string, readonly ConsensusEventInfo[]>>;
  readonly error?: string;
  readonly done: boolean;
}

export function JourneyView() {
  const ses = useStore(session);
  const snap = useStore(snapshot);
  const [input, setInput] = useState(() => decodeURIComponent(location.hash.split("/")[2] ?? ""));
  const [inputError, setInputError] = useState<string | undefined>();
  const [journey, setJourney] = useState<Journey | undefined>();
  const [sending, setSending] = useState(false);
  const follow = useRef(0);

  async function track(hash: string) {
    const run = ++follow.current;
    const h = hash.replace(/^0x/, "").toLowerCase();
    let j: Journey = { hash: h, traces: {}, votes: {}, done: false };
    setJourney(j);
    // Open the home node's event stream while we follow, so the node streams the block to someone.
    const stop = new AbortController();
    void ses.home.client.subscribe(() => {}, { signal: stop.signal, onError: () => {} }).catch(() => {});
    const deadline = Date.now() + FOLLOW_MS;
    try {
      while (run === follow.current && Date.now() < deadline) {
        const nodes = session.get().nodes;
        const traces: Record<string, TxTraceInfo | string> = {};
        await Promise.all(
          nodes.map(async (n) => {
            try {
              traces[n.name] = await n.client.getTxTrace(h);
            } catch (err) {
              traces[n.name] =
                err instanceof CairnApiError && err.code === "TRACE_NOT_FOUND" ? NOT_TRACED : errorText(err);
            }
          }),
        );
        let tx: TxInfo | undefined;
        let error: string | undefined;
        try {
          tx = await session.get().home.client.getTx(h);
        } catch (err) {
          error =
            err instanceof CairnApiError && err.code === "TX_NOT_FOUND"
              ? "No node here knows this transaction yet (it may never have been submitted, or it expired)."
              : errorText(err);
        }
        let block = j.block;
        let votes = j.votes;
        if (tx?.status === "committed" && tx.height !== undefined && block === undefined) {
          block = await session
            .get()
            .home.client.getBlock(tx.height)
            .catch(() => undefined);
          const height = tx.height;
          const all: Record<string, ConsensusEventInfo[]> = {};
          await Promise.all(
            nodes.map(async (n) => {
              try {
                const r = await n.client.consensusEvents();
                all[n.name] = r.events.filter((e) => e.height === height);
              } catch {
                all[n.name] = [];
              }
            }),
          );
          votes = all;
        }
        const streamed = Object.values(traces).some(
          (t) => typeof t !== "string" && t.points.some((p) => p.point === "streamed"),
        );
        // Complete once every validator that answers shows the commit, not only this node.
        const committedEverywhere = Object.values(traces).every((t) =>
          typeof t === "string" ? t !== NOT_TRACED : t.points.some((p) => p.point === "committed"),
        );
        const done = tx?.status === "committed" && block !== undefined && streamed && committedEverywhere;
        j = {
          hash: h,
          traces,
          ...(tx === undefined ? {} : { tx }),
          ...(block === undefined ? {} : { block }),
          votes,
          ...(error === undefined ? {} : { error }),
          done,
        };
        if (run !== follow.current) return;
        setJourney(j);
        if (done || tx?.status === "rejected") break;
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      // Let the stream deliver the block we were waiting for before closing it.
      setTimeout(() => stop.abort(), 2_000);
    }
  }

  useEffect(() => {
    if (HASH.test(input)) void track(input);
    return () => {
      follow.current++;
    };
  }, []);

  const onSubmitHash = (e: Event) => {
    e.preventDefault();
    const v = input.trim();
    if (!HASH.test(v)) {
      setInputError("A transaction hash is 64 hexadecimal characters (optionally with 0x), as `cairn tx` prints it.");
      return;
    }
    setInputError(undefined);
    history.replaceState(null, "", `#/journey/${v.replace(/^0x/, "")}`);
    void track(v);
  };

  const onSend = async () => {
    const key = session.get().key;
    if (key === undefined) {
      setInputError("Load a key file first (top right): the transaction is signed in this page with it.");
      return;
    }
    setSending(true);
    setInputError(undefined);
    try {
      const signer = session.get().home.client.signer(key);
      const stx = await signer.sign(
        kv.put(`console-${Date.now()}`, `sent from the console at ${new Date().toISOString()}`),
      );
      const hash = Array.from(stx.hash, (b) => b.toString(16).padStart(2, "0")).join("");
      setInput(hash);
      history.replaceState(null, "", `#/journey/${hash}`);
      const tracking = track(hash);
      await session.get().home.client.submit(stx);
      await tracking;
    } catch (err) {
      setInputError(`The node refused it: ${errorText(err)}`);
    } finally {
      setSending(false);
    }
  };

  const names = validatorNames(snap);
  const rows: Row[] = [];
  if (journey !== undefined) {
    for (const [node, t] of Object.entries(journey.traces)) {
      if (typeof t === "string") continue;
      for (const p of t.points) rows.push({ node, point: p.point, timeUs: p.timeUs });
    }
    for (const [node, events] of Object.entries(journey.votes)) {
      for (const e of events) {
        if (e.kind === "proposal" && e.blockHash === journey.tx?.blockHash) {
          rows.push({
            node,
            point: "proposal",
            timeUs: e.timeUs,
            detail: `round ${e.round}, proposer ${names(e.proposer)}`,
          });
        } else if (e.kind === "vote" && e.blockHash === journey.tx?.blockHash) {
          rows.push({
            node,
            point: e.type,
            timeUs: e.timeUs,
            detail: e.own ? `${node} voted (round ${e.round})` : `from ${names(e.validator)} (round ${e.round})`,
          });
        }
      }
    }
    rows.sort((a, b) => a.timeUs - b.timeUs);
  }
  const t0 = rows[0]?.timeUs ?? 0;
  const span = Math.max(1, (rows[rows.length - 1]?.timeUs ?? 0) - t0);
  const nodesSeen = journey === undefined ? [] : Object.keys(journey.traces);
  const receipt = journey?.tx?.receipt;

  return (
    <div class="journey-view">
      <h2>Transaction journey</h2>
      <p class="lead">
        Paste a transaction hash, or send a small <code>kv put</code> signed with the loaded key, and watch it cross the
        layers on every node: each node's trace points (<code>GET /txs/:hash/trace</code>) and the votes for its block (
        <code>GET /consensus/events</code>), on one timeline.
      </p>
      <form class="inline" onSubmit={onSubmitHash}>
        <label for="tx-hash">Transaction hash</label>
        <input
          id="tx-hash"
          name="hash"
          value={input}
          size={70}
          spellcheck={false}
          autocomplete="off"
          aria-invalid={inputError !== undefined}
          aria-describedby="tx-hash-error"
          onInput={(e) => setInput((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit">Follow</button>
        <button type="button" onClick={onSend} disabled={sending} data-action="send-tx">
          {sending ? "Sending…" : "Send a kv put and follow it"}
        </button>
      </form>
      <p id="tx-hash-error" class="error" role="alert">
        {inputError ?? ""}
      </p>
      {journey !== undefined && (
        <section class="panel" aria-live="polite" data-journey={journey.hash}>
          <h3>
            <code>{short(journey.hash, 16)}</code>{" "}
            <span class="tag" data-status={journey.tx?.status ?? "unknown"}>
              {journey.tx?.status ?? "unknown"}
            </span>
            {journey.done && <span class="tag ok">complete</span>}
          </h3>
          {journey.error !== undefined && <p class="hint">{journey.error}</p>}
          {journey.tx?.error !== undefined && (
            <p class="error">
              Refused: {journey.tx.error.code}: {journey.tx.error.message}
            </p>
          )}
          <dl class="figures wide">
            <div>
              <dt>contract · method</dt>
              <dd>{journey.tx?.tx === undefined ? "—" : `${journey.tx.tx.contract}.${journey.tx.tx.method}`}</dd>
            </div>
            <div>
              <dt>block</dt>
              <dd>{journey.tx?.height ?? "—"}</dd>
            </div>
            <div>
              <dt>receipt</dt>
              <dd>{receipt === undefined ? "—" : `${receipt.code}, gas ${receipt.gasUsed}`}</dd>
            </div>
            <div>
              <dt>state root after</dt>
              <dd>{short(journey.block?.header.stateRoot)}</dd>
            </div>
            <div>
              <dt>proposer</dt>
              <dd>{journey.block === undefined ? "—" : names(journey.block.header.proposer)}</dd>
            </div>
          </dl>
          <table class="timeline">
            <caption>Every stage on every node, in time order (+ms from the first)</caption>
            <thead>
              <tr>
                <th scope="col">+ms</th>
                <th scope="col">node</th>
                <th scope="col">stage</th>
                <th scope="col">detail</th>
                <th scope="col" class="bar-col">
                  <span class="visually-hidden">time bar</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${r.node}-${r.point}-${i}`} data-node={r.node} data-point={r.point}>
                  <td class="num">{ms(r.timeUs - t0)}</td>
                  <td>{r.node}</td>
                  <td>{STAGES[r.point as TracePoint] ?? `Consensus: ${r.point}`}</td>
                  <td>{r.detail ?? clock(r.timeUs)}</td>
                  <td class="bar-col">
                    <span class="bar" style={{ marginLeft: `${((r.timeUs - t0) / span) * 100}%` }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>Per node</h4>
          <ul class="plain">
            {nodesSeen.map((n) => {
              const t = journey.traces[n];
              return (
                <li key={n} data-trace-node={n}>
                  <strong>{n}</strong>:{" "}
                  {typeof t === "string" || t === undefined ? t : t.points.map((p) => p.point).join(" → ")}
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </div>
  );
}
