// The Docker cluster generator (`cairn testnet --docker`) without a Docker engine: what is written,
// and where. test/e2e/docker.test.ts runs it for real.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDockerTestnet, projectName, subnetPlan } from "../../src/docker.ts";

const root = mkdtempSync(join(tmpdir(), "cairn-docker-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("subnetPlan and projectName", () => {
  it("puts node i at .10+i, the gateway at .1, unfixed containers in the upper half", () => {
    const p = subnetPlan("10.213.7.99/24");
    expect(p.subnet).toBe("10.213.7.0/24");
    expect(p.gateway).toBe("10.213.7.1");
    expect([p.nodeIp(0), p.nodeIp(3), p.nodeIp(63)]).toEqual(["10.213.7.10", "10.213.7.13", "10.213.7.73"]);
    expect(p.ipRange).toBe("10.213.7.128/25");
    expect(subnetPlan("172.30.0.0/16").nodeIp(1)).toBe("172.30.0.11");
  });

  it("refuses what is not an IPv4 network of /16 to /24", () => {
    for (const bad of ["10.213.0.0", "10.213.0.0/25", "10.213.0.0/8", "10.213.300.0/24", "fd00::/64"]) {
      expect(() => subnetPlan(bad), bad).toThrow(/--subnet/);
    }
  });

  it("names the Compose project after the directory", () => {
    expect(projectName(".cairn/docker")).toBe("cairn-docker");
    expect(projectName("/tmp/My Net!")).toBe("cairn-my-net");
    expect(projectName("cairn-lab")).toBe("cairn-lab");
  });
});

describe("createDockerTestnet", () => {
  it("writes homes whose libp2p addresses are the containers' and whose APIs are the published ports, and a Compose file", async () => {
    const out = join(root, "net");
    const r = await createDockerTestnet({
      validators: 4,
      observers: 1,
      out,
      basePort: 27600,
      subnet: "10.213.9.0/24",
      project: "cairn-unit",
    });
    expect(r.cluster.nodes.map((n) => [n.name, n.role, n.ip, n.url])).toEqual([
      ["node0", "validator", "10.213.9.10", "http://127.0.0.1:27600"],
      ["node1", "validator", "10.213.9.11", "http://127.0.0.1:27601"],
      ["node2", "validator", "10.213.9.12", "http://127.0.0.1:27602"],
      ["node3", "validator", "10.213.9.13", "http://127.0.0.1:27603"],
      ["observer0", "observer", "10.213.9.14", "http://127.0.0.1:27604"],
    ]);

    const config = JSON.parse(readFileSync(join(out, "node1", "config.json"), "utf8"));
    expect(config.api).toEqual({ host: "127.0.0.1", port: 27601 });
    expect(config.p2p.listen).toBe("/ip4/10.213.9.11/tcp/26656");
    expect(config.p2p.bootstrap).toHaveLength(4);
    expect(config.p2p.bootstrap[0]).toMatch(/^\/ip4\/10\.213\.9\.10\/tcp\/26656\/p2p\/12D3Koo/);

    const compose = readFileSync(join(out, "docker-compose.yml"), "utf8");
    for (const s of [
      "  node0:\n",
      "  observer0:\n",
      'container_name: "cairn-unit-node3"',
      '"127.0.0.1:27603:27603"',
      'ipv4_address: "10.213.9.13"',
      '"./node2/keys:/cairn/keys:ro"',
      '"node2-data:/cairn/data"',
      'name: "cairn-unit-node2-data"',
      'name: "cairn-unit-net"',
      '- subnet: "10.213.9.0/24"',
      'profiles: ["monitoring"]',
    ]) {
      expect(compose).toContain(s);
    }
    // No tabs; list items are quoted strings, or the one mapping under ipam.config.
    expect(compose).not.toContain("\t");
    expect(compose.match(/^\s+- [^"]/gm)).toEqual(["        - s"]);
    expect(readFileSync(join(out, ".env"), "utf8")).toBe("COMPOSE_PROJECT_NAME=cairn-unit\n");
    expect(JSON.parse(readFileSync(join(out, "docker.json"), "utf8"))).toEqual(r.cluster);

    const prometheus = readFileSync(join(out, "monitoring", "prometheus.yml"), "utf8");
    expect(prometheus).toContain('- targets: ["observer0:27604"]');
    expect(existsSync(join(out, "monitoring", "grafana", "dashboards", "cairn-dashboard.json"))).toBe(true);
    expect(
      readFileSync(join(out, "monitoring", "grafana", "provisioning", "datasources", "cairn.yml"), "utf8"),
    ).toContain("url: http://prometheus:9090");

    // The image's user must be able to read the keys (mode 600): as root, the homes are given to it.
    const owner = statSync(join(out, "node0", "keys", "validator.json")).uid;
    const uid = process.getuid?.();
    if (uid === 0) expect(owner).toBe(1000);
    else if (uid !== 1000) expect(compose).toContain(`user: "${uid}:0"`);
  });

  it("refuses a directory that already holds a cluster", async () => {
    await expect(createDockerTestnet({ validators: 1, out: join(root, "net") })).rejects.toThrow(/already holds/);
  });
});
