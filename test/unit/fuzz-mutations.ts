/**
 * fast-check generators that break valid cluster files in the ways users (and attackers) do:
 * wrong types, missing and extra fields, garbage and extreme CIDRs, huge numbers, unicode,
 * YAML anchors and alias bombs, oversized and binary files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { formatPath, type PathSegment } from '../../src/config/yaml-lines.js';

export const repoRoot = join(import.meta.dirname, '../..');

export type Doc = Record<string, unknown>;

/** The examples, with ECDSA keys so a render that passes validation stays fast. */
export const BASE_DOCS: ReadonlyArray<{ example: string; doc: Doc }> = readdirSync(join(repoRoot, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((example) => {
    const doc = yaml.load(readFileSync(join(repoRoot, 'examples', example), 'utf8')) as Doc;
    const spec = doc.spec as Doc;
    spec.certificates = { ...((spec.certificates) ?? {}), encryptionAlgorithm: 'ECDSA-P256' };
    return { example, doc };
  });

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

const kindOf = (v: unknown): Kind => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : (typeof v as Kind));

/** Fields whose schema is a free-form string map: any key is allowed there. */
const isFreeMap = (path: readonly PathSegment[]) => path[path.length - 1] === 'extraArgs';

export interface Located {
  path: PathSegment[];
  value: unknown;
}

/** Every node of a document with its path (the root excluded). */
export function nodesOf(value: unknown, path: PathSegment[] = []): Located[] {
  const out: Located[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push({ path: [...path, i], value: v }, ...nodesOf(v, [...path, i])));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push({ path: [...path, k], value: v }, ...nodesOf(v, [...path, k]));
  }
  return out;
}

export function setAt(doc: Doc, path: readonly PathSegment[], value: unknown): Doc {
  const copy = structuredClone(doc);
  let node: Record<string | number, unknown> = copy;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

export function deleteAt(doc: Doc, path: readonly PathSegment[]): Doc {
  const copy = structuredClone(doc);
  let node: Record<string | number, unknown> = copy;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

/** A mutated file: its text, and the field a good error message must name (if one can be named). */
export interface Mutation {
  label: string;
  text: string | Uint8Array;
  /** The field the error must name. */
  field?: string;
  /** true: the mutation can never be valid, so the command must exit 1. */
  mustFail: boolean;
}

const dump = (doc: unknown) => yaml.dump(doc, { noRefs: true, lineWidth: -1 });

const valueOfKind = (kind: Kind): fc.Arbitrary<unknown> => {
  switch (kind) {
    case 'string':
      return fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^[-+.\d]/.test(s));
    case 'number':
      return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 3 });
    case 'object':
      return fc.dictionary(fc.constantFrom('x', 'y', 'z9'), fc.integer(), { minKeys: 1, maxKeys: 2 });
    case 'null':
      return fc.constant(null);
  }
};

const otherKind = (kind: Kind): fc.Arbitrary<Kind> => {
  // null would read as "absent" for optional sections, which is fine, so it is not a wrong type.
  const all: Kind[] = ['string', 'number', 'boolean', 'array', 'object'];
  return fc.constantFrom(...all.filter((k) => k !== kind));
};

const baseDoc = fc.constantFrom(...BASE_DOCS);

/** One field replaced by a value of another type. */
export const wrongType: fc.Arbitrary<Mutation> = baseDoc.chain(({ example, doc }) => {
  const nodes = nodesOf(doc).filter((n) => !isFreeMap(n.path.slice(0, -1)));
  return fc.constantFrom(...nodes).chain((node) =>
    otherKind(kindOf(node.value))
      .chain(valueOfKind)
      .map((value) => ({ label: `${example}: ${formatPath(node.path)} := ${JSON.stringify(value)}`, text: dump(setAt(doc, node.path, value)), field: formatPath(node.path), mustFail: true })),
  );
});

const REQUIRED = /^(apiVersion|kind|metadata|metadata\.name|spec|spec\.hosts|spec\.hosts\[\d+\]\.(name|address|roles))$/;

/** One field removed (required ones must be named; optional ones may be fine). */
export const missingField: fc.Arbitrary<Mutation> = baseDoc.chain(({ example, doc }) =>
  fc.constantFrom(...nodesOf(doc).filter((n) => typeof n.path[n.path.length - 1] === 'string')).map((node) => {
    const field = formatPath(node.path);
    const required = REQUIRED.test(field);
    return { label: `${example}: delete ${field}`, text: dump(deleteAt(doc, node.path)), field: required ? String(node.path[node.path.length - 1]) : undefined, mustFail: required };
  }),
);

/** An unknown key added to a mapping. */
export const extraField: fc.Arbitrary<Mutation> = baseDoc.chain(({ example, doc }) => {
  const objects: Located[] = [{ path: [], value: doc }, ...nodesOf(doc)].filter((n) => kindOf(n.value) === 'object' && !isFreeMap(n.path));
  return fc
    .tuple(fc.constantFrom(...objects), fc.stringMatching(/^[a-z][A-Za-z0-9]{0,10}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()))
    .filter(([node, key]) => !Object.hasOwn(node.value as object, key) && !KNOWN_KEYS.has(key))
    .map(([node, key, value]) => ({
      label: `${example}: add ${formatPath([...node.path, key])}`,
      text: dump(setAt(doc, [...node.path, key], value)),
      field: formatPath([...node.path, key]),
      mustFail: true,
    }));
});

/** Every key the schema knows anywhere, so an "extra" key is never accidentally a real optional field. */
const KNOWN_KEYS = new Set(
  BASE_DOCS.flatMap(({ doc }) => nodesOf(doc).map((n) => n.path[n.path.length - 1])).filter((k): k is string => typeof k === 'string'),
);
for (const k of ['bastion', 'sudo', 'identityFile', 'knownHostsFile', 'port', 'user', 'address', 'certSANs', 'extraArgs', 'bindPort', 'criSocket', 'interface', 'vip', 'type', 'topology', 'imageRepository', 'controlPlaneEndpoint', 'dnsDomain', 'nodeSubnets', 'reservedSubnets', 'podSubnet', 'serviceSubnet', 'kubelet', 'scheduler', 'controllerManager', 'apiServer', 'loadBalancer', 'certificates', 'etcd', 'networking', 'ssh', 'kubernetesVersion', 'validityDays', 'caValidityDays', 'encryptionAlgorithm']) KNOWN_KEYS.add(k);

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));

/** Extreme, malformed and host-bits-set CIDRs. */
export const cidrValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0.0.0.0/0', '::/0', '10.0.0.0/0', '10.0.0.1/8', '10.244.0.0/128', '10.244.0.0/33', '::1/129', 'fd00::/200', '10.0.0.0/99999999999999999999', '10.0.0.0/-1', '/24', '10.0.0.0/', '10.0.0.0', '256.0.0.0/8', '1.2.3/24', 'a.b.c.d/8', '::/', ':::/64', '10.244.0.0/16,', ',', '10.244.0.0/16,fd00::/56,fd01::/56', '10.0.0.0/8 ', ' ', '', '10.0.0.0/8\n', '١٠.٠.٠.٠/٨'),
  fc.tuple(ipv4, fc.integer({ min: -2, max: 40 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(ipv6, fc.integer({ min: -2, max: 140 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(ipv4, fc.integer({ min: 8, max: 30 }), ipv6, fc.integer({ min: 48, max: 124 })).map(([a, p, b, q]) => `${a}/${p},${b}/${q}`),
  fc.string({ maxLength: 20 }),
);

const CIDR_FIELDS: ReadonlyArray<PathSegment[]> = [
  ['spec', 'networking', 'podSubnet'],
  ['spec', 'networking', 'serviceSubnet'],
  ['spec', 'networking', 'nodeSubnets', 0],
  ['spec', 'networking', 'reservedSubnets', 0],
];

export const badCidr: fc.Arbitrary<Mutation> = fc.tuple(baseDoc, fc.constantFrom(...CIDR_FIELDS), cidrValue).map(([{ example, doc }, path, value]) => {
  const networking = { ...((doc.spec as Doc).networking as Doc | undefined) };
  for (const list of ['nodeSubnets', 'reservedSubnets']) networking[list] = [...((networking[list] as string[] | undefined) ?? [])];
  const withLists = setAt(doc, ['spec', 'networking'], networking);
  const field = typeof path[path.length - 1] === 'number' ? String(path[path.length - 2]) : String(path[path.length - 1]);
  return { label: `${example}: ${formatPath(path)} := ${JSON.stringify(value)}`, text: dump(setAt(withLists, path, value)), field, mustFail: false };
});

const NUMBER_FIELDS: ReadonlyArray<PathSegment[]> = [
  ['spec', 'certificates', 'validityDays'],
  ['spec', 'certificates', 'caValidityDays'],
  ['spec', 'ssh', 'port'],
  ['spec', 'apiServer', 'bindPort'],
  ['spec', 'loadBalancer', 'port'],
];

export const hugeNumber: fc.Arbitrary<Mutation> = fc
  .tuple(
    baseDoc,
    fc.constantFrom(...NUMBER_FIELDS),
    fc.oneof(fc.constantFrom(0, -1, 65536, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 1.5, Infinity, -Infinity, NaN, 4e15, 1e8, 2 ** 31), fc.double(), fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map((b) => `__RAW__${b}`)),
  )
  .map(([{ example, doc }, path, value]) => {
    const parent = path.slice(0, -1);
    const section = { ...(((doc.spec as Doc)[String(parent[1])] as Doc | undefined) ?? {}) };
    const withSection = setAt(doc, parent, section);
    // js-yaml cannot dump a bigint; a raw integer literal is substituted into the text instead.
    const text = typeof value === 'string' ? dump(setAt(withSection, path, 424242424242)).replace('424242424242', value.slice(7)) : dump(setAt(withSection, path, value));
    return { label: `${example}: ${formatPath(path)} := ${String(value)}`, text, field: formatPath(path), mustFail: false };
  });

/** Any string field replaced with arbitrary unicode (incl. control characters and surrogates' neighbours). */
export const unicodeString: fc.Arbitrary<Mutation> = baseDoc.chain(({ example, doc }) =>
  fc
    .tuple(
      fc.constantFrom(...nodesOf(doc).filter((n) => typeof n.value === 'string' && n.path[n.path.length - 1] !== 'encryptionAlgorithm')),
      fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), fc.constantFrom('ünïcödé', 'кластер', '集群', '🚀🔥', 'a\u0000b', '\u202eevil', 'x\ny', '${HOME}', '$(reboot)', '`id`', "'; rm -rf / #", '../../../etc/passwd', '{{ . }}', '%s%n', 'a'.repeat(5000))),
    )
    .map(([node, value]) => ({ label: `${example}: ${formatPath(node.path)} := ${JSON.stringify(value).slice(0, 60)}`, text: dump(setAt(doc, node.path, value)), field: formatPath(node.path), mustFail: false })),
);

/** Alias bombs ("billion laughs") of every shape, and anchors that are fine. */
export const aliasYaml: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 10 }), baseDoc).map(([width, depth, { example, doc }]) => {
    const lines = ['l0: &l0 [lol]'];
    for (let d = 1; d <= depth; d++) lines.push(`l${d}: &l${d} [${Array.from({ length: width }, () => `*l${d - 1}`).join(', ')}]`);
    const expands = width ** depth;
    // The bomb sits inside the cluster file as an unknown field, so only the alias limit or that field can be named.
    const text = `${dump(doc)}bomb:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
    return { label: `${example}: alias bomb ${width}^${depth} = ${expands}`, text, field: expands < 50_000 ? 'bomb' : undefined, mustFail: true };
  }),
  baseDoc.map(({ example, doc }) => {
    const spec = doc.spec as Doc;
    const ssh = (spec.ssh as Doc | undefined) ?? { user: 'root' };
    const hosts = (spec.hosts as Doc[]).map((h) => ({ ...h, ssh: '__ALIAS__' }));
    const text = dump({ ...doc, spec: { ...spec, ssh: '__ANCHOR__', hosts } })
      .replace("ssh: __ANCHOR__", `ssh: &shared ${JSON.stringify(ssh)}`)
      .replaceAll('ssh: __ALIAS__', 'ssh: {<<: *shared}');
    // Merge keys into the host-level ssh: valid YAML; host ssh allows a subset of cluster ssh fields.
    return { label: `${example}: shared ssh anchor`, text, mustFail: false };
  }),
  baseDoc.map(({ example, doc }) => ({ label: `${example}: undefined alias`, text: `${dump(doc)}extra: *nowhere\n`, mustFail: true })),
  baseDoc.map(({ example, doc }) => ({ label: `${example}: alias as key`, text: dump(doc).replace('kind: Cluster', 'kind: &k Cluster\n*k : 1'), mustFail: true })),
);

/** Files that are not cluster files at all. */
export const notAClusterFile: fc.Arbitrary<Mutation> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((bytes) => ({ label: `binary ${bytes.length} bytes`, text: bytes, mustFail: true })),
  fc.constantFrom('', ' ', '\n\n', '---', '---\n---\n', '~', 'null', '[]', '42', '"Cluster"', '- a\n- b', '{', 'a: [', '\t\ta: 1', 'a: b: c', '\ufeff', '%YAML 1.1\n---\n', '!!binary AAAA', '? [a]\n: b').map((text) => ({ label: `text ${JSON.stringify(text)}`, text, mustFail: true })),
  baseDoc.map(({ example, doc }) => ({ label: `${example}: two documents`, text: `${dump(doc)}---\n${dump(doc)}`, mustFail: true })),
  baseDoc.map(({ example, doc }) => ({ label: `${example}: tag !!js/function`, text: dump(doc).replace('kind: Cluster', 'kind: !!js/function "function(){}"'), mustFail: true })),
);

/** Files over the 1 MiB limit, and big-but-allowed ones. */
export const oversized: fc.Arbitrary<Mutation> = fc.tuple(baseDoc, fc.constantFrom('comment', 'value', 'hosts')).map(([{ example, doc }, how]) => {
  const mib = 1 << 20;
  if (how === 'comment') return { label: `${example}: 1 MiB comment`, text: `${dump(doc)}#${'x'.repeat(mib)}\n`, mustFail: true };
  if (how === 'value') return { label: `${example}: 1 MiB name`, text: dump(setAt(doc, ['metadata', 'name'], 'n'.repeat(mib))), mustFail: true };
  const hosts = Array.from({ length: 30_000 }, (_, i) => ({ name: `w${i}`, address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, roles: ['worker'] }));
  return { label: `${example}: 30,000 hosts`, text: dump(setAt(doc, ['spec', 'hosts'], hosts)), mustFail: true };
});

/** YAML's typed scalars and collections (!!binary, timestamps, !!set, !!omap) where plain values belong. */
export const typedYamlValue: fc.Arbitrary<Mutation> = baseDoc.chain(({ example, doc }) =>
  fc
    .tuple(fc.constantFrom(...nodesOf(doc).filter((n) => kindOf(n.value) !== 'object' || n.path.length > 1)), fc.constantFrom('!!binary AAAA', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '!!set {a, b}', '!!omap [a: 1, b: 2]', '!!pairs [a: 1]', '!!binary ""'))
    .map(([node, raw]) => {
      const marker = 'kbuild-fuzz-typed-value-marker';
      return { label: `${example}: ${formatPath(node.path)} := ${raw}`, text: dump(setAt(doc, node.path, marker)).replace(marker, raw), field: formatPath(node.path), mustFail: true };
    }),
);
