// View 5: the cluster. Every node's health, height, round and peers; on a local cluster run by
// `cairn cluster` (or `npm start`), buttons that kill, pause, resume and restart a node and that
// partition and heal the network, through the supervisor's control endpoint on loopback.
import { useState } from "preact/hooks";
import { count, errorText } from "../format.ts";
import { snapshot, useControl } from "../monitor.ts";
import { addNode, session } from "../session.ts";
import { useStore } from "../store.ts";

/** What the control endpoint does to one node (POST /nodes/:i/<action>), and its button's label. */
const NODE_ACTIONS = [
  ["kill", "Kill"],
  ["pause", "Pause"],
  ["resume", "Resume"],
  ["restart", "Restart"],
] as const;

export function ClusterView() {
  const s = useStore(snapshot);
  const ses = useStore(session);
  const { busy, message, setMessage, act } = useControl();
  const [url, setUrl] = useState("");
  const n = s.nodes.length;
  const half = Math.ceil(n / 2);
  const groups = [Array.from({ length: half }, (_, i) => i), Array.from({ length: n - half }, (_, i) => half + i)];
  const live = s.nodes.filter((x) => x.status !== undefined).length;
  const stateOf = (i: number) => s.control?.nodes[i]?.state;
  return (
    <div class="cluster-view">
      <h2>Cluster</h2>
      <p class="lead">
        {live} of {n} nodes answer. With four validators, consensus goes on with one down (three of four is more than
        two thirds) and halts with two down, until one comes back.
      </p>
      {ses.control === undefined ? (
        <p class="hint">
          This node is not run by <code>cairn cluster</code>, so there are no controls; the table shows the nodes this
          page knows. Add another node by its API URL:
        </p>
      ) : (
        <p class="hint">
          Controls go to the local cluster's supervisor at <code>{ses.control}</code> (loopback only).
          {s.controlError !== undefined && <span class="error"> It does not answer: {s.controlError}</span>}
        </p>
      )}
      <table class="nodes">
        <caption>Nodes</caption>
        <thead>
          <tr>
            <th scope="col">node</th>
            <th scope="col">API</th>
            <th scope="col">health</th>
            <th scope="col">height</th>
            <th scope="col">round · step</th>
            <th scope="col">peers</th>
            {s.control !== undefined && <th scope="col">process</th>}
            {s.control !== undefined && <th scope="col">actions</th>}
          </tr>
        </thead>
        <tbody>
          {s.nodes.map((node, i) => {
            const st = node.status;
            const proc = stateOf(i);
            return (
              <tr key={node.url} data-node={node.name} data-up={st !== undefined}>
                <th scope="row">{node.name}</th>
                <td>
                  <a href={`${node.url}/console/`}>{node.url}</a>
                </td>
                <td class={st === undefined ? "down" : "up"}>
                  {st === undefined ? "down" : st.sync.catchingUp ? "catching up" : "up"}
                </td>
                <td class="num">{count(st?.height)}</td>
                <td>{st === undefined ? "—" : `${st.consensus.round} · ${st.consensus.step}`}</td>
                <td class="num">{count(st?.network.peers)}</td>
                {s.control !== undefined && <td data-process={proc}>{proc ?? "—"}</td>}
                {s.control !== undefined && (
                  <td class="actions">
                    {NODE_ACTIONS.map(([action, label]) => (
                      <button
                        key={action}
                        type="button"
                        disabled={busy}
                        data-action={action}
                        aria-label={`${label} ${node.name}`}
                        onClick={() => act(`${label} ${node.name}`, `/nodes/${i}/${action}`)}
                      >
                        {label}
                      </button>
                    ))}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {s.control !== undefined && n >= 2 && (
        <fieldset class="panel controls">
          <legend>Network</legend>
          {s.control.partition.length > 0 ? (
            <>
              partitioned into{" "}
              {s.control.partition.map((g) => `{${g.map((i) => s.nodes[i]?.name ?? i).join(", ")}}`).join(" | ")}{" "}
              <button type="button" disabled={busy} data-action="heal" onClick={() => act("Heal", "/heal")}>
                Heal
              </button>
            </>
          ) : (
            <button
              type="button"
              disabled={busy}
              data-action="partition"
              onClick={() => act("Partition", "/partition", { groups })}
            >
              Partition {groups.map((g) => `{${g.map((i) => s.nodes[i]?.name ?? i).join(", ")}}`).join(" | ")}
            </button>
          )}
        </fieldset>
      )}
      <p class="status-line" aria-live="polite">
        {message ?? ""}
      </p>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          try {
            addNode(url.trim());
            setUrl("");
            setMessage(undefined);
          } catch (err) {
            setMessage(`Not a node URL: ${errorText(err)}`);
          }
        }}
      >
        <label for="add-node">Watch another node (API URL)</label>
        <input
          id="add-node"
          placeholder="http://127.0.0.1:26601"
          value={url}
          onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit">Add</button>
      </form>
    </div>
  );
}
