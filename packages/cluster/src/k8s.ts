// `cairn testnet --k8s`: the same chain as `cairn testnet`, written as Kubernetes manifests laid out
// for kustomize (docs/kubernetes.md). One StatefulSet per validator (a stable name and address,
// its own volume claim for LevelDB), a headless Service per validator for peer-to-peer, one Service
// for the API, the genesis in a ConfigMap, each node's keys in a Secret, observers as one StatefulSet.
// Validators are separate StatefulSets, not one with N replicas, because each has its own keys and
// config (as in Besu's charts): scaling a validator set is governance, not a replica count.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { NodeConfig } from "@cairn/node/config";
import { stringify } from "yaml";
import { DEFAULT_NODE_IMAGE, IMAGE_UID } from "./docker.ts";
import { ClusterError } from "./errors.ts";
import { createTestnet, type TestnetOptions, type TestnetResult } from "./testnet.ts";

/** Where the manifests go, under the testnet's directory. */
export const K8S_DIR = "k8s";
export const K8S_API_PORT = 26657;
export const K8S_P2P_PORT = 26656;
export const DEFAULT_NAMESPACE = "cairn";
export const DEFAULT_STORAGE = "10Gi";

export interface K8sTestnetOptions extends Omit<TestnetOptions, "p2pAddress" | "basePort"> {
  /** The node image, name:tag (default cairn-node:latest; the overlay's `images` entry sets the tag). */
  readonly image?: string;
  /** The namespace of the example overlay (default cairn). */
  readonly namespace?: string;
  /** Each node's volume claim (default 10Gi). */
  readonly storage?: string;
  /** The nodes' --log-level (default info). */
  readonly logLevel?: string;
}

export interface K8sTestnetResult extends TestnetResult {
  /** DIR/k8s: base/ and overlays/example/. */
  readonly dir: string;
  /** Every object of the base, in the order written. */
  readonly objects: readonly K8sObject[];
  readonly summary: readonly string[];
}

/** A Kubernetes object as written (plain JSON-shaped data). */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> } & Record<string, unknown>;
  readonly [field: string]: unknown;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** The StatefulSet (and headless Service) of validator i, and the DNS name of its one pod. */
const validatorName = (i: number) => `cairn-node${i}`;
const OBSERVERS = "cairn-observer";
/** Pods resolve peers by `<pod>.<headless service>` in their own namespace (the search domain adds it). */
const podHost = (set: string, ordinal: number) => `${set}-${ordinal}.${set}`;

function labels(instance: string, role: "validator" | "observer"): Record<string, string> {
  return {
    "app.kubernetes.io/name": "cairn-node",
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": role,
    "app.kubernetes.io/part-of": "cairn",
  };
}

function configMap(name: string, data: Record<string, string>): K8sObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, labels: { "app.kubernetes.io/part-of": "cairn" } },
    data,
  };
}

function secret(name: string, files: Record<string, string>): K8sObject {
  const data = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, labels: { "app.kubernetes.io/part-of": "cairn" } },
    type: "Opaque",
    data,
  };
}

function headlessService(name: string, selector: Record<string, string>): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: { "app.kubernetes.io/part-of": "cairn" } },
    spec: {
      clusterIP: "None",
      // Peers must find each other before they are ready: readiness needs peers.
      publishNotReadyAddresses: true,
      selector,
      ports: [{ name: "p2p", port: K8S_P2P_PORT, targetPort: "p2p" }],
    },
  };
}

interface PodOptions {
  readonly image: string;
  readonly logLevel: string;
  readonly volumes: readonly Record<string, unknown>[];
  readonly mounts: readonly Record<string, unknown>[];
  readonly initContainers?: readonly Record<string, unknown>[];
}

/** The node container and its pod: non-root, probes on /ready and /health, scraped by Prometheus. */
function podTemplate(podLabels: Record<string, string>, o: PodOptions): Record<string, unknown> {
  return {
    metadata: {
      labels: podLabels,
      annotations: {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(K8S_API_PORT),
        "prometheus.io/path": "/metrics",
      },
    },
    spec: {
      securityContext: {
        runAsNonRoot: true,
        runAsUser: IMAGE_UID,
        runAsGroup: IMAGE_UID,
        fsGroup: IMAGE_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      // `cairn start` stops cleanly on SIGTERM: consensus finishes its step, the database closes.
      terminationGracePeriodSeconds: 30,
      ...(o.initContainers === undefined ? {} : { initContainers: o.initContainers }),
      containers: [
        {
          name: "cairn",
          image: o.image,
          args: ["start", "--home", "/cairn", "--api-host", "0.0.0.0", "--log-level", o.logLevel],
          ports: [
            { name: "api", containerPort: K8S_API_PORT },
            { name: "p2p", containerPort: K8S_P2P_PORT },
          ],
          // Starting (opening the database, catching up from peers) may take a while: liveness
          // waits for the first healthy answer.
          startupProbe: { httpGet: { path: "/health", port: "api" }, periodSeconds: 5, failureThreshold: 120 },
          livenessProbe: { httpGet: { path: "/health", port: "api" }, periodSeconds: 10, failureThreshold: 6 },
          // Ready: in the node registry's network with enough peers and not catching up (GET /ready).
          readinessProbe: { httpGet: { path: "/ready", port: "api" }, periodSeconds: 5, failureThreshold: 3 },
          resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "2Gi" } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          volumeMounts: o.mounts,
        },
      ],
      volumes: o.volumes,
    },
  };
}

function statefulSet(
  name: string,
  replicas: number,
  podLabels: Record<string, string>,
  template: Record<string, unknown>,
  storage: string,
): K8sObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, labels: podLabels },
    spec: {
      serviceName: name,
      replicas,
      // Nodes of a chain start together (each waits for peers), not one after another.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { "app.kubernetes.io/instance": podLabels["app.kubernetes.io/instance"] } },
      template,
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
        },
      ],
    },
  };
}

/** Copies observer <ordinal>'s config and keys into its home (the image has node, no shell). */
const OBSERVER_INIT = [
  "const fs = require('node:fs');",
  "const n = process.env.POD_NAME.split('-').pop();",
  "const config = '/observers/observer' + n + '-config.json';",
  "if (!fs.existsSync(config)) {",
  "  console.error('observer ' + n + \" has no identity in this chain's node registry: scale to at most the observers written, or register more (docs/kubernetes.md)\");",
  "  process.exit(1);",
  "}",
  "fs.mkdirSync('/home-out/keys', { recursive: true });",
  "fs.copyFileSync(config, '/home-out/config.json');",
  "fs.copyFileSync('/genesis/genesis.json', '/home-out/genesis.json');",
  "for (const k of ['validator.json', 'peer.key']) {",
  "  fs.copyFileSync('/observer-keys/observer' + n + '-' + k, '/home-out/keys/' + k);",
  "  fs.chmodSync('/home-out/keys/' + k, 0o600);",
  "}",
].join("\n");

/**
 * A node's config for Kubernetes: API and libp2p on all interfaces, peers by their pods' DNS names.
 * Observers join by state sync (docs/state-sync.md): one scaled up on a chain with a long history
 * restores a snapshot instead of replaying every block.
 */
function k8sConfig(config: NodeConfig, observer: boolean): NodeConfig {
  if (config.p2p === undefined) throw new ClusterError("BAD_CONFIG", "a testnet node has a p2p section");
  return {
    ...config,
    api: { ...config.api, host: "0.0.0.0", port: K8S_API_PORT },
    p2p: { ...config.p2p, listen: `/ip4/0.0.0.0/tcp/${K8S_P2P_PORT}` },
    ...(observer ? { stateSync: { ...config.stateSync, enable: true } } : {}),
  };
}

function checkOptions(o: K8sTestnetOptions): void {
  const ns = o.namespace ?? DEFAULT_NAMESPACE;
  if (!NAME.test(ns) || ns.length > 63) {
    throw new ClusterError("BAD_NAMESPACE", "--namespace must be a DNS label: lowercase letters, digits and -");
  }
  if (!QUANTITY.test(o.storage ?? DEFAULT_STORAGE)) {
    throw new ClusterError("BAD_STORAGE", "--storage must be a Kubernetes quantity, such as 10Gi");
  }
  const image = o.image ?? DEFAULT_NODE_IMAGE;
  if (!/^[a-z0-9]+([._/:@-][A-Za-z0-9]+)*$/.test(image)) {
    throw new ClusterError("BAD_IMAGE", "--image must be an image reference, such as registry.example/cairn-node:1.0");
  }
}

/** The image's name and tag (an overlay's `images` entry replaces them). */
function splitImage(image: string): { name: string; tag: string } {
  const at = image.lastIndexOf(":");
  return at > image.lastIndexOf("/")
    ? { name: image.slice(0, at), tag: image.slice(at + 1) }
    : { name: image, tag: "latest" };
}

/**
 * Writes a testnet (homes, keys, genesis, as `cairn testnet`) and DIR/k8s: a kustomize base with
 * every object, and overlays/example setting the namespace and the image tag.
 */
export async function createK8sTestnet(opts: K8sTestnetOptions): Promise<K8sTestnetResult> {
  checkOptions(opts);
  const out = resolve(opts.out);
  const validators = opts.validators;
  const observers = opts.observers ?? 0;
  const host = (i: number) => (i < validators ? podHost(validatorName(i), 0) : podHost(OBSERVERS, i - validators));
  const { image: _image, namespace: _ns, storage: _storage, logLevel: _log, ...testnet } = opts;
  const r = await createTestnet({ ...testnet, out, p2pAddress: (i) => `/dns4/${host(i)}/tcp/${K8S_P2P_PORT}` });
  const image = opts.image ?? DEFAULT_NODE_IMAGE;
  const { name: imageName, tag } = splitImage(image);
  const storage = opts.storage ?? DEFAULT_STORAGE;
  const logLevel = opts.logLevel ?? "info";
  const genesis = await readFile(join(r.homes[0] as string, "genesis.json"), "utf8");
  const config = async (home: string, observer = false) =>
    `${JSON.stringify(k8sConfig(JSON.parse(await readFile(join(home, "config.json"), "utf8")) as NodeConfig, observer), null, 2)}\n`;
  const keys = async (home: string) => ({
    "validator.json": await readFile(join(home, "keys", "validator.json"), "utf8"),
    "peer.key": await readFile(join(home, "keys", "peer.key"), "utf8"),
  });

  const files: [string, K8sObject[]][] = [];
  files.push(["genesis.yaml", [configMap("cairn-genesis", { "genesis.json": genesis })]]);
  files.push([
    "api-service.yaml",
    [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "cairn-api", labels: { "app.kubernetes.io/part-of": "cairn" } },
        spec: {
          // Every ready node answers the API (reads are the same on all; transactions go to any).
          selector: { "app.kubernetes.io/name": "cairn-node" },
          ports: [{ name: "api", port: K8S_API_PORT, targetPort: "api" }],
        },
      },
    ],
  ]);
  const homeVolumes = (cm: string, keySecret: string) => [
    { name: "config", configMap: { name: cm } },
    { name: "genesis", configMap: { name: "cairn-genesis" } },
    // Group-readable by the node's group (fsGroup); the node reads them, never writes.
    { name: "keys", secret: { secretName: keySecret, defaultMode: 0o440 } },
  ];
  const homeMounts = [
    { name: "data", mountPath: "/cairn/data" },
    { name: "config", mountPath: "/cairn/config.json", subPath: "config.json", readOnly: true },
    { name: "genesis", mountPath: "/cairn/genesis.json", subPath: "genesis.json", readOnly: true },
    { name: "keys", mountPath: "/cairn/keys", readOnly: true },
  ];
  for (let i = 0; i < validators; i++) {
    const name = validatorName(i);
    const home = r.homes[i] as string;
    const l = labels(name, "validator");
    files.push([
      `${basename(home)}.yaml`,
      [
        configMap(`${name}-config`, { "config.json": await config(home) }),
        secret(`${name}-keys`, await keys(home)),
        headlessService(name, { "app.kubernetes.io/instance": name }),
        statefulSet(
          name,
          1,
          l,
          podTemplate(l, {
            image,
            logLevel,
            volumes: homeVolumes(`${name}-config`, `${name}-keys`),
            mounts: homeMounts,
          }),
          storage,
        ),
      ],
    ]);
  }
  if (observers > 0) {
    const l = labels(OBSERVERS, "observer");
    const obsConfigs: Record<string, string> = {};
    const obsKeys: Record<string, string> = {};
    for (let k = 0; k < observers; k++) {
      const home = r.homes[validators + k] as string;
      obsConfigs[`observer${k}-config.json`] = await config(home, true);
      for (const [f, text] of Object.entries(await keys(home))) obsKeys[`observer${k}-${f}`] = text;
    }
    const template = podTemplate(l, {
      image,
      logLevel,
      initContainers: [
        {
          name: "home",
          image,
          command: ["node", "-e", OBSERVER_INIT],
          env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          volumeMounts: [
            { name: "home", mountPath: "/home-out" },
            { name: "observers", mountPath: "/observers", readOnly: true },
            { name: "observer-keys", mountPath: "/observer-keys", readOnly: true },
            { name: "genesis", mountPath: "/genesis", readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "home", emptyDir: {} },
        { name: "observers", configMap: { name: `${OBSERVERS}-config` } },
        { name: "observer-keys", secret: { secretName: `${OBSERVERS}-keys`, defaultMode: 0o440 } },
        { name: "genesis", configMap: { name: "cairn-genesis" } },
      ],
      mounts: [
        { name: "home", mountPath: "/cairn" },
        { name: "data", mountPath: "/cairn/data" },
      ],
    });
    files.push([
      "observers.yaml",
      [
        configMap(`${OBSERVERS}-config`, obsConfigs),
        secret(`${OBSERVERS}-keys`, obsKeys),
        headlessService(OBSERVERS, { "app.kubernetes.io/instance": OBSERVERS }),
        statefulSet(OBSERVERS, observers, l, template, storage),
      ],
    ]);
  }

  const dir = join(out, K8S_DIR);
  const base = join(dir, "base");
  const overlay = join(dir, "overlays", "example");
  await mkdir(base, { recursive: true, mode: 0o700 });
  await mkdir(overlay, { recursive: true });
  const header = (what: string) =>
    `# ${what} of the Cairn chain ${r.chainId} (written by \`cairn testnet --k8s\`; docs/kubernetes.md).\n`;
  for (const [file, objects] of files) {
    const text = objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
    await writeFile(join(base, file), `${header(file.replace(/\.yaml$/, ""))}${text}`, { flag: "wx", mode: 0o600 });
  }
  await writeFile(
    join(base, "kustomization.yaml"),
    `${header("The base")}${stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: files.map(([f]) => f),
    })}`,
    { flag: "wx" },
  );
  const ns = opts.namespace ?? DEFAULT_NAMESPACE;
  await writeFile(
    join(overlay, "namespace.yaml"),
    stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }),
    { flag: "wx" },
  );
  await writeFile(
    join(overlay, "kustomization.yaml"),
    `${header("An example overlay (namespace, image tag)")}${stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: ns,
      resources: ["namespace.yaml", "../../base"],
      images: [{ name: imageName, newName: imageName, newTag: tag }],
    })}`,
    { flag: "wx" },
  );
  const objects = files.flatMap(([, o]) => o);
  const summary = [
    `Wrote a ${validators}-validator chain (${r.chainId}) for Kubernetes to ${dir}`,
    `  base/: ${files.map(([f]) => f).join(", ")}`,
    `  overlays/example/: namespace ${ns}, image ${imageName}:${tag}`,
    `Render it: kubectl kustomize ${join(dir, "overlays", "example")}`,
    `Deploy it: kubectl apply -k ${join(dir, "overlays", "example")}   (image built with cairn docker build and loaded into the cluster)`,
    `Client keys (never in the cluster) are in ${join(out, "keys")}`,
  ];
  return { ...r, dir, objects, summary };
}
