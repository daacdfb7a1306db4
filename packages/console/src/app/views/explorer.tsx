// View 4: the explorer. Blocks with their commit certificates, transactions with receipts, events
// and inclusion proofs, state with its proof, contracts and their methods, governance. Every proof
// and certificate shown is checked here, in the browser, with the SDK, and marked verified or not.
import type { BlockInfo, ContractInfo, GovNodeInfo, ProposalInfo, StateInfo, StatusInfo, TxInfo } from "@cairn/client";
import { fromHex, verifyBlockCommit, verifyStateInfo, verifyTxInBlock } from "@cairn/client";
import { useEffect, useState } from "preact/hooks";
import { clock, errorText, short } from "../format.ts";
import { snapshot } from "../monitor.ts";
import { session } from "../session.ts";
import { useStore } from "../store.ts";

const TABS = ["blocks", "transaction", "state", "contracts", "governance"] as const;
type Tab = (typeof TABS)[number];
const HASH = /^(0x)?[0-9a-fA-F]{64}$/;

function Verified({ ok, what }: { ok: boolean; what: string }) {
  return (
    <span class={`verdict ${ok ? "ok" : "bad"}`} data-verified={ok ? "true" : "false"} role="status">
      {ok ? `✓ ${what} verified in this browser` : `✗ ${what} did NOT verify`}
    </span>
  );
}

function BlockDetail({ block, status }: { block: BlockInfo; status: StatusInfo | undefined }) {
  const certOk =
    status !== undefined &&
    verifyBlockCommit(block, status.validators, status.consensus.engine === "raft" ? "raft" : "tendermint");
  return (
    <section class="panel" data-block={block.height} aria-label={`Block ${block.height}`}>
      <h3>Block {block.height}</h3>
      <p>
        <Verified ok={certOk} what="commit certificate" />{" "}
        <span class="hint">
          (the header hashes to the block hash and precommits of more than 2/3 of the current validators' power sign it)
        </span>
      </p>
      <dl class="figures wide">
        <div>
          <dt>hash</dt>
          <dd>
            <code>{short(block.hash, 16)}</code>
          </dd>
        </div>
        <div>
          <dt>time</dt>
          <dd>{new Date(block.header.time).toLocaleString("en-GB")}</dd>
        </div>
        <div>
          <dt>proposer</dt>
          <dd>
            {status?.validators.find((v) => v.publicKey === block.header.proposer)?.name ??
              short(block.header.proposer)}
          </dd>
        </div>
        <div>
          <dt>transactions</dt>
          <dd>{block.header.txCount}</dd>
        </div>
        <div>
          <dt>state root</dt>
          <dd>
            <code>{short(block.header.stateRoot)}</code>
          </dd>
        </div>
        <div>
          <dt>certificate</dt>
          <dd>
            {block.commit === undefined || block.commit === null
              ? "—"
              : `round ${block.commit.round}, ${block.commit.signatures.length} signatures`}
          </dd>
        </div>
      </dl>
      {block.txs !== undefined && block.txs.length > 0 && (
        <ul class="plain">
          {block.txs.slice(0, 50).map((t) => (
            <li key={t}>
              <a href={`#/journey/${t}`}>
                <code>{short(t, 16)}</code>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Blocks() {
  const snap = useStore(snapshot);
  const [blocks, setBlocks] = useState<BlockInfo[]>([]);
  const [chosen, setChosen] = useState<BlockInfo | undefined>();
  const [error, setError] = useState<string | undefined>();
  const head = snap.status?.height ?? 0;
  useEffect(() => {
    let cancelled = false;
    const client = session.get().home.client;
    const heights = Array.from({ length: Math.min(10, head) }, (_, i) => head - i);
    Promise.all(heights.map((h) => client.getBlock(h)))
      .then((bs) => {
        if (!cancelled) {
          setBlocks(bs);
          setError(undefined);
        }
      })
      .catch((err) => !cancelled && setError(errorText(err)));
    return () => {
      cancelled = true;
    };
  }, [Math.floor(head / 5)]);
  const open = async (h: number) => {
    try {
      setChosen(await session.get().home.client.getBlock(h, { full: true }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <>
      {error !== undefined && <p class="error">Blocks are not available: {error}</p>}
      <table class="blocks">
        <caption>The latest blocks of this node (select one to check its certificate)</caption>
        <thead>
          <tr>
            <th scope="col">height</th>
            <th scope="col">hash</th>
            <th scope="col">txs</th>
            <th scope="col">time</th>
          </tr>
        </thead>
        <tbody>
          {blocks.map((b) => (
            <tr key={b.height}>
              <td>
                <button type="button" class="link" data-open-block={b.height} onClick={() => open(b.height)}>
                  {b.height}
                </button>
              </td>
              <td>
                <code>{short(b.hash)}</code>
              </td>
              <td class="num">{b.header.txCount}</td>
              <td>{clock(b.header.time * 1000)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {chosen !== undefined && <BlockDetail block={chosen} status={snap.status} />}
    </>
  );
}

function Transaction() {
  const [hash, setHash] = useState("");
  const [result, setResult] = useState<{ tx: TxInfo; block?: BlockInfo } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const look = async (e: Event) => {
    e.preventDefault();
    setResult(undefined);
    if (!HASH.test(hash.trim())) {
      setError("A transaction hash is 64 hexadecimal characters.");
      return;
    }
    try {
      const client = session.get().home.client;
      const tx = await client.getTx(hash.trim().replace(/^0x/, ""));
      const block = tx.height === undefined ? undefined : await client.getBlock(tx.height);
      setResult(block === undefined ? { tx } : { tx, block });
      setError(undefined);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const r = result;
  return (
    <>
      <form class="inline" onSubmit={look}>
        <label for="explorer-tx">Transaction hash</label>
        <input
          id="explorer-tx"
          size={70}
          spellcheck={false}
          value={hash}
          onInput={(e) => setHash((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit">Look up</button>
      </form>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {r !== undefined && (
        <section class="panel" data-tx={r.tx.hash}>
          <h3>
            Transaction <code>{short(r.tx.hash, 16)}</code> <span class="tag">{r.tx.status}</span>
          </h3>
          {r.block !== undefined && (
            <p>
              <Verified ok={verifyTxInBlock(r.tx, r.block)} what="inclusion proof" />{" "}
              <span class="hint">(its envelope's Merkle path reaches block {r.block.height}'s txRoot)</span>
            </p>
          )}
          <dl class="figures wide">
            <div>
              <dt>call</dt>
              <dd>{r.tx.tx === undefined ? "—" : `${r.tx.tx.contract}.${r.tx.tx.method}`}</dd>
            </div>
            <div>
              <dt>sender</dt>
              <dd>
                <code>{short(r.tx.tx?.sender)}</code>
              </dd>
            </div>
            <div>
              <dt>receipt</dt>
              <dd>{r.tx.receipt === undefined ? "—" : `${r.tx.receipt.code}, gas ${r.tx.receipt.gasUsed}`}</dd>
            </div>
          </dl>
          {r.tx.receipt !== undefined && r.tx.receipt.events.length > 0 && (
            <>
              <h4>Events</h4>
              <ul class="plain">
                {r.tx.receipt.events.map((ev, i) => (
                  <li key={i}>
                    {ev.contract}.{ev.name}: <code>{JSON.stringify(ev.data)}</code>
                  </li>
                ))}
              </ul>
            </>
          )}
          <p>
            <a href={`#/journey/${r.tx.hash}`}>Follow its journey through the layers</a>
          </p>
        </section>
      )}
    </>
  );
}

function State() {
  const [contract, setContract] = useState("kv");
  const [key, setKey] = useState("hello");
  const [result, setResult] = useState<StateInfo | undefined>();
  const [error, setError] = useState<string | undefined>();
  const look = async (e: Event) => {
    e.preventDefault();
    try {
      if (!/^[a-z][a-z0-9_-]{0,63}$/.test(contract))
        throw new Error("a contract name is lower-case letters, digits, - and _");
      if (key.startsWith("0x") && !/^0x([0-9a-fA-F]{2})*$/.test(key))
        throw new Error("a 0x… key is an even number of hex digits");
      const k = key.startsWith("0x") ? fromHex(key.slice(2)) : new TextEncoder().encode(key);
      setResult(await session.get().home.client.getState(contract, k));
      setError(undefined);
    } catch (err) {
      setResult(undefined);
      setError(errorText(err));
    }
  };
  return (
    <>
      <form class="inline" onSubmit={look}>
        <label for="state-contract">Contract</label>
        <input
          id="state-contract"
          size={10}
          value={contract}
          onInput={(e) => setContract((e.currentTarget as HTMLInputElement).value)}
        />
        <label for="state-key">Key (text, or 0x… hex)</label>
        <input
          id="state-key"
          size={30}
          value={key}
          onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit">Read</button>
      </form>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {result !== undefined && (
        <section class="panel" data-state={`${result.contract}/${result.key}`}>
          <p>
            <Verified ok={verifyStateInfo(result)} what={result.value === null ? "proof of absence" : "state proof"} />{" "}
            <span class="hint">
              (against state root {short(result.stateRoot)} of height {result.height})
            </span>
          </p>
          <p>
            {result.value === null ? (
              "No value under this key."
            ) : (
              <>
                Value: <code>{result.utf8 ?? result.value}</code>
              </>
            )}
          </p>
        </section>
      )}
    </>
  );
}

function Contracts() {
  const [list, setList] = useState<(ContractInfo | string)[]>([]);
  useEffect(() => {
    const client = session.get().home.client;
    void Promise.all(
      ["kv", "token", "gov"].map(async (n) => {
        try {
          return (await client.getContract(n)) ?? `${n}: not on this chain`;
        } catch (err) {
          return `${n}: ${errorText(err)}`;
        }
      }),
    ).then(setList);
  }, []);
  return (
    <ul class="plain contracts">
      {list.map((c) =>
        typeof c === "string" ? (
          <li key={c}>{c}</li>
        ) : (
          <li key={c.name}>
            <strong>{c.name}</strong> <span class="tag">{c.kind}</span>: {c.methods.join(", ")}
          </li>
        ),
      )}
    </ul>
  );
}

function Governance() {
  const snap = useStore(snapshot);
  const [data, setData] = useState<{ proposals: ProposalInfo[]; nodes: GovNodeInfo[] } | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const gov = session.get().home.client.gov;
    Promise.all([gov.proposals({ limit: 20 }), gov.nodes()])
      .then(([proposals, nodes]) => setData({ proposals, nodes }))
      .catch((err) => setError(errorText(err)));
  }, []);
  return (
    <>
      {error !== undefined && <p class="error">{error}</p>}
      <h3>Organisations</h3>
      <ul class="plain">
        {(snap.organizations ?? []).map((o) => (
          <li key={o.name}>
            <strong>{o.name}</strong>:{" "}
            {o.identities
              .map((i) => `${short(i.publicKey)} (${i.roles.join(", ")}${i.active ? "" : ", revoked"})`)
              .join("; ")}
          </li>
        ))}
      </ul>
      <h3>Validators</h3>
      <ul class="plain">
        {(snap.status?.validators ?? []).map((v) => (
          <li key={v.publicKey}>
            {v.name}: power {v.power}, <code>{short(v.publicKey)}</code>
          </li>
        ))}
      </ul>
      <h3>Private data collections</h3>
      {(snap.collections ?? []).length === 0 ? <p class="hint">No collections defined.</p> : null}
      <ul class="plain collections">
        {(snap.collections ?? []).map((c) => (
          <li key={c.name} data-collection={c.name}>
            <strong>{c.name}</strong>: members {c.members.join(", ")}; pushed to {c.requiredPeerCount}–{c.maxPeerCount}{" "}
            other member nodes;{" "}
            {c.blockToLive === 0 ? "kept until purged" : `purged ${c.blockToLive} blocks after it is written`}; read by{" "}
            {c.memberOnlyRead ? "members" : "any identity"}, written by {c.memberOnlyWrite ? "members" : "any identity"}
          </li>
        ))}
      </ul>
      <h3>Nodes (registry)</h3>
      <ul class="plain">
        {(data?.nodes ?? []).map((n) => (
          <li key={n.peerId}>
            {n.name} ({n.org}) <code>{short(n.peerId, 12)}</code>
          </li>
        ))}
      </ul>
      <h3>Proposals</h3>
      {data !== undefined && data.proposals.length === 0 ? <p class="hint">No proposals yet.</p> : null}
      <ul class="plain">
        {(data?.proposals ?? []).map((p) => (
          <li key={p.id}>
            #{p.id} {p.action}: {p.status} ({p.approvals.join(", ") || "no"} approvals of {p.needed} needed)
          </li>
        ))}
      </ul>
    </>
  );
}

export function ExplorerView() {
  const [tab, setTab] = useState<Tab>("blocks");
  return (
    <div class="explorer-view">
      <h2>Explorer</h2>
      <div role="tablist" aria-label="Explorer" class="tabs">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls="explorer-panel"
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="explorer-panel" aria-labelledby={`tab-${tab}`}>
        {tab === "blocks" && <Blocks />}
        {tab === "transaction" && <Transaction />}
        {tab === "state" && <State />}
        {tab === "contracts" && <Contracts />}
        {tab === "governance" && <Governance />}
      </div>
    </div>
  );
}
