/**
 * What a host's facts decide in its files (src/kubeadm/host-environment.ts), as kubeadm decides it
 * on the machine it runs on: the kubelet's resolvConf (systemd-resolved active) and the optional CA
 * volumes of kube-apiserver and kube-controller-manager (directories that exist). A render without
 * facts keeps what it always wrote, unless spec.hostFacts says otherwise.
 */
import yaml from 'js-yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { isStandaloneKubelet, runsKubelet, type Cluster, type Host } from '../../../src/config/model.js';
import type { HostEnvironment } from '../../../src/kubeadm/host-environment.js';
import { renderCluster } from '../../../src/render/cluster.js';
import type { RenderContext } from '../../../src/render/context.js';
import { withHostResolvConf } from '../../../src/render/kubelet.js';
import { hostKubeletConfigText } from '../../../src/operations/join/kubelet-files.js';
import { toYaml } from '../../../src/util/yaml.js';
import { fixtureContext } from './fixture.js';

const RESOLVED = '/run/systemd/resolve/resolv.conf';
const NOTHING: HostEnvironment = { systemdResolved: false, caDirs: [] };
const RESOLVED_HOST: HostEnvironment = { systemdResolved: true, caDirs: [] };

const withKubelet = (ctx: RenderContext, kubelet: Partial<Cluster['kubelet']>): RenderContext => ({ ...ctx, cluster: { ...ctx.cluster, kubelet: { ...ctx.cluster.kubelet, ...kubelet } } });
/** The context with spec.hostFacts as given (what a render without facts assumes). */
const assuming = (ctx: RenderContext, hostFacts: HostEnvironment): RenderContext => ({ ...ctx, cluster: { ...ctx.cluster, hostFacts } });
const everyHost = (ctx: RenderContext, env: HostEnvironment) => new Map(ctx.cluster.hosts.map((h) => [h.name, env]));
const content = (files: Map<string, { path: string; content: string | Buffer }[]>, host: string, path: string): string => {
  const file = files.get(host)?.find((f) => f.path === path);
  if (!file) throw new Error(`${host}:${path} not rendered`);
  return file.content.toString();
};
const kubeletConfig = (files: Map<string, { path: string; content: string | Buffer }[]>, host: string) =>
  yaml.load(content(files, host, '/var/lib/kubelet/config.yaml')) as Record<string, unknown>;
const pod = (files: Map<string, { path: string; content: string | Buffer }[]>, host: string, name: string) =>
  yaml.load(content(files, host, `/etc/kubernetes/manifests/${name}.yaml`)) as V1Pod;
const kubelets = (ctx: RenderContext): Host[] => ctx.cluster.hosts.filter(runsKubelet);

describe("the kubelet's resolvConf (kubeadm's mutateResolverConfig)", () => {
  test.each([
    ['systemd-resolved active, nothing set: its upstream list', {}, true, RESOLVED],
    ['systemd-resolved not active: the kubelet default', {}, false, undefined],
    ["the user's path wins over an active systemd-resolved", { resolvConf: '/etc/resolv.upstream' }, true, '/etc/resolv.upstream'],
    ["the user's empty path (no resolver file) wins too", { resolvConf: '' }, true, ''],
    ['null is unset, as Go reads it', { resolvConf: null }, true, RESOLVED],
  ])('%s', (_name, configuration, active, expected) => {
    const decided = withHostResolvConf({ kind: 'KubeletConfiguration', ...configuration }, { systemdResolved: active, caDirs: [] });
    expect(decided['resolvConf']).toBe(expected);
  });

  test('no decision, no copy: the configuration comes back as it was', () => {
    const configuration = { kind: 'KubeletConfiguration' };
    expect(withHostResolvConf(configuration, NOTHING)).toBe(configuration);
  });

  test('every kubelet of a host with systemd-resolved gets it in config.yaml, and the others do not', async () => {
    const ctx = await fixtureContext('ha-external-etcd');
    const resolvedHosts = new Set(['cp2', 'worker1', 'etcd3']);
    const rendered = renderCluster({ ...ctx, hostEnvironments: new Map(ctx.cluster.hosts.map((h) => [h.name, resolvedHosts.has(h.name) ? RESOLVED_HOST : NOTHING])) }).hosts;
    const plain = renderCluster(ctx).hosts;
    for (const host of kubelets(ctx)) {
      const expected = { ...kubeletConfig(plain, host.name), ...(resolvedHosts.has(host.name) ? { resolvConf: RESOLVED } : {}) };
      expect(kubeletConfig(rendered, host.name), host.name).toEqual(expected);
    }
    // The standalone kubelet of an etcd host too: kubeadm's rule is the kubelet's, whatever it runs.
    expect(isStandaloneKubelet(ctx.cluster.hosts.find((h) => h.name === 'etcd3')!)).toBe(true);
  });

  test('the published kubelet-config stays the same for every host: each decides its own', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const path = '/etc/kubernetes/addons/03-kubelet-config.yaml';
    const first = ctx.cluster.controlPlanes[0]!.name;
    expect(content(renderCluster({ ...ctx, hostEnvironments: everyHost(ctx, RESOLVED_HOST) }).hosts, first, path)).toBe(content(renderCluster(ctx).hosts, first, path));
  });

  test('without facts: as the cluster file says (spec.hostFacts.systemdResolved), by default not', async () => {
    const ctx = await fixtureContext('ha-stacked');
    expect(ctx.cluster.hostFacts).toEqual(NOTHING);
    const assumed = renderCluster(assuming(ctx, RESOLVED_HOST)).hosts;
    const plain = renderCluster(ctx).hosts;
    for (const host of kubelets(ctx)) {
      expect(kubeletConfig(plain, host.name)['resolvConf'], host.name).toBeUndefined();
      expect(kubeletConfig(assumed, host.name)['resolvConf'], host.name).toBe(RESOLVED);
    }
  });

  test("a host's facts win over the cluster file's assumption, both ways", async () => {
    const ctx = assuming(await fixtureContext('single-node'), RESOLVED_HOST);
    expect(kubeletConfig(renderCluster({ ...ctx, hostEnvironments: everyHost(ctx, NOTHING) }).hosts, 'node1')['resolvConf']).toBeUndefined();
    const off = assuming(ctx, NOTHING);
    expect(kubeletConfig(renderCluster({ ...off, hostEnvironments: everyHost(off, RESOLVED_HOST) }).hosts, 'node1')['resolvConf']).toBe(RESOLVED);
  });

  test("spec.kubelet.configuration's resolvConf is written whatever the host runs", async () => {
    const ctx = withKubelet(assuming(await fixtureContext('single-node'), RESOLVED_HOST), { configuration: { resolvConf: '/etc/kubernetes/resolv.conf' } });
    expect(kubeletConfig(renderCluster({ ...ctx, hostEnvironments: everyHost(ctx, RESOLVED_HOST) }).hosts, 'node1')['resolvConf']).toBe('/etc/kubernetes/resolv.conf');
  });
});

describe('a joining kubelet: the published configuration with its own resolvConf', () => {
  const published = toYaml({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', clusterDNS: ['10.96.0.10'] });

  test('byte for byte when nothing is decided', () => {
    expect(hostKubeletConfigText(published, NOTHING)).toBe(published);
  });

  test('with resolvConf added where systemd-resolved runs, everything else kept', () => {
    const text = hostKubeletConfigText(published, RESOLVED_HOST);
    expect(yaml.load(text)).toEqual({ ...(yaml.load(published) as object), resolvConf: RESOLVED });
  });

  test("a resolvConf the cluster published stays (kubeadm's init host may have written it)", () => {
    const own = toYaml({ kind: 'KubeletConfiguration', resolvConf: '/etc/resolv.conf' });
    expect(hostKubeletConfigText(own, RESOLVED_HOST)).toBe(own);
  });

  test('text that is no configuration is left for the kubelet to report', () => {
    expect(hostKubeletConfigText('- a\n- b\n', RESOLVED_HOST)).toBe('- a\n- b\n');
    expect(hostKubeletConfigText('{ not yaml', RESOLVED_HOST)).toBe('{ not yaml');
  });
});

describe('optional CA volumes (kubeadm getHostPathVolumesForTheControlPlane)', () => {
  const ALL = ['/etc/pki/ca-trust', '/etc/pki/tls/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];
  const NAMES = ['etc-pki-ca-trust', 'etc-pki-tls-certs', 'etc-ca-certificates', 'usr-share-ca-certificates', 'usr-local-share-ca-certificates'];
  const volumes = (p: V1Pod) => Object.fromEntries((p.spec!.volumes ?? []).map((v) => [v.name, v.hostPath]));
  const mounts = (p: V1Pod) => Object.fromEntries((p.spec!.containers[0]!.volumeMounts ?? []).map((m) => [m.name, { mountPath: m.mountPath, readOnly: m.readOnly }]));

  test('each existing directory: a read-only DirectoryOrCreate volume named as kubeadm names it, in kube-apiserver and kube-controller-manager only', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const rendered = renderCluster({ ...ctx, hostEnvironments: new Map([['cp1', { systemdResolved: false, caDirs: ALL }]]) }).hosts;
    const plain = renderCluster(ctx).hosts;
    for (const name of ['kube-apiserver', 'kube-controller-manager']) {
      const [withDirs, without] = [pod(rendered, 'cp1', name), pod(plain, 'cp1', name)];
      const added = Object.fromEntries(ALL.map((path, i) => [NAMES[i]!, { path, type: 'DirectoryOrCreate' }]));
      expect(volumes(withDirs), name).toEqual({ ...volumes(without), ...added });
      expect(mounts(withDirs), name).toEqual({ ...mounts(without), ...Object.fromEntries(ALL.map((path, i) => [NAMES[i]!, { mountPath: path, readOnly: true }])) });
      // Sorted by name, as kubeadm writes them.
      const names = withDirs.spec!.volumes!.map((v) => v.name);
      expect(names).toEqual([...names].sort());
    }
    expect(content(rendered, 'cp1', '/etc/kubernetes/manifests/kube-scheduler.yaml')).toBe(content(plain, 'cp1', '/etc/kubernetes/manifests/kube-scheduler.yaml'));
    expect(content(rendered, 'cp1', '/etc/kubernetes/manifests/etcd.yaml')).toBe(content(plain, 'cp1', '/etc/kubernetes/manifests/etcd.yaml'));
    // Per host: cp2 said nothing and keeps the render's choice.
    expect(rendered.get('cp2')).toEqual(plain.get('cp2'));
  });

  test('only the directories the host has', async () => {
    const ctx = await fixtureContext('single-node');
    const rendered = renderCluster({ ...ctx, hostEnvironments: everyHost(ctx, { systemdResolved: false, caDirs: ['/etc/ca-certificates', '/usr/share/ca-certificates'] }) }).hosts;
    const apiserver = volumes(pod(rendered, 'node1', 'kube-apiserver'));
    expect(Object.keys(apiserver).sort()).toEqual(['ca-certs', 'etc-ca-certificates', 'k8s-certs', 'usr-share-ca-certificates']);
  });

  test('a render without facts mounts none by default (a directory the host lacks would be created empty)', async () => {
    for (const example of ['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack']) {
      const ctx = assuming(await fixtureContext(example), RESOLVED_HOST);
      const rendered = renderCluster(ctx).hosts;
      for (const host of ctx.cluster.controlPlanes) {
        expect(Object.keys(volumes(pod(rendered, host.name, 'kube-apiserver'))).sort(), `${example} ${host.name}`).toEqual(['ca-certs', 'k8s-certs']);
      }
    }
  });

  test('spec.hostFacts.caDirectories: what a render without facts mounts, and a host that said otherwise wins', async () => {
    const ctx = assuming(await fixtureContext('ha-stacked'), { systemdResolved: false, caDirs: ['/etc/pki/ca-trust', '/etc/pki/tls/certs'] });
    const rendered = renderCluster({ ...ctx, hostEnvironments: new Map([['cp2', NOTHING]]) }).hosts;
    expect(Object.keys(volumes(pod(rendered, 'cp1', 'kube-controller-manager'))).sort()).toEqual(['ca-certs', 'etc-pki-ca-trust', 'etc-pki-tls-certs', 'flexvolume-dir', 'k8s-certs', 'kubeconfig']);
    expect(Object.keys(volumes(pod(rendered, 'cp2', 'kube-controller-manager'))).sort()).toEqual(['ca-certs', 'flexvolume-dir', 'k8s-certs', 'kubeconfig']);
  });
});
