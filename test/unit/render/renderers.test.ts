import yaml from 'js-yaml';
import { describe, expect, test } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { hostsWithRole, withHosts, type Cluster, type Host } from '../../../src/config/model.js';
import { renderHost } from '../../../src/render/host.js';
import { argumentsToCommand } from '../../../src/render/flags.js';
import { componentVersions } from '../../../src/kubeadm/versions.js';
import type { RenderContext } from '../../../src/render/context.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { fixtureContext } from './fixture.js';
import { kubeadmClusterConfiguration } from '../../../src/kube/published-cluster.js';

const file = (files: RenderedFile[], path: string): RenderedFile => {
  const found = files.find((f) => f.path === path);
  if (!found) throw new Error(`${path} not rendered; have ${files.map((f) => f.path).join(', ')}`);
  return found;
};
const pod = (files: RenderedFile[], name: string): V1Pod => yaml.load(String(file(files, `/etc/kubernetes/manifests/${name}.yaml`).content)) as V1Pod;
const command = (p: V1Pod): string[] => p.spec!.containers[0]!.command!;
const flag = (p: V1Pod, name: string): string | undefined => command(p).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const host = (cluster: Cluster, name: string): Host => cluster.hosts.find((h) => h.name === name)!;

/** The context with a changed cluster, its role sets computed again for the changed hosts and placement. */
const withCluster = (ctx: RenderContext, change: (c: Cluster) => Cluster): RenderContext => {
  const changed = change(structuredClone(ctx.cluster));
  return { ...ctx, cluster: withHosts(changed, changed.hosts) };
};

describe('argumentsToCommand', () => {
  test('extra args replace defaults of the same name and the result sorts by name, then value', () => {
    const out = argumentsToCommand(
      [
        { name: 'b', value: '1' },
        { name: 'a', value: 'x' },
      ],
      [
        { name: 'b', value: '3' },
        { name: 'b', value: '2' },
      ],
    );
    expect(out).toEqual(['--a=x', '--b=2', '--b=3']);
  });
});

describe('component versions', () => {
  // kubeadm's constants.go at each tag: the patch release decides, not only the minor.
  test.each([
    ['v1.30.2', '3.5.12-0', 'v1.11.1', '3.9'],
    ['v1.30.5', '3.5.15-0', 'v1.11.3', '3.9'],
    ['v1.31.0', '3.5.15-0', 'v1.11.1', '3.10'],
    ['v1.31.1', '3.5.15-0', 'v1.11.3', '3.10'],
    ['v1.31.13', '3.5.15-0', 'v1.11.3', '3.10'],
    ['v1.31.14', '3.5.24-0', 'v1.11.3', '3.10'],
    ['v1.32.4', '3.5.16-0', 'v1.11.3', '3.10'],
    ['v1.32.9', '3.5.16-0', 'v1.11.3', '3.10'],
    ['v1.32.10', '3.5.24-0', 'v1.11.3', '3.10'],
    ['v1.33.1', '3.5.21-0', 'v1.12.0', '3.10'],
    ['v1.33.6', '3.5.24-0', 'v1.12.0', '3.10'],
    ['v1.33.13', '3.5.24-0', 'v1.12.0', '3.10'],
  ])('%s uses etcd %s, CoreDNS %s, pause %s', (version, etcd, coredns, pause) => expect(componentVersions(version)).toEqual({ etcd, coredns, pause }));
  test('an unsupported minor is a config error naming the field', () => {
    expect(() => componentVersions('v1.29.0')).toThrow(/spec\.kubernetesVersion.*v1\.29\.0/);
  });
});

describe('stacked control plane (ha-stacked)', () => {
  test('etcd lists every member, listens on loopback and the host address, mounts data then certs', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const etcd = pod(renderHost(ctx, host(ctx.cluster, 'cp2')), 'etcd');
    expect(flag(etcd, 'initial-cluster')).toBe('cp1=https://192.168.10.11:2380,cp2=https://192.168.10.12:2380,cp3=https://192.168.10.13:2380');
    expect(flag(etcd, 'listen-client-urls')).toBe('https://127.0.0.1:2379,https://192.168.10.12:2379');
    // gRPC alone on 2379; the HTTP API (kbuild's health gates, member list, join, reset) on 2382.
    expect(flag(etcd, 'listen-client-http-urls')).toBe('https://127.0.0.1:2382,https://192.168.10.12:2382');
    expect(flag(etcd, 'name')).toBe('cp2');
    expect(etcd.spec!.containers[0]!.image).toBe('registry.k8s.io/etcd:3.5.16-0');
    expect(etcd.spec!.containers[0]!.volumeMounts!.map((m) => m.name)).toEqual(['etcd-data', 'etcd-certs']);
    expect(etcd.spec!.volumes!.map((v) => v.name)).toEqual(['etcd-certs', 'etcd-data']);
    expect(etcd.metadata!.annotations).toEqual({ 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://192.168.10.12:2379' });
  });

  test('kube-apiserver: local etcd first then the other members, sorted flags, probes on the advertise address, kubeadm pod fields', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const files = renderHost(ctx, host(ctx.cluster, 'cp1'));
    const api = pod(files, 'kube-apiserver');
    const args = command(api).slice(1);
    expect(args).toEqual([...args].sort());
    expect(flag(api, 'etcd-servers')).toBe('https://127.0.0.1:2379,https://192.168.10.12:2379,https://192.168.10.13:2379');
    // Behind the load balancer it drains before it stops (render/README.md).
    expect(flag(api, 'shutdown-delay-duration')).toBe('10s');
    expect(flag(api, 'advertise-address')).toBe('192.168.10.11');
    expect(flag(api, 'service-cluster-ip-range')).toBe('10.96.0.0/12');
    const c = api.spec!.containers[0]!;
    expect(c.livenessProbe).toEqual({ failureThreshold: 8, httpGet: { host: '192.168.10.11', path: '/livez', port: 6443, scheme: 'HTTPS' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15 });
    expect(c.readinessProbe).toEqual({ failureThreshold: 3, httpGet: { host: '192.168.10.11', path: '/readyz', port: 6443, scheme: 'HTTPS' }, periodSeconds: 1, timeoutSeconds: 15 });
    expect(c.startupProbe!.failureThreshold).toBe(24);
    expect(c.resources).toEqual({ requests: { cpu: '250m' } });
    expect(c.image).toBe('registry.k8s.io/kube-apiserver:v1.32.4');
    expect(api.spec!.priority).toBe(2000001000);
    expect(api.spec!.priorityClassName).toBe('system-node-critical');
    expect(api.spec!.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(api.spec!.hostNetwork).toBe(true);
    expect(api.metadata!.labels).toEqual({ component: 'kube-apiserver', tier: 'control-plane' });
    expect(api.spec!.volumes!.map((v) => v.name)).toEqual(['ca-certs', 'k8s-certs']);
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      expect(file(files, `/etc/kubernetes/manifests/${name}.yaml`).mode).toBe(0o600);
      expect(String(file(files, `/etc/kubernetes/manifests/${name}.yaml`).content)).toMatch(/^# Generated by kbuild \(render\//);
    }
  });

  test('controller-manager and scheduler follow kubeadm (pod CIDR flags, probe ports, volumes)', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const files = renderHost(ctx, host(ctx.cluster, 'cp1'));
    const kcm = pod(files, 'kube-controller-manager');
    expect(flag(kcm, 'cluster-cidr')).toBe('10.244.0.0/16');
    expect(flag(kcm, 'allocate-node-cidrs')).toBe('true');
    expect(flag(kcm, 'controllers')).toBe('*,bootstrapsigner,tokencleaner');
    expect(kcm.spec!.containers[0]!.livenessProbe!.httpGet).toEqual({ host: '127.0.0.1', path: '/healthz', port: 10257, scheme: 'HTTPS' });
    expect(kcm.spec!.volumes!.map((v) => v.name)).toEqual(['ca-certs', 'flexvolume-dir', 'k8s-certs', 'kubeconfig']);
    expect(kcm.spec!.containers[0]!.volumeMounts!.find((m) => m.name === 'flexvolume-dir')!.readOnly).toBeUndefined();
    const sched = pod(files, 'kube-scheduler');
    expect(command(sched)).toEqual([
      'kube-scheduler',
      '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
      '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf',
      '--bind-address=127.0.0.1',
      '--kubeconfig=/etc/kubernetes/scheduler.conf',
      '--leader-elect=true',
    ]);
    expect(sched.spec!.containers[0]!.livenessProbe!.httpGet!.port).toBe(10259);
  });

  test('apiServer.extraArgs replace the default of the same name', async () => {
    const base = await fixtureContext('ha-stacked');
    const ctx = withCluster(base, (c) => ({ ...c, apiServer: { ...c.apiServer, extraArgs: { 'authorization-mode': 'Node,RBAC,Bogus', 'audit-log-maxage': '30' } } }));
    const api = pod(renderHost(ctx, host(ctx.cluster, 'cp1')), 'kube-apiserver');
    expect(command(api).filter((a) => a.startsWith('--authorization-mode='))).toEqual(['--authorization-mode=Node,RBAC']);
    expect(flag(api, 'audit-log-maxage')).toBe('30');
  });
});

describe('external etcd (ha-external-etcd)', () => {
  test('control planes run no etcd and talk to every external member', async () => {
    const ctx = await fixtureContext('ha-external-etcd');
    const files = renderHost(ctx, host(ctx.cluster, 'cp1'));
    expect(files.some((f) => f.path.endsWith('/etcd.yaml'))).toBe(false);
    expect(flag(pod(files, 'kube-apiserver'), 'etcd-servers')).toBe('https://192.168.20.21:2379,https://192.168.20.22:2379,https://192.168.20.23:2379');
  });

  test('extraVolumes add to or replace (by name) the default volumes; extraEnvs become the container env', async () => {
    const ctx = withCluster(await fixtureContext('ha-external-etcd'), (c) => ({
      ...c,
      apiServer: { ...c.apiServer, extraVolumes: [{ name: 'k8s-certs', hostPath: '/srv/pki', mountPath: '/etc/kubernetes/pki', readOnly: true }, { name: 'audit', hostPath: '/var/log/audit', mountPath: '/audit', readOnly: false, pathType: 'DirectoryOrCreate' }], extraEnvs: [{ name: 'GOMAXPROCS', value: '2' }] },
    }));
    const apiserver = pod(renderHost(ctx, host(ctx.cluster, 'cp1')), 'kube-apiserver');
    const volumes = Object.fromEntries(apiserver.spec!.volumes!.map((v) => [v.name, v.hostPath]));
    expect(volumes['k8s-certs']).toEqual({ path: '/srv/pki', type: '' });
    expect(volumes.audit).toEqual({ path: '/var/log/audit', type: 'DirectoryOrCreate' });
    expect(apiserver.spec!.containers[0]!.volumeMounts).toContainEqual({ mountPath: '/etc/kubernetes/pki', name: 'k8s-certs', readOnly: true });
    expect(apiserver.spec!.containers[0]!.volumeMounts).toContainEqual({ mountPath: '/audit', name: 'audit' });
    expect(apiserver.spec!.containers[0]!.env).toEqual([{ name: 'GOMAXPROCS', value: '2' }]);
    expect(pod(renderHost(ctx, host(ctx.cluster, 'cp1')), 'kube-scheduler').spec!.containers[0]!.env).toBeUndefined();
  });

  test('spec.clusterName is kube-controller-manager\'s --cluster-name', async () => {
    const ctx = withCluster(await fixtureContext('ha-external-etcd'), (c) => ({ ...c, clusterName: 'prod-eu' }));
    expect(flag(pod(renderHost(ctx, host(ctx.cluster, 'cp1')), 'kube-controller-manager'), 'cluster-name')).toBe('prod-eu');
  });

  test('spec.etcd.extraArgs replace or add to the flags on every member, as kubeadm\'s etcd.local.extraArgs', async () => {
    const ctx = withCluster(await fixtureContext('ha-external-etcd'), (c) => ({ ...c, etcd: { ...c.etcd, extraArgs: { 'snapshot-count': '5000', 'quota-backend-bytes': '8589934592' } } }));
    const etcd = pod(renderHost(ctx, host(ctx.cluster, 'etcd2')), 'etcd');
    expect(command(etcd).filter((a) => a.startsWith('--snapshot-count='))).toEqual(['--snapshot-count=5000']);
    expect(flag(etcd, 'quota-backend-bytes')).toBe('8589934592');
    expect(flag(etcd, 'name')).toBe('etcd2');
  });

  test('etcd hosts get etcd.yaml with all etcd hosts and a standalone kubelet', async () => {
    const ctx = await fixtureContext('ha-external-etcd');
    const files = renderHost(ctx, host(ctx.cluster, 'etcd3'));
    const etcd = pod(files, 'etcd');
    expect(flag(etcd, 'initial-cluster')).toBe('etcd1=https://192.168.20.21:2380,etcd2=https://192.168.20.22:2380,etcd3=https://192.168.20.23:2380');
    expect(flag(etcd, 'listen-peer-urls')).toBe('https://192.168.20.23:2380');
    const drop = String(file(files, '/etc/systemd/system/kubelet.service.d/20-kbuild.conf').content);
    expect(drop).toContain('Environment="KUBELET_KUBECONFIG_ARGS="');
    // systemd reads drop-ins in name order, the last one winning: kbuild's comes after kubeadm's package's.
    expect(['10-kubeadm.conf', '20-kbuild.conf'].sort().at(-1)).toBe('20-kbuild.conf');
    expect(drop).toMatch(/^ExecStart=$/m);
    const config = yaml.load(String(file(files, '/var/lib/kubelet/config.yaml').content)) as Record<string, unknown>;
    expect(config.authorization).toEqual({ mode: 'AlwaysAllow' });
    expect(files.some((f) => f.path === '/etc/kubernetes/bootstrap-kubelet.conf')).toBe(false);
  });
});

describe('IPv6 addresses are bracketed in URLs and bare in probe hosts', () => {
  test('a control plane with an IPv6 address', async () => {
    const base = await fixtureContext('single-node');
    const ctx = withCluster(base, (c) => withHosts(c, c.hosts.map((h) => ({ ...h, address: 'fd00::21' }))));
    const files = renderHost(ctx, ctx.cluster.hosts[0]!);
    const etcd = pod(files, 'etcd');
    expect(flag(etcd, 'listen-client-urls')).toBe('https://[::1]:2379,https://[fd00::21]:2379');
    expect(flag(etcd, 'listen-metrics-urls')).toBe('http://[::1]:2381');
    expect(flag(etcd, 'initial-cluster')).toBe('node1=https://[fd00::21]:2380');
    expect(etcd.spec!.containers[0]!.livenessProbe!.httpGet!.host).toBe('::1');
    const api = pod(files, 'kube-apiserver');
    expect(flag(api, 'etcd-servers')).toBe('https://[::1]:2379');
    expect(api.metadata!.annotations!['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint']).toBe('[fd00::21]:6443');
    expect(api.spec!.containers[0]!.livenessProbe!.httpGet!.host).toBe('fd00::21');
  });
});

describe('kubelet files', () => {
  test('a worker gets config, flags, drop-in, ca.crt and a bootstrap kubeconfig carrying the token', async () => {
    const ctx = await fixtureContext('dual-stack');
    const files = renderHost(ctx, host(ctx.cluster, 'worker1'));
    const config = yaml.load(String(file(files, '/var/lib/kubelet/config.yaml').content)) as Record<string, unknown>;
    expect(config).toMatchObject({ clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', staticPodPath: '/etc/kubernetes/manifests', healthzPort: 10248, readOnlyPort: 0, rotateCertificates: true, cgroupDriver: 'systemd' });
    const flags = file(files, '/var/lib/kubelet/kubeadm-flags.env');
    expect(flags.mode).toBe(0o644);
    expect(String(flags.content).split('\n')[1]).toBe(
      'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --hostname-override=worker1 --pod-infra-container-image=registry.k8s.io/pause:3.10"',
    );
    const bootstrap = file(files, '/etc/kubernetes/bootstrap-kubelet.conf');
    expect(bootstrap.mode).toBe(0o600);
    expect(bootstrap.secret).toBe(true);
    const kubeconfig = yaml.load(String(bootstrap.content)) as { users: { name: string; user: { token: string } }[]; clusters: { cluster: { server: string } }[] };
    expect(kubeconfig.users[0]).toEqual({ name: 'tls-bootstrap-token-user', user: { token: 'abcdef.0123456789abcdef' } });
    expect(kubeconfig.clusters[0]!.cluster.server).toBe('https://192.168.30.11:6443');
    expect(file(files, '/etc/kubernetes/pki/ca.crt').content).toBe(ctx.pki.caCertPem);
  });
});

describe('node labels and taints', () => {
  const flagsOf = (files: RenderedFile[]) => String(file(files, '/var/lib/kubelet/kubeadm-flags.env').content).split('\n')[1];
  const labelled = (ctx: RenderContext) =>
    withCluster(ctx, (c) => ({
      ...c,
      hosts: c.hosts.map((h) =>
        h.name === 'worker1' ? { ...h, labels: { 'topology.kubernetes.io/zone': 'a', disktype: 'ssd' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const }, { key: 'spot', effect: 'NoExecute' as const }] }
        : h.name === 'cp1' ? { ...h, labels: { disktype: 'nvme' }, taints: [] } : h,
      ),
    }));

  test("a worker registers with its labels (sorted) and taints, kubeadm's format (key=value:effect, key:effect)", async () => {
    const ctx = labelled(await fixtureContext('dual-stack'));
    expect(flagsOf(renderHost(ctx, host(ctx.cluster, 'worker1')))).toBe(
      'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --hostname-override=worker1 --node-labels=disktype=ssd,topology.kubernetes.io/zone=a --pod-infra-container-image=registry.k8s.io/pause:3.10 --register-with-taints=dedicated=gpu:NoSchedule,spot:NoExecute"',
    );
  });

  test('a control plane registers with its labels; its taints come from mark-control-plane, not a flag (as kubeadm init)', async () => {
    const ctx = labelled(await fixtureContext('dual-stack'));
    const flags = flagsOf(renderHost(ctx, host(ctx.cluster, 'cp1')));
    expect(flags).toContain('--node-labels=disktype=nvme');
    expect(flags).not.toContain('register-with-taints');
    const tainted = withCluster(ctx, (c) => ({ ...c, hosts: c.hosts.map((h) => (h.name === 'cp1' ? { ...h, taints: [{ key: 'x', effect: 'NoSchedule' as const }] } : h)) }));
    expect(flagsOf(renderHost(tainted, host(tainted.cluster, 'cp1')))).not.toContain('register-with-taints');
  });

  test('without labels or taints the flags are as before (no empty flag)', async () => {
    const ctx = await fixtureContext('dual-stack');
    const flags = flagsOf(renderHost(ctx, host(ctx.cluster, 'worker2')));
    expect(flags).not.toContain('node-labels');
    expect(flags).not.toContain('register-with-taints');
  });
});

describe("kubeadm's proxy.disabled and dns.disabled", () => {
  test('no kube-proxy or CoreDNS addon file, the other addons as before, and kubeadm-config says so', async () => {
    const ctx = await fixtureContext('single-node');
    const addons = (c: RenderContext) => renderHost(c, host(c.cluster, 'node1')).map((f) => f.path).filter((p) => p.startsWith('/etc/kubernetes/addons/'));
    const off = withCluster(ctx, (c) => ({ ...c, kubeProxy: { ...c.kubeProxy, disabled: true }, dns: { disabled: true } }));
    expect(addons(ctx).filter((p) => !addons(off).includes(p))).toEqual(['/etc/kubernetes/addons/10-kube-proxy.yaml', '/etc/kubernetes/addons/20-coredns.yaml']);
    expect(kubeadmClusterConfiguration(off.cluster)).toMatchObject({ dns: { disabled: true }, proxy: { disabled: true } });
    expect(kubeadmClusterConfiguration(ctx.cluster)).not.toHaveProperty('dns');
    expect(kubeadmClusterConfiguration(ctx.cluster)).not.toHaveProperty('proxy');
  });
});

describe('load balancer', () => {
  test('LB hosts: haproxy with a verified /readyz check per control plane, keepalived MASTER then BACKUP', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const [lb1, lb2] = hostsWithRole(ctx.cluster, 'load-balancer').map((h) => renderHost(ctx, h));
    const cfg = String(file(lb1!, '/etc/haproxy/haproxy.cfg').content);
    expect(cfg).toContain('bind *:6443');
    expect(cfg).toContain('http-check send meth GET uri /readyz');
    expect(cfg).toContain('verify required ca-file /etc/haproxy/kbuild-ca.crt');
    expect(cfg).not.toContain('verify none');
    expect(cfg.match(/^ {4}server /gm)).toHaveLength(ctx.cluster.controlPlanes.length);
    expect(cfg).toContain('server cp2 192.168.10.12:6443');
    expect(file(lb1!, '/etc/haproxy/kbuild-ca.crt').content).toBe(ctx.pki.caCertPem);
    const k1 = String(file(lb1!, '/etc/keepalived/keepalived.conf').content);
    const k2 = String(file(lb2!, '/etc/keepalived/keepalived.conf').content);
    expect(k1).toMatch(/state MASTER[\s\S]*interface eth0[\s\S]*virtual_router_id 51[\s\S]*priority 101[\s\S]*auth_pass Pa55w0rd[\s\S]*192\.168\.10\.100/);
    expect(k2).toMatch(/state BACKUP[\s\S]*virtual_router_id 51[\s\S]*priority 100/);
    const check = file(lb2!, '/etc/keepalived/check_apiserver.sh');
    expect(check.mode).toBe(0o755);
    expect(String(check.content).split('\n').slice(0, 2)).toEqual(['#!/bin/sh', '# Generated by kbuild (template check_apiserver.sh.hbs). Edit the cluster file and re-render instead.']);
  });

  test('placement control-plane: HAProxy and keepalived static pods on every control plane, frontend on the LB port', async () => {
    const base = await fixtureContext('ha-stacked');
    const ctx = withCluster(base, (c) => ({
      ...c,
      hosts: c.hosts.filter((h) => !h.roles.includes('load-balancer')),
      loadBalancer: { ...c.loadBalancer, placement: 'control-plane', port: 8443 },
    }));
    for (const cp of ctx.cluster.controlPlanes) {
      const files = renderHost(ctx, cp);
      expect(String(file(files, '/etc/haproxy/haproxy.cfg').content)).toContain('bind *:8443');
      const haproxy = pod(files, 'haproxy');
      expect(haproxy.spec!.hostNetwork).toBe(true);
      expect(haproxy.spec!.containers[0]!.volumeMounts).toContainEqual({ mountPath: '/usr/local/etc/haproxy/haproxy.cfg', name: 'haproxyconf', readOnly: true });
      expect(pod(files, 'keepalived').spec!.containers[0]!.securityContext!.capabilities!.add).toEqual(['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW']);
    }
  });
});

describe('addons on the first control plane only', () => {
  test('kube-dns at the 10th service IP, bootstrap token secret, cluster-info with one cluster named ""', async () => {
    const ctx = await fixtureContext('ha-stacked');
    expect(renderHost(ctx, host(ctx.cluster, 'cp2')).some((f) => f.path.startsWith('/etc/kubernetes/addons/'))).toBe(false);
    const files = renderHost(ctx, host(ctx.cluster, 'cp1'));
    const docs = (path: string) => yaml.loadAll(String(file(files, path).content)) as Array<Record<string, unknown>>;
    const service = docs('/etc/kubernetes/addons/20-coredns.yaml').find((d) => d.kind === 'Service') as unknown as { spec: { clusterIP: string }; metadata: { name: string } };
    expect(service.metadata.name).toBe('kube-dns');
    expect(service.spec.clusterIP).toBe('10.96.0.10');
    const token = docs('/etc/kubernetes/addons/01-bootstrap-token.yaml')[0] as unknown as { metadata: { name: string }; type: string; data: Record<string, string> };
    expect(token.metadata.name).toBe('bootstrap-token-abcdef');
    expect(token.type).toBe('bootstrap.kubernetes.io/token');
    const decoded = Object.fromEntries(Object.entries(token.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(decoded).toMatchObject({ 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token' });
    expect(file(files, '/etc/kubernetes/addons/01-bootstrap-token.yaml').secret).toBe(true);
    const info = docs('/etc/kubernetes/addons/02-cluster-info.yaml')[0] as unknown as { data: { kubeconfig: string } };
    const kubeconfig = yaml.load(info.data.kubeconfig) as { clusters: { name: string; cluster: { server: string } }[]; users: unknown };
    expect(kubeconfig.clusters).toHaveLength(1);
    expect(kubeconfig.clusters[0]!.name).toBe('');
    expect(kubeconfig.clusters[0]!.cluster.server).toBe('https://api.demo.internal:6443');
    const rbacNames = docs('/etc/kubernetes/addons/00-bootstrap-rbac.yaml').map((d) => `${String(d.kind)}/${(d.metadata as { name: string }).name}`);
    expect(rbacNames).toEqual(
      expect.arrayContaining([
        'ClusterRoleBinding/kubeadm:kubelet-bootstrap',
        'ClusterRole/kubeadm:get-nodes',
        'ClusterRoleBinding/kubeadm:node-autoapprove-bootstrap',
        'ClusterRoleBinding/kubeadm:node-autoapprove-certificate-rotation',
        'Role/kubeadm:bootstrap-signer-clusterinfo',
        'RoleBinding/kubeadm:bootstrap-signer-clusterinfo',
      ]),
    );
    const proxy = docs('/etc/kubernetes/addons/10-kube-proxy.yaml').map((d) => d.kind);
    expect(proxy).toEqual(['ServiceAccount', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'DaemonSet']);
  });
});
