/** The builtin pod network (spec.networking.cni: builtin) and the user-manifest one, as rendered. */
import { execFileSync } from 'node:child_process';
import yaml from 'js-yaml';
import { describe, expect, test } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../../../src/config/model.js';
import { renderHost } from '../../../src/render/host.js';
import type { RenderContext } from '../../../src/render/context.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { fixtureContext } from './fixture.js';

const CONFLIST = '/etc/cni/net.d/10-kbuild.conflist';
const SCRIPT = '/etc/kubernetes/kbuild-pod-network.sh';

const withCluster = (ctx: RenderContext, change: (c: Cluster) => void): RenderContext => {
  const cluster = structuredClone(ctx.cluster);
  change(cluster);
  return { ...ctx, cluster };
};
const builtin = async (example: string) => withCluster(await fixtureContext(example), (c) => (c.networking.cni = { type: 'builtin' }));
const text = (files: RenderedFile[], path: string) => String(files.find((f) => f.path === path)?.content ?? '');
const filesOf = (ctx: RenderContext, name: string) => renderHost(ctx, ctx.cluster.hosts.find((h) => h.name === name)!);

interface Conflist {
  cniVersion: string;
  plugins: Array<{ type: string; bridge?: string; ipMasq?: boolean; ipam?: { type: string; ranges: Array<Array<{ subnet: string }>> } }>;
}

describe('builtin pod network', () => {
  test('each node gets the next /24 of podSubnet in cluster-file order; load balancers get nothing', async () => {
    const ctx = await builtin('ha-stacked');
    const ranges = Object.fromEntries(
      ctx.cluster.hosts.map((h) => {
        const conflist = text(renderHost(ctx, h), CONFLIST);
        return [h.name, conflist ? (JSON.parse(conflist) as Conflist).plugins[0]!.ipam!.ranges.flat().map((r) => r.subnet) : []];
      }),
    );
    expect(ranges).toEqual({
      lb1: [],
      lb2: [],
      cp1: ['10.244.0.0/24'],
      cp2: ['10.244.1.0/24'],
      cp3: ['10.244.2.0/24'],
      worker1: ['10.244.3.0/24'],
      worker2: ['10.244.4.0/24'],
      worker3: ['10.244.5.0/24'],
    });
  });

  test('the CNI config uses only standard plugins: a bridge with host-local addresses, portmap; no plugin masquerading', async () => {
    const conflist = JSON.parse(text(filesOf(await builtin('ha-stacked'), 'worker1'), CONFLIST)) as Conflist;
    expect(conflist.cniVersion).toBe('1.0.0');
    expect(conflist.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conflist.plugins[0]).toMatchObject({ bridge: 'kbuild0', ipMasq: false, ipam: { type: 'host-local' } });
  });

  test('the script routes every other node range via that node, masquerades only what leaves the pod range, and is valid sh', async () => {
    const files = filesOf(await builtin('ha-stacked'), 'cp2');
    const script = text(files, SCRIPT);
    expect(files.find((f) => f.path === SCRIPT)?.mode).toBe(0o755);
    const routes = script.split('\n').filter((l) => l.includes('route replace')).map((l) => l.trim());
    expect(routes).toEqual([
      'ip -4 route replace 10.244.0.0/24 via 192.168.10.11 proto 212',
      'ip -4 route replace 10.244.2.0/24 via 192.168.10.13 proto 212',
      'ip -4 route replace 10.244.3.0/24 via 192.168.10.31 proto 212',
      'ip -4 route replace 10.244.4.0/24 via 192.168.10.32 proto 212',
      'ip -4 route replace 10.244.5.0/24 via 192.168.10.33 proto 212',
    ]);
    expect(script).toContain("iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m comment --comment 'kbuild pod network' -j MASQUERADE");
    execFileSync('sh', ['-n'], { input: script });
    expect(script).toMatch(/^if \[ "\$\{1:-\}" = remove \]; then\n(.+\n)* {2}ip link delete kbuild0 2>\/dev\/null \|\| true\nelse$/m);
  });

  test('dual-stack: one range per family on each node, IPv6 blocks are /64', async () => {
    const conflist = JSON.parse(text(filesOf(await builtin('dual-stack'), 'cp1'), CONFLIST)) as Conflist;
    expect(conflist.plugins[0]!.ipam!.ranges.flat().map((r) => r.subnet)).toEqual(['10.244.0.0/24', 'fd00:10:244::/64']);
  });

  test('the kubelet runs the script before every start; the controller-manager hands out no node ranges', async () => {
    const files = filesOf(await builtin('ha-stacked'), 'cp1');
    expect(text(files, '/etc/systemd/system/kubelet.service.d/20-kbuild.conf')).toMatch(/^ExecStartPre=-\/etc\/kubernetes\/kbuild-pod-network\.sh$/m);
    const cm = yaml.load(text(files, '/etc/kubernetes/manifests/kube-controller-manager.yaml')) as V1Pod;
    expect(cm.spec!.containers[0]!.command).toContain('--allocate-node-cidrs=false');
  });

  test('both files are owned by the pod-network component and init phase', async () => {
    const files = filesOf(await builtin('ha-stacked'), 'worker1');
    const own = files.filter((f) => f.path === CONFLIST || f.path === SCRIPT);
    expect(own.map((f) => [f.component, f.phase])).toEqual([['pod-network', 'pod-network'], ['pod-network', 'pod-network']]);
  });

  test('with cni: none (the default) nothing of it is rendered and node IPAM stays on, as kubeadm', async () => {
    const ctx = await fixtureContext('ha-stacked');
    const files = filesOf(ctx, 'cp1');
    expect(files.some((f) => f.path === CONFLIST || f.path === SCRIPT)).toBe(false);
    expect(text(files, '/etc/systemd/system/kubelet.service.d/20-kbuild.conf')).not.toContain('ExecStartPre');
    const cm = yaml.load(text(files, '/etc/kubernetes/manifests/kube-controller-manager.yaml')) as V1Pod;
    expect(cm.spec!.containers[0]!.command).toContain('--allocate-node-cidrs=true');
  });
});

describe('pod network from a manifest', () => {
  test('the manifest becomes the 30-pod-network.yaml addon on the first control plane, as written', async () => {
    const manifest = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: my-cni\n';
    const ctx = { ...withCluster(await fixtureContext('ha-stacked'), (c) => (c.networking.cni = { type: 'manifest', manifest: 'cni.yaml' })), podNetworkManifest: manifest };
    const addon = text(filesOf(ctx, 'cp1'), '/etc/kubernetes/addons/30-pod-network.yaml');
    expect(addon.startsWith('# Generated by kbuild')).toBe(true);
    expect(addon.endsWith(manifest)).toBe(true);
    expect(filesOf(ctx, 'cp2').some((f) => f.path.endsWith('30-pod-network.yaml'))).toBe(false);
  });
});
