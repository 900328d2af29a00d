/**
 * Parses YAML with js-yaml and remembers the line of every mapping key and sequence item,
 * so a problem found later in the parsed value can name the line it came from.
 * Uses js-yaml's `listener` (open/close per composed node); no YAML is parsed by hand.
 */
import yaml from 'js-yaml';

export type PathSegment = string | number;

interface NodeFrame {
  /** 0-based line where the node starts. */
  line: number;
  kind: string | null;
  result: unknown;
  children: NodeFrame[];
}

export interface LocatedYaml {
  value: unknown;
  /** 1-based line of the deepest part of `path` found in the source. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export class YamlSyntaxError extends Error {
  constructor(
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(reason);
  }
}

interface ListenerState {
  line: number;
  kind: string | null;
  result: unknown;
}

export function parseYamlWithLines(text: string): LocatedYaml {
  const root: NodeFrame = { line: 0, kind: null, result: undefined, children: [] };
  const stack: NodeFrame[] = [root];
  let value: unknown;
  try {
    value = yaml.load(text, {
      // DEFAULT_SCHEMA so users may share ssh settings between hosts with anchors and `<<` merge keys.
      schema: yaml.DEFAULT_SCHEMA,
      listener(event: 'open' | 'close', state: ListenerState) {
        if (event === 'open') {
          stack.push({ line: state.line, kind: null, result: undefined, children: [] });
          return;
        }
        const frame = stack.pop();
        if (!frame) return;
        frame.kind = state.kind;
        frame.result = state.result;
        stack[stack.length - 1]?.children.push(frame);
      },
    });
  } catch (error) {
    if (error instanceof yaml.YAMLException) {
      const line = error.mark ? error.mark.line + 1 : undefined;
      throw new YamlSyntaxError(line, error.reason || error.message);
    }
    throw error;
  }
  const top = root.children[0];
  return { value, lineOf: (path) => (top ? locate(top, path) : undefined) };
}

function locate(top: NodeFrame, path: readonly PathSegment[]): number | undefined {
  let node: NodeFrame = top;
  let line = top.line + 1;
  for (const segment of path) {
    const next = child(node, segment);
    if (!next) break;
    line = next.keyLine + 1;
    node = next.node;
  }
  return line;
}

function child(node: NodeFrame, segment: PathSegment): { keyLine: number; node: NodeFrame } | undefined {
  if (node.kind === 'mapping') {
    for (let i = 0; i + 1 < node.children.length; i += 2) {
      const key = node.children[i]!;
      if (String(key.result) === String(segment)) return { keyLine: key.line, node: node.children[i + 1]! };
    }
    return undefined;
  }
  if (node.kind === 'sequence' && typeof segment === 'number') {
    const item = node.children[segment];
    return item ? { keyLine: item.line, node: item } : undefined;
  }
  return undefined;
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}
