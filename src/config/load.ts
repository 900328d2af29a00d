/** Reads a cluster file: YAML → schema → semantic rules → resolved model, or every problem at once. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, FileError, type Problem } from '../errors/index.js';
import { ClusterFileSchema, type ClusterFile } from './schema.js';
import { schemaProblems } from './schema-problems.js';
import { validateCluster } from './validate.js';
import { buildCluster, type Cluster } from './model.js';
import { readPatchDirectory } from './patches.js';
import { kubernetesMinor } from '../kubeadm/versions.js';
import { formatPath, parseYamlWithLines, YamlSyntaxError, type PathSegment } from './yaml-lines.js';

/** Cluster files are small; anything bigger is a mistake (or an alias bomb). */
const MAX_FILE_BYTES = 1 << 20;
const MAX_VALUES = 100_000;

export interface LoadedCluster {
  path: string;
  file: ClusterFile;
  cluster: Cluster;
}

export async function loadClusterFile(path: string): Promise<LoadedCluster> {
  let text: string;
  try {
    const buffer = await readFile(path);
    if (buffer.length > MAX_FILE_BYTES) throw new ConfigError(path, [{ path: '', message: `is ${buffer.length} bytes; a cluster file may be at most 1 MiB` }]);
    text = buffer.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file; pass the cluster file with -i FILE' : code === 'EISDIR' ? 'is a directory, not a cluster file' : String((error as Error).message);
    throw new FileError(path, reason, { cause: error });
  }
  const file = parseClusterFile(text, path);
  const directory = file.spec.patches?.directory;
  const patches = directory === undefined ? [] : await readPatchDirectory(resolve(dirname(path), directory));
  const cluster = buildCluster(file, patches);
  const coredns = patches.find((p) => p.target === 'corednsdeployment');
  if (coredns && cluster.dns.disabled) throw new ConfigError(coredns.file, [{ path: '', message: `patches the CoreDNS Deployment, which ${path} switches off (spec.dns.disabled); remove the file or the setting` }]);
  // kubeadm has the corednsdeployment target from v1.31; v1.30's would skip the file.
  if (coredns && kubernetesMinor(cluster.kubernetesVersion) < 31) throw new ConfigError(coredns.file, [{ path: '', message: `patches the CoreDNS Deployment, which kubeadm can from v1.31 only (${path} sets ${cluster.kubernetesVersion}); remove the file or use v1.31 or later` }]);
  return { path, file, cluster };
}

/**
 * Parses and validates cluster file text; throws ConfigError listing every problem. `skipRules`
 * (names in validate.ts's RULES) is for a partial view of a cluster, such as a worker joining a
 * kubeadm cluster, which knows no control plane by name.
 */
export function parseClusterFile(text: string, path: string, options: { skipRules?: readonly string[] } = {}): ClusterFile {
  let located;
  try {
    located = parseYamlWithLines(text);
  } catch (error) {
    if (error instanceof YamlSyntaxError) throw new ConfigError(path, [{ path: '', message: `YAML syntax error: ${error.reason}`, line: error.line }]);
    throw error;
  }
  const { value } = located;
  const lineOf = (path: PathSegment[]) => located.lineOf(path);
  const problem = (p: { path: PathSegment[]; message: string }): Problem => ({ path: formatPath(p.path), message: p.message, line: lineOf(p.path) });

  if (countValues(value, MAX_VALUES) > MAX_VALUES) {
    throw new ConfigError(path, [{ path: '', message: `expands to more than ${MAX_VALUES} values (YAML aliases?); a cluster file is far smaller` }]);
  }
  const foreign = nonJsonValues(value);
  if (foreign.length > 0) {
    throw new ConfigError(
      path,
      foreign.map((p) => problem({ path: p, message: 'is a YAML !!binary, !!timestamp or similar typed value; write it as a plain (quoted) string, number or list' })),
    );
  }
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(path, [{ path: '', message: 'is not a cluster file: expected a mapping with apiVersion, kind, metadata and spec', line: 1 }]);
  }
  dropEmptySections(ClusterFileSchema, value);
  const problems = schemaProblems(ClusterFileSchema, value, lineOf);
  // Unknown fields are the usual schema problem (a typo): drop them and still run the semantic rules,
  // so a user sees the typo and, say, an overlapping range in one go.
  const cleaned = Value.Clean(ClusterFileSchema, structuredClone(value));
  if (Value.Check(ClusterFileSchema, cleaned)) {
    problems.push(...validateCluster(cleaned, options.skipRules).map(problem));
  }
  if (problems.length > 0) throw new ConfigError(path, sortProblems(problems));
  return value as ClusterFile;
}

/** A section whose fields are all commented out parses as null; treat it as absent, not as a type error. */
function dropEmptySections(schema: TSchema, value: unknown): void {
  const s = schema as TSchema & { properties?: Record<string, TSchema>; items?: TSchema; type?: string; required?: string[] };
  if (Array.isArray(value)) {
    if (s.items) for (const item of value) dropEmptySections(s.items, item);
    return;
  }
  if (value === null || typeof value !== 'object' || !s.properties) return;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(s.properties)) {
    const childType = (child as { type?: string }).type;
    if (record[key] === null && (childType === 'object' || childType === 'array') && !(s.required ?? []).includes(key)) delete record[key];
    else dropEmptySections(child, record[key]);
  }
}

function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** Paths of values that are not plain YAML-as-JSON (js-yaml turns !!binary into bytes, !!timestamp into a Date, !!set…). */
function nonJsonValues(root: unknown): PathSegment[][] {
  const found: PathSegment[][] = [];
  const visit = (value: unknown, at: PathSegment[]): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, [...at, i]));
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return void found.push(at);
    for (const [k, v] of Object.entries(value)) visit(v, [...at, k]);
  };
  visit(root, []);
  return found;
}

/** Counts values reachable from `root`, stopping once past `limit` (aliases can make this explode). */
function countValues(root: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    count++;
    if (v !== null && typeof v === 'object') {
      const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
      for (const c of children) stack.push(c);
    }
  }
  return count;
}
