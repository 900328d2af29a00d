import { describe, expect, it } from 'vitest';
import { buildCluster, type Cluster } from '../../src/config/model.js';
import { parseClusterFile } from '../../src/config/load.js';
import { applyIgnores, checkHost, checkHostnamesUnique, pathsToTest } from '../../src/preflight/checks.js';
import { factsCommand, parseFacts, type HostFacts } from '../../src/preflight/facts.js';
import { readFileSync } from 'node:fs';
import { factsOutput } from '../support/facts.js';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const cluster: Cluster = buildCluster(parseClusterFile(readFileSync(join(root, 'examples/ha-stacked.yaml'), 'utf8'), 'ha-stacked.yaml'));
const host = (name: string) => cluster.hosts.find((h) => h.name === name)!;

/** Output shaped like the real commands on a healthy control plane: the shared healthy host, as cp1 with its network. */
const healthyOutput = (overrides: Record<string, string> = {}) =>
  factsOutput({
    hostname: 'cp1',
    listen: 'LISTEN 0      128    0.0.0.0:22 0.0.0.0:*',
    addr: JSON.stringify([
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.168.10.11', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
    ]),
    route4: JSON.stringify([{ dst: 'default', gateway: '192.168.10.1', dev: 'eth0' }, { dst: '192.168.10.0/24', dev: 'eth0', protocol: 'kernel' }]),
    ...overrides,
  });
const facts = (overrides: Record<string, string> = {}): HostFacts => parseFacts(healthyOutput(overrides));
const names = (overrides: Record<string, string> = {}, h = 'cp1') => checkHost(cluster, host(h), facts(overrides), 1763700000).map((f) => `${f.level} ${f.name}`);

describe('preflight', () => {
  it('passes a healthy control plane', () => {
    expect(names()).toEqual([]);
  });

  it('parses the real output of this machine', async () => {
    const { execSync } = await import('node:child_process');
    const parsed = parseFacts(execSync(factsCommand(['/etc/hostname', '/nonexistent']), { shell: '/bin/sh', encoding: 'utf8' }));
    expect(parsed.uid).toBe(process.getuid!());
    expect(parsed.binaries.ip).toBe(true);
    expect(parsed.existing).toEqual(new Set(['/etc/hostname']));
    expect(parsed.addresses.some((a) => a.ifname === 'lo' && a.local === '127.0.0.1')).toBe(true);
    expect(parsed.epochSeconds).toBeGreaterThan(1_700_000_000);
  });

  it.each([
    [{ uid: '1000' }, 'error IsPrivilegedUser'],
    [{ binaries: 'kubelet\nip\niptables\nmount\nnsenter\ncurl' }, 'error FileExisting-conntrack'],
    [{ binaries: 'kubelet\nconntrack\nip\niptables\nmount\nnsenter' }, 'error FileExisting-curl'],
    [{ paths: '' }, 'error CRI'],
    [{ swaps: 'Filename Type Size Used Priority\n/swapfile file 1024 0 -2' }, 'error Swap'],
    [{ ip_forward: '0' }, 'error FileContent--proc-sys-net-ipv4-ip_forward'],
    [{ listen: 'LISTEN 0 4096 *:6443 *:*' }, 'error Port-6443'],
    [{ listen: 'LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:*' }, 'error Port-2379'],
    [{ hostname: 'ubuntu' }, 'warning Hostname'],
    [{ epoch: '1763700100' }, 'error ClockSkew'],
    [{ etcd_data_dir: '/data/etcd' }, 'error EtcdDataDir'],
  ])('%j → %s', (overrides, expected) => {
    expect(names(overrides)).toEqual([expected]);
  });

  it("reads the etcd manifest's --data-dir as the facts command does, quoted or not; the same directory as the cluster file's passes", async () => {
    const { execSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(join((await import('node:os')).tmpdir(), 'kbuild-facts-'));
    const command = factsCommand([]).replaceAll('/etc/kubernetes/manifests/etcd.yaml', `${dir}/etcd.yaml`);
    for (const line of ["    - '--data-dir=/data/etcd'", '    - --data-dir=/data/etcd', '    - "--data-dir=/data/etcd"']) {
      writeFileSync(`${dir}/etcd.yaml`, `spec:\n  containers:\n  - command:\n    - etcd\n${line}\n    - --name=cp1\n`);
      expect(parseFacts(execSync(command, { shell: '/bin/sh', encoding: 'utf8' })).etcdDataDir, line).toBe('/data/etcd');
    }
    expect(names({ etcd_data_dir: '/var/lib/etcd' })).toEqual([]);
    expect(names({ etcd_data_dir: '/data/etcd' }, 'lb1')).not.toContain('error EtcdDataDir');
  });

  it('accepts a port held by kbuild\'s own component on a re-run', () => {
    expect(names({ listen: 'LISTEN 0 4096 *:6443 *:*', paths: '/var/run/containerd/containerd.sock\n/etc/kubernetes/manifests/kube-apiserver.yaml' })).toEqual([]);
  });

  it('finds a route that overlaps the pod range, naming host, route and range', () => {
    const route4 = JSON.stringify([{ dst: 'default', dev: 'eth0' }, { dst: '10.244.8.0/22', dev: 'wg0', protocol: 'static' }]);
    const findings = checkHost(cluster, host('cp1'), facts({ route4 }), 1763700000);
    expect(findings).toEqual([
      { host: 'cp1', name: 'HostNetworkOverlap', level: 'error', message: 'route 10.244.8.0/22 dev wg0 overlaps spec.networking.podSubnet 10.244.0.0/16; pick a range the host is not attached to or routing to' },
    ]);
  });

  it('finds an interface network that contains the service range, and a host route inside it', () => {
    const addr = JSON.stringify([{ ifname: 'docker0', addr_info: [{ family: 'inet', local: '10.96.0.1', prefixlen: 11 }] }]);
    const route4 = JSON.stringify([{ dst: '10.97.1.1', dev: 'eth1' }]);
    const messages = checkHost(cluster, host('cp1'), facts({ addr, route4 }), 1763700000).map((f) => f.message);
    expect(messages).toEqual([
      'interface docker0 address 10.96.0.1/11 overlaps spec.networking.serviceSubnet 10.96.0.0/12; pick a range the host is not attached to or routing to',
      'route 10.97.1.1 dev eth1 overlaps spec.networking.serviceSubnet 10.96.0.0/12; pick a range the host is not attached to or routing to',
    ]);
  });

  it('ignores the cluster\'s own CNI interfaces and routes on a re-run', () => {
    const addr = JSON.stringify([{ ifname: 'cni0', addr_info: [{ family: 'inet', local: '10.244.0.1', prefixlen: 24 }] }, { ifname: 'kube-ipvs0', addr_info: [{ family: 'inet', local: '10.96.0.1', prefixlen: 32 }] }]);
    const route4 = JSON.stringify([{ dst: '10.244.1.0/24', dev: 'flannel.1' }, { dst: '10.244.2.0/26', dev: 'eth0', protocol: 'bird' }]);
    expect(names({ addr, route4 })).toEqual([]);
  });

  it("ignores kbuild's builtin pod network on a re-run: its bridge and its routes to the other nodes (route protocol 212)", () => {
    const addr = JSON.stringify([{ ifname: 'kbuild0', addr_info: [{ family: 'inet', local: '10.244.3.1', prefixlen: 24 }] }]);
    const route4 = JSON.stringify([{ dst: '10.244.3.0/24', dev: 'kbuild0', protocol: 'kernel' }, { dst: '10.244.1.0/24', gateway: '192.168.10.12', dev: 'eth0', protocol: '212' }]);
    expect(names({ addr, route4 })).toEqual([]);
    // The same route put there by someone else is still a conflict.
    expect(names({ route4: JSON.stringify([{ dst: '10.244.1.0/24', gateway: '192.168.10.12', dev: 'eth0', protocol: 'static' }]) })).toEqual(['error HostNetworkOverlap']);
  });

  it('checks load-balancer hosts for haproxy and keepalived, not for a kubelet', () => {
    expect(names({ paths: '' }, 'lb1')).toEqual(['error FileExisting-haproxy', 'error FileExisting-keepalived', 'warning Hostname']);
    expect(pathsToTest(cluster, host('lb1'))).toEqual(['/etc/haproxy/haproxy.cfg', '/usr/sbin/haproxy', '/usr/sbin/keepalived']);
  });

  it('reports duplicate hostnames on every host that has them', () => {
    const f = new Map([['cp1', facts({ hostname: 'node' })], ['cp2', facts({ hostname: 'node' })], ['cp3', facts({ hostname: 'cp3' })]]);
    expect(checkHostnamesUnique(f).map((x) => `${x.host}: ${x.message}`)).toEqual([
      'cp1: hostname "node" is also the hostname of cp2; give every machine its own hostname',
      'cp2: hostname "node" is also the hostname of cp1; give every machine its own hostname',
    ]);
  });

  it('turns ignored errors into warnings, case-insensitively, and "all"', () => {
    const findings = checkHost(cluster, host('cp1'), facts({ swaps: 'h\n/swap', uid: '5' }), 1763700000);
    expect(applyIgnores(findings, ['swap']).map((f) => `${f.level} ${f.name}`)).toEqual(['error IsPrivilegedUser', 'warning Swap']);
    expect(applyIgnores(findings, ['all']).every((f) => f.level === 'warning')).toBe(true);
  });
});
