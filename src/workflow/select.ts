/** Which phases of a tree run, from `phase <path>` and `--skip-phases`: one pure function. */
import { UsageError } from '../errors/index.js';
import { closest } from '../util/suggest.js';
import type { LeafPhase, Phase } from './types.js';

export interface Selection {
  /** Run only this subtree (kbuild apply phase <path>). */
  only?: string;
  /** Skip these subtrees; a parent skips its children. */
  skip?: readonly string[];
}

/** Every phase path in tree order, parents before their children. */
export function phasePaths<C>(tree: readonly Phase<C>[], prefix = ''): string[] {
  return tree.flatMap((p) => {
    const path = prefix ? `${prefix}/${p.name}` : p.name;
    return [path, ...phasePaths(p.children ?? [], path)];
  });
}

/** The runnable phases (leaves, and parents with their own step) selected, in execution order. */
export function selectPhases<C>(tree: readonly Phase<C>[], selection: Selection = {}): LeafPhase<C>[] {
  const known = phasePaths(tree);
  const normalise = (path: string) => path.trim().replace(/^\/+|\/+$/g, '');
  const check = (path: string, flag: string) => {
    if (known.includes(path)) return;
    const guess = closest(path, known);
    throw new UsageError(`${flag}: unknown phase "${path}"${guess ? `; did you mean "${guess}"?` : ''}. Phases: ${known.join(', ')}`);
  };
  const only = selection.only === undefined ? undefined : normalise(selection.only);
  if (only !== undefined) check(only, 'phase');
  const skip = (selection.skip ?? []).flatMap((s) => s.split(',')).map(normalise).filter(Boolean);
  skip.forEach((s) => check(s, '--skip-phases'));
  const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`);
  const out: LeafPhase<C>[] = [];
  const walk = (phases: readonly Phase<C>[], prefix: string) => {
    for (const phase of phases) {
      const path = prefix ? `${prefix}/${phase.name}` : phase.name;
      if (skip.some((s) => within(path, s))) continue;
      const selected = only === undefined || within(path, only) || within(only, path);
      if (!selected) continue;
      const runsItself = phase.run !== undefined || phase.runOnce !== undefined;
      if (runsItself && (only === undefined || within(path, only))) out.push({ path, phase });
      walk(phase.children ?? [], path);
    }
  };
  walk(tree, '');
  return out;
}

/** The phase list for --help: indented paths with descriptions. */
export function describePhases<C>(tree: readonly Phase<C>[], indent = ''): string {
  return tree
    .map((p) => `${indent}${p.name.padEnd(Math.max(1, 26 - indent.length))}${p.description}\n${describePhases(p.children ?? [], `${indent}  `)}`)
    .join('');
}
