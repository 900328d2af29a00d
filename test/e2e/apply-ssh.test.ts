/**
 * kbuild apply's SSH edge: host keys verified before anything is written, trust on first use only
 * with the flag, a non-root sudo user, a bastion hop, host-aware preflight, an unreachable host. The
 * cluster has a kubeadm patches directory: the real kubelets and scheduler run what the patches made.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubectl } from './cluster-checks.js';
import { createClusterLab, kbuild, type ClusterLab } from './cluster-lab.js';
import { HOST_KEY_TYPES } from '../support/testhosts.js';

type Doc = { spec: { ssh: Record<string, unknown>; hosts: Array<{ name: string; ssh?: Record<string, unknown> }> } };
const edit = (cl: ClusterLab, change: (doc: Doc) => void, file = 'cluster.yaml'): string => {
  const doc = yaml.load(readFileSync(cl.clusterFile, 'utf8')) as Doc;
  change(doc);
  const path = join(cl.dir, file);
  writeFileSync(path, yaml.dump(doc));
  return path;
};
const emptyOnHost = async (cl: ClusterLab, host: string) =>
  (await cl.lab.exec(host, 'find /etc/kubernetes /var/lib/kubelet /etc/haproxy -type f | wc -l')).stdout.trim();

describe('apply over SSH: host keys, sudo, bastion, preflight', () => {
  let cl: ClusterLab;
  beforeAll(async () => {
    cl = await createClusterLab(
      'e2e-ssh',
      [
        { name: 'cp1', roles: ['control-plane', 'worker'] },
        { name: 'w1', roles: ['worker'] },
      ],
      { patches: { directory: 'patches' } },
      // Short connection attempts: the unreachable host is reported after 4 × 5 s, not 4 × 15 s.
      { nonRootUser: true, ssh: { connectTimeout: 5 } },
    );
    mkdirSync(join(cl.dir, 'patches'));
    writeFileSync(join(cl.dir, 'patches/kubeletconfiguration+merge.yaml'), 'maxPods: 50\n');
    writeFileSync(join(cl.dir, 'patches/kube-scheduler.yaml'), 'spec:\n  containers:\n    - name: kube-scheduler\n      env:\n        - name: GOGC\n          value: "150"\n');
  });
  afterAll(async () => {
    await cl?.lab.teardown();
  });

  it('stops before writing anything when a host key is unknown, naming fingerprint and flag', async () => {
    const knownHosts = join(cl.dir, 'known_hosts_partial');
    writeFileSync(knownHosts, cl.lab.knownHostsText(['cp1']));
    const file = edit(cl, (d) => (d.spec.ssh.knownHostsFile = knownHosts), 'unknown.yaml');
    const result = await kbuild(['apply', '-i', file, '--state-dir', cl.stateDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('w1');
    // Whichever key type was negotiated, the message carries that key's real fingerprint.
    const fingerprints = HOST_KEY_TYPES.map((type) => cl.lab.hostKey('w1', type).fingerprint);
    expect(fingerprints.some((f) => result.stderr.includes(f)), result.stderr).toBe(true);
    expect(result.stderr).toContain('--accept-new-host-keys');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await emptyOnHost(cl, 'cp1')).toBe('0');
    expect(await emptyOnHost(cl, 'w1')).toBe('0');
  });

  it('with --accept-new-host-keys records the key, and the next run needs no flag', async () => {
    const knownHosts = join(cl.dir, 'known_hosts_tofu');
    writeFileSync(knownHosts, cl.lab.knownHostsText(['cp1']));
    const file = edit(cl, (d) => (d.spec.ssh.knownHostsFile = knownHosts), 'tofu.yaml');
    const first = await kbuild(['apply', 'phase', 'preflight', '-i', file, '--state-dir', cl.stateDir, '--accept-new-host-keys']);
    expect(first.code, first.stderr).toBe(0);
    const recorded = execFileSync('ssh-keygen', ['-F', cl.address('w1'), '-f', knownHosts], { encoding: 'utf8' });
    expect(recorded).toContain(cl.address('w1'));
    const second = await kbuild(['apply', 'phase', 'preflight', '-i', file, '--state-dir', cl.stateDir]);
    expect(second.code, second.stderr).toBe(0);
  });

  it('always refuses a changed host key, even with the flag', async () => {
    const knownHosts = join(cl.dir, 'known_hosts_changed');
    // w1's address recorded with cp1's key: to kbuild, w1's key has changed.
    const cp1Line = cl.lab.knownHostsText(['cp1'], ['ed25519']).trim().split('\n')[0]!;
    const forged = `${cl.address('w1')} ${cp1Line.split(' ').slice(1).join(' ')}`;
    writeFileSync(knownHosts, `${cl.lab.knownHostsText(['cp1'])}${forged}\n`);
    const file = edit(cl, (d) => (d.spec.ssh.knownHostsFile = knownHosts), 'changed.yaml');
    const result = await kbuild(['apply', 'phase', 'preflight', '-i', file, '--state-dir', cl.stateDir, '--accept-new-host-keys']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HOST KEY CHANGED for .*w1|w1.*HOST KEY CHANGED/s);
  });

  it('catches a host route that overlaps the pod range, naming host, route and range', async () => {
    await cl.lab.exec('w1', 'ip route add 10.244.8.0/22 dev eth0');
    try {
      const result = await kbuild(['apply', 'phase', 'preflight', '-i', cl.clusterFile, '--state-dir', cl.stateDir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/w1: \[ERROR HostNetworkOverlap\]: route 10\.244\.8\.0\/22 dev eth0 overlaps spec\.networking\.podSubnet 10\.244\.0\.0\/16/);
    } finally {
      await cl.lab.exec('w1', 'ip route del 10.244.8.0/22 dev eth0');
    }
  });

  it('reports an unreachable host by name and touches no other host', async () => {
    await cl.lab.setLinkDown('w1');
    try {
      const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir], 180_000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/connect: failed on 1 host:\n\s+w1: /);
      expect(await emptyOnHost(cl, 'cp1')).toBe('0');
    } finally {
      await cl.lab.setLinkUp('w1');
    }
  });

  it('applies as a non-root user through sudo, and through a bastion', { timeout: 25 * 60_000 }, async () => {
    // w1 is hidden from this machine; only cp1 can reach it, as a jump host.
    await cl.lab.blockRunner('w1');
    try {
      const file = edit(cl, (d) => {
        d.spec.ssh.user = 'kbtest';
        d.spec.ssh.sudo = true;
        d.spec.hosts.find((h) => h.name === 'w1')!.ssh = { bastion: { address: cl.address('cp1'), user: 'kbtest' } };
      }, 'sudo-bastion.yaml');
      const result = await kbuild(['apply', '-i', file, '--state-dir', cl.stateDir], 10 * 60_000);
      expect(result.code, `${result.stderr}\n${result.stdout.slice(-2000)}`).toBe(0);
      const owner = await cl.lab.exec('w1', 'stat -c "%U %a" /var/lib/kubelet/config.yaml /etc/kubernetes/pki/ca.crt');
      expect(owner.stdout.trim().split('\n')).toEqual(['root 644', 'root 644']);
      // The bootstrap token was written through sudo for the TLS bootstrap and removed the same way after it.
      expect((await cl.lab.exec('w1', 'test -e /etc/kubernetes/bootstrap-kubelet.conf', { allowFailure: true })).code).toBe(1);
      const again = await kbuild(['apply', '-i', file, '--state-dir', cl.stateDir], 10 * 60_000);
      expect(again.stdout).toMatch(/^w1: no changes$/m);
      expect(again.stdout).toMatch(/^cp1: no changes$/m);
      // The patches: each real kubelet read its patched config.yaml, and the scheduler runs with the patched env.
      const kubectl = await adminKubectl(cl);
      for (const node of ['cp1', 'w1']) expect((await kubectl(['get', 'node', node, '-o', 'jsonpath={.status.capacity.pods}'])).stdout, node).toBe('50');
      const scheduler = await kubectl.json<{ spec: { containers: Array<{ env?: Array<{ name: string; value: string }> }> } }>(['get', 'pod', '-n', 'kube-system', 'kube-scheduler-cp1']);
      expect(scheduler.spec.containers[0]!.env).toEqual([{ name: 'GOGC', value: '150' }]);
    } finally {
      await cl.lab.unblockRunner('w1');
    }
  });
});
