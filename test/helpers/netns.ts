// Network namespaces for the partition test, built on @cairn/bench's net lab (one namespace per
// node, every packet between nodes through one router namespace; a partition is blackhole rules in
// the router): here the nodes are split into two fixed sides. Needs root and iproute2; nothing is
// sent outside the namespaces made here.
import { createNetLab as createLab, netnsUnavailable } from "@cairn/bench";

export { netnsUnavailable };

export interface NetLab {
  /** Namespace, address and side of node i. */
  readonly nodes: readonly { readonly netns: string; readonly ip: string; readonly side: 0 | 1 }[];
  /** Cuts every path between side 0 and side 1 (both directions). */
  partition(): void;
  heal(): void;
  destroy(): void;
}

/** Makes `n` node namespaces; nodes listed in `side1` are on one side, the rest on the other. */
export function createNetLab(n: number, side1: readonly number[], tag: string): NetLab {
  const lab = createLab(n, tag);
  const sideOf = (i: number): 0 | 1 => (side1.includes(i) ? 1 : 0);
  const indices = Array.from({ length: n }, (_, i) => i);
  const groups = [indices.filter((i) => sideOf(i) === 0), indices.filter((i) => sideOf(i) === 1)];
  return {
    nodes: lab.nodes.map((node, i) => ({ ...node, side: sideOf(i) })),
    partition: () => lab.partition(groups),
    heal: () => lab.heal(),
    destroy: () => lab.destroy(),
  };
}
