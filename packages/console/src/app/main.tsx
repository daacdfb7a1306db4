// The Cairn Console: a page every node serves at /console/ (docs/console.md). Five views over the
// API of the node that served it (and of the other nodes it knows): the architecture map, a
// transaction's journey, consensus, the explorer, and the local cluster.
import { Component, type ComponentChildren, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "./format.ts";
import { snapshot, startMonitor } from "./monitor.ts";
import { forgetKey, loadKey, session } from "./session.ts";
import { useStore } from "./store.ts";
import { ClusterView } from "./views/cluster.tsx";
import { ConsensusView } from "./views/consensus.tsx";
import { ExplorerView } from "./views/explorer.tsx";
import { JourneyView } from "./views/journey.tsx";
import { MapView } from "./views/map.tsx";

const VIEWS = [
  { id: "map", label: "Architecture map", view: MapView },
  { id: "journey", label: "Transaction journey", view: JourneyView },
  { id: "consensus", label: "Consensus", view: ConsensusView },
  { id: "explorer", label: "Explorer", view: ExplorerView },
  { id: "cluster", label: "Cluster", view: ClusterView },
] as const;
type ViewId = (typeof VIEWS)[number]["id"];

function routeOf(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, "").split("/")[0];
  return (VIEWS.find((v) => v.id === id)?.id ?? "map") as ViewId;
}

/** A view that throws shows what went wrong, never a blank page. */
class Boundary extends Component<{ children: ComponentChildren; name: string }, { error?: string }> {
  override state: { error?: string } = {};
  override componentDidCatch(err: unknown) {
    this.setState({ error: errorText(err) });
  }
  render() {
    if (this.state.error !== undefined) {
      return (
        <div class="panel error" role="alert">
          <h2>The {this.props.name} view failed</h2>
          <p>{this.state.error}</p>
          <button type="button" onClick={() => this.setState({ error: undefined })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}

function KeyControl() {
  const s = useStore(session);
  const snap = useStore(snapshot);
  const [error, setError] = useState<string | undefined>();
  const onFile = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (file === undefined) return;
    try {
      if (file.size > 64 * 1024) throw new Error("that file is too large to be a Cairn key file");
      loadKey(await file.text(), file.name);
      setError(undefined);
    } catch (err) {
      setError(
        `${file.name}: ${errorText(err)}. Load a key file written by \`cairn keys new\` or \`cairn testnet\` (for example .cairn/cluster/keys/admin.json).`,
      );
    }
    input.value = "";
  };
  return (
    <div class="key">
      {s.keyLabel === undefined ? (
        <label class="button">
          Load key file…
          <input type="file" accept=".json,application/json" onChange={onFile} aria-describedby="key-help" />
        </label>
      ) : (
        <span>
          Signing as <strong>{s.keyLabel}</strong>{" "}
          <button type="button" onClick={() => forgetKey()}>
            Forget key
          </button>
        </span>
      )}
      <span id="key-help" class="hint">
        {snap.readsNeedKey && s.key === undefined
          ? "This chain is members-only: load a member's key file to read it."
          : "The key stays in this page: it signs reads and the transactions you send."}
      </span>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function App() {
  const [route, setRoute] = useState<ViewId>(routeOf(location.hash));
  const snap = useStore(snapshot);
  useEffect(() => {
    const on = () => setRoute(routeOf(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const current = VIEWS.find((v) => v.id === route) ?? VIEWS[0];
  const View = current.view;
  const st = snap.status;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <div class="brand">
          <h1>Cairn Console</h1>
          <span class="node" aria-live="polite">
            {st === undefined
              ? snap.statusError === undefined
                ? "connecting…"
                : `node unreachable: ${snap.statusError}`
              : `${st.moniker} · ${st.chainId} · height ${st.height} · ${st.role}`}
          </span>
        </div>
        <KeyControl />
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={v.id === route ? "page" : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} data-view={current.id}>
        <Boundary name={current.label} key={current.id}>
          <View />
        </Boundary>
      </main>
    </>
  );
}

// Nothing may escape as an uncaught error: say it in the page instead.
addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  snapshot.update((s) => ({ ...s, statusError: errorText(e.reason) }));
});

startMonitor();
const root = document.getElementById("app") as HTMLElement;
root.textContent = ""; // the "Loading…" line shown before this script runs
render(<App />, root);
