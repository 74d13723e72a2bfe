import { configError } from '../errors';

/** What the install order needs to know of one feature. */
export interface OrderNode {
  /** The reference without its tag or digest (`ghcr.io/o/f/node`, `./features/x`): how others name it. */
  key: string;
  /** Also matched: the manifest id (`node`), the name local features are known by. */
  id: string;
  dependsOn: string[];
  installsAfter: string[];
}

/** `registry/ns/f:1` and `registry/ns/f@sha256:...` name the same feature as `registry/ns/f`; a tarball URL is its own name. */
export function withoutVersion(ref: string): string {
  if (/^https?:\/\//i.test(ref)) return ref;
  const at = ref.indexOf('@');
  if (at > 0) return ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

/**
 * The install order, in rounds as the reference CLI computes it: a feature after everything it
 * `dependsOn` (hard) and after what it `installsAfter` when that is in the set (soft); within a
 * round (all features whose predecessors are installed), the ones `overrideFeatureInstallOrder`
 * names first, in its order, then in the order devcontainer.json lists them. A cycle is an error
 * naming the features in it.
 */
export function installOrder<T extends OrderNode>(nodes: T[], override: string[], file: string): T[] {
  const find = (name: string) => nodes.find((n) => n.key === withoutVersion(name) || n.id === name);
  const before = new Map<T, Set<T>>(nodes.map((n) => [n, new Set<T>()]));
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      const target = find(dep);
      if (!target) throw configError(`feature ${node.key} depends on ${dep}, which is not resolved`, { file, key: 'features' });
      before.get(node)!.add(target);
    }
    for (const after of node.installsAfter) {
      const target = find(after);
      if (target && target !== node) before.get(node)!.add(target);
    }
  }
  for (const [i, name] of override.entries()) {
    if (!find(name)) throw configError(`"${name}" is not one of the features`, { file, key: `overrideFeatureInstallOrder[${i}]` });
  }
  const priority = (n: T) => {
    const i = override.findIndex((name) => find(name) === n);
    return i < 0 ? override.length : i;
  };
  const order: T[] = [];
  const left = new Set(nodes);
  while (left.size > 0) {
    const ready = [...left].filter((n) => [...before.get(n)!].every((b) => !left.has(b)));
    if (ready.length === 0) {
      throw configError(`the features depend on each other in a cycle: ${[...left].map((n) => n.key).join(', ')}`, {
        file,
        key: 'features',
        description: 'Check dependsOn and installsAfter in their devcontainer-feature.json files.',
      });
    }
    // One round: everything whose features before it are installed.
    for (const next of ready.sort((a, b) => priority(a) - priority(b) || nodes.indexOf(a) - nodes.indexOf(b))) {
      order.push(next);
      left.delete(next);
    }
  }
  return order;
}
