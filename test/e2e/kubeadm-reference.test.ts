/**
 * The real kubeadm of the same version is the reference, for every supported minor (the lab builds a
 * kubeadm of each: scripts/ensure-kube-lab.mjs). For every example's first control plane, its cluster
 * file set to that minor's release, kbuild's own ClusterConfiguration (what init uploads as
 * kubeadm-config, in the API that kubeadm reads) and an InitConfiguration for the host go to the real
 * kubeadm (`kubeadm config validate`, then `init phase certs all`,
 * `kubeconfig all`, `etcd local`, `control-plane all`, `kubelet-start`), run in a private mount
 * namespace so its /etc/kubernetes and /var/lib/kubelet are a scratch copy. What it writes is
 * compared field by field with kbuild's render of that host: every flag of every static pod, probes,
 * volumes, mounts, labels, annotations, resources, images; certificate subjects, SANs, usages and
 * validity; kubeconfig servers, users and client identities; the kubelet's config.yaml and
 * kubeadm-flags.env. Every difference is pinned below with its reason (src/render/README.md, "on
 * purpose"): a new one fails the test the day it appears.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import yaml from 'js-yaml';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadClusterFile } from '../../src/config/load.js';
import type { ConfigError } from '../../src/errors/index.js';
import { firstControlPlane, nodeTaints, type Cluster, type Host } from '../../src/config/model.js';
import { kubeadmClusterConfiguration } from '../../src/kube/published-cluster.js';
import { kubeadmApiVersion, kubernetesMinor, SUPPORTED_MINORS } from '../../src/kubeadm/versions.js';
import { parseKubeconfig } from '../../src/kubeconfig/kubeconfig.js';
import { readCertificate } from '../../src/pki/inspect.js';
import { prepareCluster } from '../../src/state/prepare.js';
import { labKubeadm } from '../support/kube-lab.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-kubeadm-ref-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EXAMPLES = ['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'] as const;
/** Cluster files beside the examples: kubeadm v1beta4 knobs kbuild has too (etcd and component extraArgs, SANs, …; the addons switched off; a patches directory of every type and target). */
const FIXTURES = ['customised', 'addons-off', 'patched'] as const;
type Case = (typeof EXAMPLES)[number] | (typeof FIXTURES)[number];
const clusterFileOf = (name: Case): string =>
  (FIXTURES as readonly string[]).includes(name) ? join(import.meta.dirname, '../fixtures/kubeadm-reference', `${name}.yaml`) : join(import.meta.dirname, '../../examples', `${name}.yaml`);

type Spec = Record<string, Record<string, unknown> | undefined>;
/**
 * The case's cluster file at `version`, written into the work dir. Before v1.31 without what kubeadm
 * has only from v1.31 (v1beta4's extraEnvs, the ControlPlaneKubeletLocalMode gate), which kbuild
 * refuses there: the test "v1.30 refuses …" below shows it does.
 */
function clusterFileAt(name: Case, version: string, options: { keepNewerKnobs?: boolean } = {}): string {
  const doc = yaml.load(readFileSync(clusterFileOf(name), 'utf8')) as { spec: Spec & { kubernetesVersion?: string } };
  doc.spec.kubernetesVersion = version;
  if (kubernetesMinor(version) < 31 && !options.keepNewerKnobs) {
    for (const section of ['apiServer', 'controllerManager', 'scheduler', 'etcd']) delete doc.spec[section]?.extraEnvs;
    delete doc.spec.featureGates?.ControlPlaneKubeletLocalMode;
  }
  const path = join(work, 'clusters', `${name}-${version}${options.keepNewerKnobs ? '-as-is' : ''}.yaml`);
  mkdirSync(join(work, 'clusters'), { recursive: true });
  // The copy's patches directory is the original's; before v1.31 a copy without the CoreDNS patches
  // (kubeadm has that target from v1.31, and kbuild refuses it before: tested below).
  const patches = doc.spec.patches as { directory?: string } | undefined;
  if (patches?.directory) {
    patches.directory = resolve(dirname(clusterFileOf(name)), patches.directory);
    if (kubernetesMinor(version) < 31 && !options.keepNewerKnobs) {
      const copy = join(work, 'patches', `${name}-${version}`);
      cpSync(patches.directory, copy, { recursive: true, filter: (source) => !basename(source).startsWith('corednsdeployment') });
      patches.directory = copy;
    }
  }
  writeFileSync(path, yaml.dump(doc));
  return path;
}

/** The cluster file's spec.patches.directory (the test's copies name it absolutely). */
const patchesDirectoryOf = (clusterFile: string): string | undefined =>
  (yaml.load(readFileSync(clusterFile, 'utf8')) as { spec: { patches?: { directory?: string } } }).spec.patches?.directory;

/** The InitConfiguration kubeadm init would get on this host, and the kubelet's component configuration. */
function kubeadmConfig(cluster: Cluster, host: Host, patchesDirectory?: string): string {
  const apiVersion = kubeadmApiVersion(cluster.kubernetesVersion);
  // A kubeadm user labels a Node through the kubelet's flag; kbuild's host labels are that flag (kbuild sorts them by key).
  const kubeletExtraArgs = [
    ...Object.entries(cluster.kubelet.extraArgs).map(([name, value]) => ({ name, value })),
    ...(host.labels && Object.keys(host.labels).length > 0 ? [{ name: 'node-labels', value: Object.entries(host.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',') }] : []),
  ];
  const init = {
    apiVersion,
    kind: 'InitConfiguration',
    localAPIEndpoint: { advertiseAddress: host.address, bindPort: cluster.apiServer.bindPort },
    nodeRegistration: {
      name: host.name,
      criSocket: cluster.kubelet.criSocket,
      imagePullPolicy: 'IfNotPresent',
      // v1beta3's kubeletExtraArgs is a map, v1beta4's a list.
      kubeletExtraArgs: apiVersion === 'kubeadm.k8s.io/v1beta3' ? Object.fromEntries(kubeletExtraArgs.map(({ name, value }) => [name, value])) : kubeletExtraArgs,
      taints: nodeTaints(host),
    },
    // kubeadm reads the same directory kbuild does (InitConfiguration.patches, v1beta3 and v1beta4).
    ...(patchesDirectory ? { patches: { directory: patchesDirectory } } : {}),
    // v1beta3 has no dns/proxy.disabled: a kubeadm v1.30 user skips the addon's phase.
    ...(apiVersion === 'kubeadm.k8s.io/v1beta3' && addonPhases(cluster).length < 2 ? { skipPhases: ['coredns', 'kube-proxy'].filter((a) => !addonPhases(cluster).includes(a)).map((a) => `addon/${a}`) } : {}),
  };
  const kubelet = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: cluster.kubelet.cgroupDriver, ...cluster.kubelet.configuration };
  return [init, kubeadmClusterConfiguration(cluster), kubelet].map((d) => yaml.dump(d)).join('---\n');
}

function filesUnder(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(`/${relative(root, path)}`, readFileSync(path, 'utf8'));
    }
  };
  walk(root);
  return files;
}

/** Runs the real kubeadm's init phases for the host with /etc and /var/lib private to it; returns what it wrote, by path. */
function kubeadmWrites(name: string, kubeadm: string, config: string, cluster: Cluster): Map<string, string> {
  const external = cluster.etcd.topology === 'external';
  const dir = join(work, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), config);
  // kubelet-start would (re)start the kubelet: here there is none to start.
  writeFileSync(join(dir, 'bin/systemctl'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const phases = ['certs all', 'kubeconfig all', ...(external ? [] : ['etcd local']), 'control-plane all', 'kubelet-start'];
  const script = [
    'set -eu',
    'mount -t tmpfs kbuild-kubeadm-ref /mnt',
    'mkdir /mnt/etc /mnt/varlib && cp -a /etc/. /mnt/etc/ && mount --bind /mnt/etc /etc && mount --bind /mnt/varlib /var/lib',
    `${kubeadm} config validate --config ${dir}/config.yaml`,
    ...phases.map((phase) => `${kubeadm} init phase ${phase} --config ${dir}/config.yaml >/dev/null 2>&1 || { echo "kubeadm init phase ${phase} failed" >&2; ${kubeadm} init phase ${phase} --config ${dir}/config.yaml >&2; exit 1; }`),
    `mkdir -p ${dir}/out/etc ${dir}/out/var/lib && cp -a /etc/kubernetes ${dir}/out/etc/ && cp -a /var/lib/kubelet ${dir}/out/var/lib/`,
    // The addons as kubeadm would create them: its dry run prints every object (with a fake client). kubeadm
    // init skips the phase of an addon its ClusterConfiguration disables (manageSkippedAddons, cmd/init.go);
    // a phase run by name is not skipped, so only the enabled ones are run.
    ': > ' + `${dir}/addons.txt`,
    ...addonPhases(cluster).map((phase) => `KUBEADM_INIT_DRYRUN_DIR=/etc/kubernetes ${kubeadm} init phase addon ${phase} --config ${dir}/config.yaml --dry-run >> ${dir}/addons.txt 2>&1`),
  ].join('\n');
  execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH ?? ''}` }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const files = filesUnder(join(dir, 'out'));
  files.set('addons', readFileSync(join(dir, 'addons.txt'), 'utf8'));
  return files;
}

/** The addon phases kubeadm init runs for this ClusterConfiguration: dns.disabled and proxy.disabled skip theirs. */
const addonPhases = (cluster: Cluster): string[] => [...(cluster.dns.disabled ? [] : ['coredns']), ...(cluster.kubeProxy.disabled ? [] : ['kube-proxy'])];

/** The objects a kubeadm dry run would create ("[dryrun] Attached object:" followed by YAML). */
function dryRunObjects(text: string): Array<{ kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>> {
  return text
    .split(/^\[dryrun\] Attached object:\n/m)
    .slice(1)
    // kubeadm before v1.32 indents each printed object by a tab.
    .map((chunk) => yaml.load(chunk.split(/^\[(?:dryrun|addons)\]/m)[0]!.replace(/^\t/gm, '')) as { kind: string; metadata: { name: string } } & Record<string, unknown>)
    .filter((o) => o && typeof o === 'object' && typeof o.kind === 'string');
}

/** Leaf paths where two objects differ (kubeadm's zero values dropped first, as for the kubelet). */
function objectDiffs(where: string, a: unknown, b: unknown, diffs: Diff[]): void {
  const walk = (path: string, x: unknown, y: unknown) => {
    if (x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
      const keys = Array.isArray(x) ? [...Array(Math.max(x.length, (y as unknown[]).length)).keys()].map(String) : [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
      for (const k of keys) walk(`${path}.${k}`, (x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]);
      return;
    }
    if (!same(x, y)) diffs.push(`${where}${path}: kubeadm ${show(x)}, kbuild ${show(y)}`);
  };
  walk('', withoutZeroValues(a), withoutZeroValues(b));
}

type Diff = string;
const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
const sorted = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)])) : v;
const same = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

function compareValues(where: string, kubeadm: unknown, kbuild: unknown, diffs: Diff[]): void {
  if (!same(kubeadm, kbuild)) diffs.push(`${where}: kubeadm ${show(kubeadm)}, kbuild ${show(kbuild)}`);
}

/** Flags as name → value (a flag given twice keeps both, joined). */
function flags(command: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const arg of command.slice(1)) {
    const [, name = arg, value = ''] = /^--([^=]+)=?(.*)$/s.exec(arg) ?? [];
    map.set(name, map.has(name) ? `${map.get(name)!},${value}` : value);
  }
  return map;
}

function comparePods(pod: string, a: V1Pod, b: V1Pod, diffs: Diff[]): void {
  compareValues(`${pod} labels`, a.metadata?.labels, b.metadata?.labels, diffs);
  compareValues(`${pod} annotations`, a.metadata?.annotations, b.metadata?.annotations, diffs);
  const [ca, cb] = [a.spec!.containers[0]!, b.spec!.containers[0]!] as [V1Container, V1Container];
  const [fa, fb] = [flags(ca.command ?? []), flags(cb.command ?? [])];
  compareValues(`${pod} command`, ca.command?.[0], cb.command?.[0], diffs);
  for (const name of [...new Set([...fa.keys(), ...fb.keys()])].sort()) compareValues(`${pod} --${name}`, fa.get(name), fb.get(name), diffs);
  for (const field of ['image', 'imagePullPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'resources', 'securityContext', 'env'] as const) compareValues(`${pod} ${field}`, ca[field], cb[field], diffs);
  const mounts = (c: V1Container) => Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.name, { mountPath: m.mountPath, readOnly: m.readOnly ?? false }]));
  const volumes = (p: V1Pod) => Object.fromEntries((p.spec!.volumes ?? []).map((v) => [v.name, v.hostPath]));
  const [ma, mb, va, vb] = [mounts(ca), mounts(cb), volumes(a), volumes(b)];
  for (const name of [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort()) compareValues(`${pod} volumeMount ${name}`, ma[name], mb[name], diffs);
  for (const name of [...new Set([...Object.keys(va), ...Object.keys(vb)])].sort()) compareValues(`${pod} volume ${name}`, va[name], vb[name], diffs);
  for (const field of ['hostNetwork', 'priority', 'priorityClassName', 'securityContext', 'dnsPolicy'] as const) compareValues(`${pod} spec.${field}`, a.spec![field], b.spec![field], diffs);
}

function keyUsage(pem: string): string {
  const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage,basicConstraints'], { input: pem, encoding: 'utf8' });
  return text.replace(/\s+/g, ' ').trim();
}

function compareCertificates(path: string, a: string, b: string, diffs: Diff[]): void {
  const [x, y] = [readCertificate(a, `kubeadm ${path}`), readCertificate(b, `kbuild ${path}`)];
  const days = (c: typeof x) => Math.round((c.notAfter.getTime() - c.notBefore.getTime()) / 86_400_000);
  compareValues(`${path} subject`, { cn: x.cn, o: x.o }, { cn: y.cn, o: y.o }, diffs);
  compareValues(`${path} SANs`, { dns: [...x.altNames.dns].sort(), ips: [...x.altNames.ips].sort() }, { dns: [...y.altNames.dns].sort(), ips: [...y.altNames.ips].sort() }, diffs);
  compareValues(`${path} extended usages`, [...x.usages].sort(), [...y.usages].sort(), diffs);
  compareValues(`${path} key usage, CA`, keyUsage(a), keyUsage(b), diffs);
  compareValues(`${path} algorithm`, x.algorithm, y.algorithm, diffs);
  // kubeadm backdates notBefore by 5 minutes, kbuild too: compare whole days.
  compareValues(`${path} validity days`, days(x), days(y), diffs);
}

function compareKubeconfigs(path: string, a: string, b: string, diffs: Diff[]): void {
  const [x, y] = [parseKubeconfig(a), parseKubeconfig(b)];
  const identity = (k: typeof x) => (k.clientCertPem ? readCertificate(k.clientCertPem, path) : undefined);
  const [ix, iy] = [identity(x), identity(y)];
  compareValues(`${path} server`, x.server, y.server, diffs);
  compareValues(`${path} user`, x.user, y.user, diffs);
  compareValues(`${path} client certificate subject`, ix && { cn: ix.cn, o: ix.o }, iy && { cn: iy.cn, o: iy.o }, diffs);
  const names = (text: string) => {
    const doc = yaml.load(text) as { clusters?: Array<{ name: string }>; contexts?: Array<{ name: string; context: unknown }>; 'current-context'?: string };
    return { clusters: doc.clusters?.map((c) => c.name), contexts: doc.contexts, current: doc['current-context'] };
  };
  compareValues(`${path} clusters and contexts`, names(a), names(b), diffs);
}

/**
 * kubeadm serialises the kubelet's configuration from a Go struct, so every unset duration and
 * struct appears as "0s" or {}; the kubelet reads those as its defaults, as it does an absent field.
 * Compared without them (and without explicit zeros), false stays: it is not a default everywhere.
 */
function withoutZeroValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutZeroValues);
  if (!value || typeof value !== 'object') return value;
  const kept = Object.entries(value)
    .map(([k, v]) => [k, withoutZeroValues(v)] as const)
    .filter(([, v]) => !(v === null || v === '0s' || v === '0' || v === '' || v === 0 || (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)));
  return Object.fromEntries(kept);
}

function withoutFalse(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== false).map(([k, v]) => [k, withoutFalse(v)]));
}

const kubeletFlags = (env: string) => flags(['kubelet', ...(/KUBELET_KUBEADM_ARGS="(.*)"/.exec(env)?.[1] ?? '').split(' ').filter(Boolean)]);

async function differences(example: Case, minor: number): Promise<Diff[]> {
  const { version, path: kubeadm } = labKubeadm(minor);
  const clusterFile = clusterFileAt(example, version);
  const stateDir = join(work, 'state', `${example}-${version}`);
  const prepared = await prepareCluster({ inventory: clusterFile, stateDir });
  const { cluster } = await loadClusterFile(clusterFile);
  const host = firstControlPlane(cluster);
  const ours = new Map((prepared.rendered.hosts.get(host.name) ?? []).map((f) => [f.path, f.content.toString()]));
  const theirs = kubeadmWrites(`${example}-${version}`, kubeadm, kubeadmConfig(cluster, host, patchesDirectoryOf(clusterFile)), cluster);
  const diffs: Diff[] = [];
  for (const [path, content] of [...theirs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const mine = ours.get(path);
    if (path === 'addons') {
      const addons = [...ours].filter(([p]) => p.startsWith('/etc/kubernetes/addons/1') || p.startsWith('/etc/kubernetes/addons/2')).flatMap(([, text]) => yaml.loadAll(text) as Array<{ kind: string; metadata: { name: string; namespace?: string } }>);
      const key = (o: { kind: string; metadata: { name: string; namespace?: string } }) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
      const byKey = new Map(addons.map((o) => [key(o), o]));
      for (const object of dryRunObjects(content)) {
        const own = byKey.get(key(object));
        if (!own) {
          diffs.push(`addon ${key(object)}: created by kubeadm, not by kbuild`);
          continue;
        }
        byKey.delete(key(object));
        // kube-proxy's configuration and kubeconfig are YAML inside the ConfigMap: compared as data. kubeadm
        // serialises every unset boolean of KubeProxyConfiguration as false, each of them its default.
        const parsedConfig = (o: unknown) => {
          const data = (o as { data?: Record<string, string> }).data;
          if (!data?.['config.conf']) return o;
          return { ...(o as object), data: { ...data, 'config.conf': withoutFalse(yaml.load(data['config.conf'])), 'kubeconfig.conf': yaml.load(data['kubeconfig.conf'] ?? '') } };
        };
        // kubeadm's hash of a ConfigMap is over its own serialisation: kbuild's must be that hash of kbuild's
        // data (what `kubeadm upgrade` recomputes), checked here independently of src/kubeadm/config-hash.ts.
        const annotations = (o: unknown) => (o as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {};
        const HASH = 'kubeadm.kubernetes.io/component-config.hash';
        if (annotations(object)[HASH] && annotations(own)[HASH]) {
          const data = (own as unknown as { data: Record<string, string> }).data;
          const expected = `sha256:${createHash('sha256').update(Object.keys(data).sort().map((k) => data[k]).join('')).digest('hex')}`;
          compareValues(`addon ${key(object)} ${HASH} of its own data`, expected, annotations(own)[HASH], diffs);
          for (const o of [object, own]) delete annotations(o)[HASH];
        }
        objectDiffs(`addon ${key(object)}`, parsedConfig(object), parsedConfig(own), diffs);
      }
      for (const k of byKey.keys()) diffs.push(`addon ${k}: created by kbuild, not by kubeadm`);
      continue;
    }
    if (mine === undefined) {
      diffs.push(`${path}: written by kubeadm, not by kbuild`);
      continue;
    }
    if (path.startsWith('/etc/kubernetes/manifests/')) comparePods(path.slice('/etc/kubernetes/manifests/'.length, -'.yaml'.length), yaml.load(content) as V1Pod, yaml.load(mine) as V1Pod, diffs);
    else if (path.endsWith('.crt')) compareCertificates(path, content, mine, diffs);
    else if (path.endsWith('.conf')) compareKubeconfigs(path, content, mine, diffs);
    else if (path === '/var/lib/kubelet/config.yaml') {
      const [a, b] = [withoutZeroValues(yaml.load(content)) as Record<string, unknown>, withoutZeroValues(yaml.load(mine)) as Record<string, unknown>];
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) compareValues(`kubelet config ${key}`, a[key], b[key], diffs);
    } else if (path === '/var/lib/kubelet/kubeadm-flags.env') {
      const [a, b] = [kubeletFlags(content), kubeletFlags(mine)];
      for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) compareValues(`kubelet --${name}`, a.get(name), b.get(name), diffs);
    }
  }
  return diffs;
}

/** The differences src/render/README.md lists on purpose, by where they are, with the reason. */
const ETCD_ALL_MEMBERS = 'stacked etcd: every member is named and all start together (kubeadm: one at init, the rest join)';
const ETCD_SERVERS = 'a stacked apiserver lists its local member first, then the others, to keep serving while its own restarts';
const SHUTDOWN_DELAY = 'behind a load balancer the apiserver fails /readyz for 10 s before it closes its listener (zero failed requests during a roll)';
const ETCD_HTTP = "etcd's HTTP API (JSON gateway, /health) on a port of its own: gRPC alone on 2379 drains its RPCs when a member stops, where gRPC served through etcd's HTTP server answered some with a bare HTTP response";
const ON_PURPOSE: Record<Case, Record<string, string>> = {
  'single-node': { 'etcd --listen-client-http-urls': ETCD_HTTP },
  customised: { 'etcd --listen-client-http-urls': ETCD_HTTP },
  'addons-off': { 'etcd --listen-client-http-urls': ETCD_HTTP },
  patched: { 'etcd --listen-client-http-urls': ETCD_HTTP },
  'ha-stacked': {
    'etcd --initial-cluster': ETCD_ALL_MEMBERS,
    'etcd --listen-client-http-urls': ETCD_HTTP,
    'kube-apiserver --etcd-servers': ETCD_SERVERS,
    'kube-apiserver --shutdown-delay-duration': SHUTDOWN_DELAY,
    '/etc/kubernetes/pki/apiserver.crt SANs': 'the keepalived VIP is a SAN too, so clients that reach the API by the VIP verify it (the endpoint is a DNS name)',
  },
  'ha-external-etcd': { 'kube-apiserver --shutdown-delay-duration': SHUTDOWN_DELAY },
  'dual-stack': { 'etcd --listen-client-http-urls': ETCD_HTTP, '/etc/kubernetes/pki/apiserver.crt SANs': "every service subnet's first address is a SAN (kubeadm: the first subnet's only)" },
};

/**
 * Every supported minor: the lab has a kubeadm of each (labKubeadm errors clearly when one is missing).
 * Every minor's differences are the same, those above: what kubeadm changed between releases kbuild
 * renders per release (etcd's probes, CoreDNS's cache, apiserver-kubelet-client's group, v1beta3).
 */
const MINORS = SUPPORTED_MINORS;

/**
 * kubeadm mounts the distribution's CA directories into kube-apiserver and kube-controller-manager
 * when they exist on the machine it runs on; an offline render cannot know the host's (README, "on
 * purpose"). Those differences are expected exactly for the directories this machine has.
 */
const OPTIONAL_CA_VOLUME = /^(kube-apiserver|kube-controller-manager) volume(Mount)? (\S+): kubeadm \{"(?:mountPath|path)":"([^"]+)"[^}]*\}, kbuild \(none\)$/;

describe.each(MINORS)('kbuild renders what the real kubeadm v1.%i writes, but for the differences it lists on purpose', (minor) => {
  it.each([...EXAMPLES, ...FIXTURES])('%s: its first control plane', async (example) => {
    const diffs = await differences(example, minor);
    const caVolumes = diffs.filter((d) => OPTIONAL_CA_VOLUME.test(d));
    for (const d of caVolumes) {
      const path = OPTIONAL_CA_VOLUME.exec(d)![4]!;
      expect(statSync(path, { throwIfNoEntry: false })?.isDirectory(), `${d}: kubeadm mounts only directories that exist`).toBe(true);
    }
    const rest = diffs.filter((d) => !caVolumes.includes(d));
    const where = (d: string) => d.slice(0, d.indexOf(': kubeadm '));
    expect(rest.map(where).sort(), rest.join('\n')).toEqual(Object.keys(ON_PURPOSE[example]).sort());
  }, 180_000);
});

describe.each(MINORS.filter((minor) => minor < 31))("kubeadm v1.%i's v1beta3 has no extraEnvs and no ControlPlaneKubeletLocalMode", (minor) => {
  it('kbuild refuses them at that release (so its cases above go without them)', async () => {
    const asIs = clusterFileAt('customised', labKubeadm(minor).version, { keepNewerKnobs: true });
    const refused = await loadClusterFile(asIs).then(() => undefined, (error: unknown) => error as ConfigError);
    expect(refused?.problems.map((p) => p.path).sort()).toEqual(['spec.apiServer.extraEnvs', 'spec.etcd.extraEnvs', 'spec.featureGates.ControlPlaneKubeletLocalMode', 'spec.scheduler.extraEnvs']);
  });

  it('kbuild refuses a corednsdeployment patch at that release, which kubeadm would skip', async () => {
    const asIs = clusterFileAt('patched', labKubeadm(minor).version, { keepNewerKnobs: true });
    const refused = await loadClusterFile(asIs).then(() => undefined, (error: unknown) => error as ConfigError);
    expect(refused?.message).toMatch(/corednsdeployment\+json\.yaml: patches the CoreDNS Deployment, which kubeadm can from v1\.31 only/);
  });
});
