// Who the console talks to and as whom: the node that served the page ("home"), the other nodes it
// knows of (from the local cluster's control endpoint, or added by hand), and the key file loaded
// in the page, which signs reads on a members-only chain and the transactions sent from the page.
import { type CairnClient, createClient, type KeyPair, parseKeyFile, toHex } from "@cairn/client";
import { Store } from "./store.ts";

export interface NodeRef {
  readonly name: string;
  readonly url: string;
  readonly client: CairnClient;
}

export interface SessionState {
  readonly home: NodeRef;
  readonly nodes: readonly NodeRef[];
  readonly key: KeyPair | undefined;
  /** Where the key came from (file name) and its account. */
  readonly keyLabel: string | undefined;
  /** The local cluster's control endpoint, when the node runs under `cairn cluster`. */
  readonly control: string | undefined;
}

function meta(name: string): string | undefined {
  const v = document.querySelector(`meta[name="${name}"]`)?.getAttribute("content");
  return v === null || v === undefined || v === "" ? undefined : v;
}

const ref = (name: string, url: string, key: KeyPair | undefined): NodeRef => ({
  name,
  url,
  client: createClient({ url, ...(key === undefined ? {} : { readKey: key }) }),
});

const HOME = location.origin;

export const session = new Store<SessionState>({
  home: ref("this node", HOME, undefined),
  nodes: [ref("this node", HOME, undefined)],
  key: undefined,
  keyLabel: undefined,
  control: meta("cairn-cluster-control"),
});

/** Reads a key file's text; throws a CairnClientError (BAD_KEY_FILE) with a message for the page. */
export function loadKey(text: string, fileName: string): void {
  const key = parseKeyFile(text);
  const s = session.get();
  const nodes = s.nodes.map((n) => ref(n.name, n.url, key));
  const home = nodes.find((n) => n.url === s.home.url) ?? ref(s.home.name, s.home.url, key);
  session.set({ ...s, key, keyLabel: `${fileName} (${toHex(key.publicKey).slice(0, 8)}…)`, home, nodes });
}

export function forgetKey(): void {
  const s = session.get();
  const nodes = s.nodes.map((n) => ref(n.name, n.url, undefined));
  session.set({
    ...s,
    key: undefined,
    keyLabel: undefined,
    home: nodes.find((n) => n.url === s.home.url) ?? s.home,
    nodes,
  });
}

/** Sets the nodes the console watches (names and API URLs); the home node keeps its place. */
export function setNodes(list: readonly { name: string; url: string }[]): void {
  const s = session.get();
  const same =
    list.length === s.nodes.length && list.every((n, i) => n.url === s.nodes[i]?.url && n.name === s.nodes[i]?.name);
  if (same) return;
  const nodes = list.map((n) => ref(n.name, n.url.replace(/\/+$/, ""), s.key));
  const home = nodes.find((n) => n.url === s.home.url);
  session.set({
    ...s,
    nodes: home === undefined ? [s.home, ...nodes] : nodes,
    home: home ?? s.home,
  });
}

/** Adds a node by its API URL (the cluster view's form); throws on a malformed URL. */
export function addNode(url: string): void {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new Error("a node's API URL starts with http:// or https://");
  const s = session.get();
  const clean = `${u.protocol}//${u.host}`;
  if (s.nodes.some((n) => n.url === clean)) return;
  setNodes([...s.nodes.map((n) => ({ name: n.name, url: n.url })), { name: u.host, url: clean }]);
}
