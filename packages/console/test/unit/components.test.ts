// The map's catalogue: the 22 components of FG DLT (../shared/reference/fg-dlt.md), each with a
// unique slug, a home in Cairn and figures it can draw from an empty snapshot without failing.
import { describe, expect, it } from "vitest";
import { COMPONENTS, LAYERS } from "../../src/app/components.ts";
import type { Snapshot } from "../../src/app/monitor.ts";

const EMPTY: Snapshot = { rates: {}, events: [], lines: [], nodes: [], readsNeedKey: false, updatedAt: 0 };

describe("the architecture map's components", () => {
  it("are the 22 components of the reference architecture, in its four layers", () => {
    expect(COMPONENTS).toHaveLength(22);
    expect(new Set(COMPONENTS.map((c) => c.slug)).size).toBe(22);
    for (const c of COMPONENTS) {
      expect(LAYERS).toContain(c.layer);
      expect(c.slug).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(c.where.length).toBeGreaterThan(5);
      expect(c.figures(EMPTY).length).toBeGreaterThan(0);
    }
    const groups = (layer: string) => new Set(COMPONENTS.filter((c) => c.layer === layer).map((c) => c.group));
    expect(groups("Core")).toEqual(new Set(["Ledger", "Consistency", "Smart contract"]));
    expect(groups("Infrastructure")).toEqual(new Set(["Network", "Utility", "Data persistence", "Messaging"]));
    expect(groups("Cross-layer")).toEqual(new Set(["Operation & maintenance", "System management"]));
  });
});
