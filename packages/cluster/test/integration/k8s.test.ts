// `cairn testnet --k8s` without a cluster (none can run on these machines): every object the base
// and the rendered overlay hold is checked against the Kubernetes schemas (kubernetes-models'
// validators, the API's OpenAPI definitions), and the layout is rendered with `kubectl kustomize`
// where kubectl is installed. What a node in a pod needs is checked from the objects themselves.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Script } from "node:vm";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { createK8sTestnet, type K8sTestnetResult } from "../../src/index.ts";

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  "apps/v1/StatefulSet": StatefulSet,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Namespace": Namespace,
};

/** Validates an object against its kind's schema; throws with the schema's message. */
function validate(o: Obj): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

const docs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJSON() as Obj);

function kubectl(): boolean {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let dir: string;
let r: K8sTestnetResult;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-k8s-"));
  r = await createK8sTestnet({
    validators: 4,
    observers: 2,
    out: join(dir, "net"),
    image: "registry.example/cairn-node:1.2.3",
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("cairn testnet --k8s", () => {
  it("writes a kustomize base whose every object is valid against the Kubernetes schemas", () => {
    const base = join(r.dir, "base");
    const files = readdirSync(base).filter((f) => f !== "kustomization.yaml");
    const written = files.flatMap((f) => docs(readFileSync(join(base, f), "utf8")));
    expect(written).toHaveLength(r.objects.length);
    for (const o of written) validate(o);
    const kinds = written.map((o) => `${o.kind}/${o.metadata.name}`);
    for (let i = 0; i < 4; i++) {
      expect(kinds).toEqual(
        expect.arrayContaining([
          `StatefulSet/cairn-node${i}`,
          `Service/cairn-node${i}`,
          `ConfigMap/cairn-node${i}-config`,
          `Secret/cairn-node${i}-keys`,
        ]),
      );
    }
    expect(kinds).toEqual(
      expect.arrayContaining(["ConfigMap/cairn-genesis", "Service/cairn-api", "StatefulSet/cairn-observer"]),
    );
    const kustomization = docs(readFileSync(join(base, "kustomization.yaml"), "utf8"))[0] as Obj;
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  it("gives each validator a stable identity, its volume claim, probes, resources, non-root and scrape annotations", () => {
    const set = r.objects.find((o) => o.metadata.name === "cairn-node2" && o.kind === "StatefulSet") as Obj;
    expect(set.spec.replicas).toBe(1);
    expect(set.spec.serviceName).toBe("cairn-node2");
    expect(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("10Gi");
    const pod = set.spec.template;
    expect(pod.metadata.annotations["prometheus.io/scrape"]).toBe("true");
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    const c = pod.spec.containers[0];
    expect(c.image).toBe("registry.example/cairn-node:1.2.3");
    expect(c.readinessProbe.httpGet.path).toBe("/ready");
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.resources.requests).toEqual({ cpu: "500m", memory: "512Mi" });
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual([
      "/cairn/data",
      "/cairn/config.json",
      "/cairn/genesis.json",
      "/cairn/keys",
    ]);
    const api = r.objects.find((o) => o.metadata.name === "cairn-api") as Obj;
    expect(api.spec.ports[0].port).toBe(26657);
    const headless = r.objects.find((o) => o.metadata.name === "cairn-node2" && o.kind === "Service") as Obj;
    expect(headless.spec.clusterIP).toBe("None");
  });

  it("puts each node's keys in its Secret and a config that finds its peers by their pods' DNS names", () => {
    const cm = r.objects.find((o) => o.metadata.name === "cairn-node1-config") as Obj;
    const config = JSON.parse(cm.data["config.json"]);
    expect(config.api).toMatchObject({ host: "0.0.0.0", port: 26657 });
    expect(config.p2p.listen).toBe("/ip4/0.0.0.0/tcp/26656");
    expect(config.p2p.bootstrap[0]).toMatch(/^\/dns4\/cairn-node0-0\.cairn-node0\/tcp\/26656\/p2p\/12D3KooW/);
    expect(config.p2p.bootstrap).toHaveLength(5);
    expect(config.p2p.bootstrap.at(-1)).toMatch(/^\/dns4\/cairn-observer-1\.cairn-observer\/tcp\/26656\/p2p\//);
    const keys = r.objects.find((o) => o.metadata.name === "cairn-node1-keys") as Obj;
    const validator = Buffer.from(keys.data["validator.json"], "base64").toString();
    expect(validator).toBe(readFileSync(join(r.homes[1] as string, "keys", "validator.json"), "utf8"));
    expect(Object.keys(keys.data).sort()).toEqual(["peer.key", "validator.json"]);
    // Client and admin keys stay out of the cluster.
    for (const o of r.objects.filter((x) => x.kind === "Secret")) {
      expect(Object.keys(o.data as object).some((k) => k.includes("admin"))).toBe(false);
    }
  });

  it("runs observers as one scalable StatefulSet whose init step picks each pod's identity", () => {
    const set = r.objects.find((o) => o.metadata.name === "cairn-observer" && o.kind === "StatefulSet") as Obj;
    expect(set.spec.replicas).toBe(2);
    const init = set.spec.template.spec.initContainers[0];
    expect(init.command.slice(0, 2)).toEqual(["node", "-e"]);
    expect(() => new Script(init.command[2])).not.toThrow();
    // Run it as the pod would, its volumes under a temporary root: observer 1 gets observer 1's home.
    const root = mkdtempSync(join(tmpdir(), "cairn-k8s-init-"));
    const mount = (name: string, data: Record<string, string>, base64: boolean) => {
      mkdirSync(join(root, name));
      for (const [f, v] of Object.entries(data))
        writeFileSync(join(root, name, f), base64 ? Buffer.from(v, "base64") : v);
    };
    const find = (name: string) => r.objects.find((o) => o.metadata.name === name) as Obj;
    mount("observers", find("cairn-observer-config").data, false);
    mount("observer-keys", find("cairn-observer-keys").data, true);
    mount("genesis", find("cairn-genesis").data, false);
    mkdirSync(join(root, "home-out"));
    const script = (init.command[2] as string).replaceAll("'/", `'${root}/`);
    execFileSync(process.execPath, ["-e", script], { env: { ...process.env, POD_NAME: "cairn-observer-1" } });
    const home = join(root, "home-out");
    expect(readFileSync(join(home, "keys", "peer.key"), "utf8")).toBe(
      readFileSync(join(r.homes[5] as string, "keys", "peer.key"), "utf8"),
    );
    const observerConfig = JSON.parse(readFileSync(join(home, "config.json"), "utf8"));
    expect(observerConfig.moniker).toBe("observer1");
    // Observers scaled up later join by state sync (docs/state-sync.md).
    expect(observerConfig.stateSync.enable).toBe(true);
    // A pod beyond the identities written stops with a message that says what to do.
    const beyond = (() => {
      try {
        execFileSync(process.execPath, ["-e", script], {
          env: { ...process.env, POD_NAME: "cairn-observer-2" },
          stdio: "pipe",
        });
        return "";
      } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
      }
    })();
    expect(beyond).toContain("observer 2 has no identity");
    rmSync(root, { recursive: true, force: true });
    const keys = r.objects.find((o) => o.metadata.name === "cairn-observer-keys") as Obj;
    expect(Object.keys(keys.data).sort()).toEqual([
      "observer0-peer.key",
      "observer0-validator.json",
      "observer1-peer.key",
      "observer1-validator.json",
    ]);
  });

  it.skipIf(!kubectl())(
    "renders with kubectl kustomize: the overlay's namespace and image tag, every object valid",
    () => {
      const rendered = docs(
        execFileSync("kubectl", ["kustomize", join(r.dir, "overlays", "example")], { encoding: "utf8" }),
      );
      expect(rendered).toHaveLength(r.objects.length + 1);
      for (const o of rendered) validate(o);
      for (const o of rendered.filter((x) => x.kind !== "Namespace")) expect(o.metadata.namespace).toBe("cairn");
      const sets = rendered.filter((o) => o.kind === "StatefulSet");
      for (const s of sets) expect(s.spec.template.spec.containers[0].image).toBe("registry.example/cairn-node:1.2.3");
    },
  );

  it("refuses a bad namespace, storage size or image with a clear error", async () => {
    const out = (n: string) => join(dir, n);
    await expect(createK8sTestnet({ validators: 1, out: out("a"), namespace: "Bad_NS" })).rejects.toMatchObject({
      code: "BAD_NAMESPACE",
    });
    await expect(createK8sTestnet({ validators: 1, out: out("b"), storage: "ten" })).rejects.toMatchObject({
      code: "BAD_STORAGE",
    });
    await expect(createK8sTestnet({ validators: 1, out: out("c"), image: "Not An Image" })).rejects.toMatchObject({
      code: "BAD_IMAGE",
    });
  });
});
