/**
 * spec.patches.directory: kubeadm's patches directory (v1beta4 Init/JoinConfiguration.patches). A file
 * is `target[suffix][+strategic|merge|json].{yaml,json}`; every file under the directory (its
 * subdirectories too), in lexical path order, as kubeadm's filepath.Walk reads them; each YAML
 * document of a file is one patch. Read here with the cluster file, so every command that renders a
 * manifest (render, apply, init, join) applies the same patches; applied by render/patches.ts.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import yaml from 'js-yaml';
import jsonPatch from 'fast-json-patch';
import { ConfigError, FileError, type Problem } from '../errors/index.js';
import { closest } from '../util/suggest.js';

/** kubeadm's known targets (util/patches knownTargets), in its order. */
export const PATCH_TARGETS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeletconfiguration', 'corednsdeployment'] as const;
export type PatchTarget = (typeof PATCH_TARGETS)[number];
export const PATCH_TYPES = ['json', 'merge', 'strategic'] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export interface PatchDocument {
  /** The document's first line in its file, for messages. */
  line: number;
  value: unknown;
}

/** One file of the directory: what it patches, how, and its patches in file order. */
export interface PatchFile {
  file: string;
  target: PatchTarget;
  type: PatchType;
  patches: PatchDocument[];
}

/** More than this many files, or bigger files, is not a patches directory. */
const MAX_FILES = 1000;
const MAX_FILE_BYTES = 1 << 20;

/** kubeadm's target, suffix, "+" and type of a file name. */
const FILE_NAME = new RegExp(`^(${PATCH_TARGETS.join('|')})([^.+\\n]*)?(\\+)?(${PATCH_TYPES.join('|')})?`);

/**
 * A file's target and type from its name, as kubeadm's parseFilename: undefined for a file kubeadm
 * ignores (another extension). A .yaml/.json file named for no target is a mistake kubeadm only
 * mentions in its output: here it is an error with the target meant.
 */
export function parsePatchFileName(name: string): { target: PatchTarget; type: PatchType } | { problem: string } | undefined {
  if (!/.+\.(json|yaml)$/.test(name)) return undefined;
  const match = FILE_NAME.exec(name);
  if (!match) {
    const stem = name.replace(/\.(json|yaml)$/, '').split(/[+.]/)[0]!;
    const guess = closest(stem, PATCH_TARGETS);
    return { problem: `names no patch target${guess ? ` (did you mean ${guess}?)` : ''}: a patch file is target[suffix][+strategic|merge|json].yaml with target one of ${PATCH_TARGETS.join(', ')}; rename it, or move it out of the patches directory` };
  }
  if (match[3] && !match[4]) {
    const after = name.slice(name.indexOf('+') + 1).replace(/\.(json|yaml)$/, '');
    const guess = closest(after, PATCH_TYPES);
    return { problem: `has no patch type after "+"${guess ? ` (did you mean +${guess}?)` : ''}: one of ${PATCH_TYPES.join(', ')}; without "+" a patch is strategic` };
  }
  return { target: match[1] as PatchTarget, type: (match[4] as PatchType | undefined) ?? 'strategic' };
}

const BOOL_TRUE = /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const BOOL_FALSE = /^(?:n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$/;

/** An integer as go-yaml v2 reads a plain scalar (underscores dropped, then Go's ParseInt base 0: 0x, 0o, 0b, a leading 0 is octal). */
function goInteger(text: string): number | undefined {
  const match = /^([-+]?)(?:0x([0-9a-fA-F]+)|0o([0-7]+)|0b([01]+)|0([0-7]+)|(0|[1-9][0-9]*))$/.exec(text.replaceAll('_', ''));
  if (!match) return undefined;
  const [, sign, hex, octal, binary, leadingZero, decimal] = match;
  const magnitude = hex !== undefined ? parseInt(hex, 16) : octal !== undefined ? parseInt(octal, 8) : binary !== undefined ? parseInt(binary, 2) : leadingZero !== undefined ? parseInt(leadingZero, 8) : Number(decimal);
  return sign === '-' ? -magnitude : magnitude;
}

/**
 * YAML as kubeadm reads a patch (sigs.k8s.io/yaml, go-yaml v2: YAML 1.1): yes/no/on/off are booleans,
 * 0644 is octal, 1_000 is 1000, so `failSwapOn: no` or `defaultMode: 0644` mean what they mean to kubeadm.
 */
// js-yaml exports its built-in types as `types`; @types/js-yaml does not declare them.
const builtIn = (yaml as unknown as { types: Record<'null' | 'float' | 'merge', yaml.Type> }).types;
const KUBEADM_YAML = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    builtIn.null,
    new yaml.Type('tag:yaml.org,2002:bool', { kind: 'scalar', resolve: (text: string) => BOOL_TRUE.test(text) || BOOL_FALSE.test(text), construct: (text: string) => BOOL_TRUE.test(text) }),
    new yaml.Type('tag:yaml.org,2002:int', { kind: 'scalar', resolve: (text: string) => goInteger(text) !== undefined, construct: (text: string) => goInteger(text) }),
    builtIn.float,
    builtIn.merge,
  ],
});

/**
 * The YAML documents of a patch file with their first lines, split as Kubernetes' YAMLReader does
 * (a line that starts with "---" followed by nothing but blanks or a comment); empty ones dropped.
 */
export function patchDocuments(text: string, file: string): PatchDocument[] {
  const lines = text.split('\n');
  const chunks: Array<{ line: number; text: string }> = [];
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    const line = lines[i];
    const boundary = line !== undefined && line.startsWith('---') && /^(\s*(#.*)?)?$/.test(line.slice(3));
    if (line === undefined || boundary) {
      chunks.push({ line: start + 1, text: lines.slice(start, i).join('\n') });
      start = i + 1;
    }
  }
  const problems: Problem[] = [];
  const documents: PatchDocument[] = [];
  for (const chunk of chunks) {
    if (chunk.text.trim() === '') continue;
    const offset = chunk.text.length - chunk.text.trimStart().length;
    const line = chunk.line + (chunk.text.slice(0, offset).match(/\n/g)?.length ?? 0);
    try {
      const value = yaml.load(chunk.text, { schema: KUBEADM_YAML, filename: file });
      if (value !== null && value !== undefined) documents.push({ line, value });
    } catch (error) {
      const mark = (error as { mark?: { line: number } }).mark;
      problems.push({ path: '', message: `YAML syntax error: ${(error as { reason?: string }).reason ?? (error as Error).message}`, line: mark ? chunk.line + mark.line : line });
    }
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return documents;
}

/** The path of a `__proto__` key in a value (JavaScript would treat it as the object's prototype), if any. */
function prototypeKey(value: unknown, at = ''): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') return `${at}/${k}`;
    const found = prototypeKey(v, `${at}/${k}`);
    if (found) return found;
  }
  return undefined;
}

/** Every patch must have its type's shape: a mapping (strategic, merge) or a list of RFC 6902 operations (json). */
function shapeProblems(file: PatchFile): Problem[] {
  const problems: Problem[] = [];
  for (const { line, value } of file.patches) {
    const proto = prototypeKey(value);
    if (proto) {
      problems.push({ path: '', message: `${proto}: a key named __proto__ is no field of any Kubernetes object`, line });
      continue;
    }
    if (file.type === 'json') {
      if (!Array.isArray(value)) {
        problems.push({ path: '', message: 'a +json patch is a list of operations ({ op, path, value }), this document is not a list', line });
        continue;
      }
      const error = jsonPatch.validate(value as never);
      if (error) problems.push({ path: '', message: `operation ${error.index ?? 0}: ${error.message.split('\n')[0]}`, line });
    } else if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ path: '', message: `a ${file.type} patch is a mapping of the fields it sets${Array.isArray(value) ? ' (a list of operations is a +json patch: name the file target+json.yaml)' : ''}`, line });
    }
  }
  return problems;
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    // Lexical order of each directory's names, as Go's filepath.Walk.
    const entries = (await readdir(at, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(path);
      if (found.length > MAX_FILES) throw new FileError(dir, `holds more than ${MAX_FILES} files; a patches directory holds patch files only`);
    }
  };
  await walk(dir);
  return found;
}

/** Reads a patches directory; every problem of every file at once. */
export async function readPatchDirectory(dir: string, field = 'spec.patches.directory'): Promise<PatchFile[]> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    throw new FileError(dir, `cannot read the patches directory named by ${field} (${error.code === 'ENOENT' ? 'no such directory' : error.message}); the path is relative to the cluster file`, { cause: error });
  });
  if (!info.isDirectory()) throw new FileError(dir, `${field} names a file, not a directory of patch files`);
  const files: PatchFile[] = [];
  const errors: ConfigError[] = [];
  for (const path of await filesUnder(dir)) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const parsed = parsePatchFileName(name);
    if (parsed === undefined) continue;
    if ('problem' in parsed) {
      errors.push(new ConfigError(path, [{ path: '', message: parsed.problem }]));
      continue;
    }
    const content = await readFile(path);
    if (content.length > MAX_FILE_BYTES) {
      errors.push(new ConfigError(path, [{ path: '', message: `is ${content.length} bytes; a patch file may be at most 1 MiB` }]));
      continue;
    }
    try {
      const file: PatchFile = { file: path, ...parsed, patches: patchDocuments(content.toString('utf8'), path) };
      const problems = shapeProblems(file);
      if (problems.length > 0) errors.push(new ConfigError(path, problems));
      // An empty file is ignored, as kubeadm does.
      else if (file.patches.length > 0) files.push(file);
    } catch (error) {
      if (error instanceof ConfigError) errors.push(error);
      else throw error;
    }
  }
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new ConfigError(relative('.', dir) || dir, errors.flatMap((e) => e.problems.map((p) => ({ ...p, path: '', message: `${relative(dir, e.file)}${p.line ? `:${p.line}` : ''}: ${p.message}`, line: undefined }))));
  return files;
}
