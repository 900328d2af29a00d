import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClusterFile, parseClusterFile } from '../../../src/config/load.js';
import { ConfigError, FileError } from '../../../src/errors/index.js';
import { dnsServiceIp, endpointUrl, kubernetesServiceIps } from '../../../src/config/model.js';
import { scratchDir } from '../../support/scratch.js';

const messages = (text: string): string[] => {
  try {
    parseClusterFile(text, 'c.yaml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
};

const VALID = `apiVersion: kbuild.io/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  networking:
    podSubnet: 10.244.0.0/16
  hosts:
    - name: cp1
      address: 192.168.10.11
      roles: [control-plane]
`;

describe('loader', () => {
  it('reports the line of a YAML syntax error', () => {
    const text = VALID.replace('    podSubnet: 10.244.0.0/16', '    podSubnet: 10.244.0.0/16: oops');
    expect(messages(text)).toEqual(['c.yaml:7: YAML syntax error: bad indentation of a mapping entry']);
    const tab = VALID.replace('      roles: [control-plane]', '\troles: [control-plane]');
    expect(messages(tab)).toEqual(['c.yaml:11: YAML syntax error: tab characters must not be used in indentation']);
  });

  it('reports duplicate keys with their line', () => {
    const text = VALID.replace('    podSubnet: 10.244.0.0/16\n', '    podSubnet: 10.244.0.0/16\n    podSubnet: 10.245.0.0/16\n');
    expect(messages(text)[0]).toMatch(/^c\.yaml:8: YAML syntax error: duplicated mapping key/);
  });

  it('points unknown fields at their own line, deep inside lists', () => {
    const text = VALID.replace('      roles: [control-plane]\n', '      roles: [control-plane]\n      adress: 1.2.3.4\n');
    expect(messages(text)).toEqual(['c.yaml:12: spec.hosts[0].adress: unknown field "adress"; did you mean "address"?']);
  });

  it('rejects documents that are not a mapping', () => {
    expect(messages('')).toEqual([expect.stringContaining('is not a cluster file')]);
    expect(messages('- a\n- b\n')).toEqual([expect.stringContaining('is not a cluster file')]);
    expect(messages('just text')).toEqual([expect.stringContaining('is not a cluster file')]);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    expect(messages(lines.join('\n'))).toEqual([expect.stringContaining('expands to more than 100000 values')]);
  });

  it('accepts anchors and merge keys for shared ssh settings', () => {
    const text = VALID.replace('spec:\n', 'x-ssh: &ssh { user: ubuntu, sudo: true }\nspec:\n');
    expect(messages(text)[0]).toContain('unknown field "x-ssh"');
    const merged = VALID.replace('      roles: [control-plane]\n', '      roles: [control-plane]\n      ssh: { <<: { user: ubuntu }, sudo: true }\n');
    expect(messages(merged)).toEqual([]);
  });

  it('names a missing file and a directory', async () => {
    await expect(loadClusterFile('/nonexistent/cluster.yaml')).rejects.toThrow(FileError);
    await expect(loadClusterFile('/nonexistent/cluster.yaml')).rejects.toThrow(/no such file; pass the cluster file with -i FILE/);
    await expect(loadClusterFile(tmpdir())).rejects.toThrow(/is a directory/);
  });

  it('SSH timing: the cluster default, a host overriding it, in milliseconds', async () => {
    const dir = scratchDir('kbuild-load-');
    const path = join(dir, 'c.yaml');
    writeFileSync(path, VALID.replace('spec:\n', 'spec:\n  ssh: { connectTimeout: 3, serverAliveInterval: 2 }\n').replace('      roles: [control-plane]\n', '      roles: [control-plane]\n      ssh: { connectTimeout: 30 }\n'));
    const { cluster } = await loadClusterFile(path);
    expect(cluster.hosts[0]!.ssh).toMatchObject({ connectTimeoutMs: 30_000, serverAliveIntervalMs: 2_000 });
  });

  it('applies kubeadm defaults and derives the model', async () => {
    const dir = scratchDir('kbuild-load-');
    const path = join(dir, 'c.yaml');
    writeFileSync(path, VALID);
    const { cluster } = await loadClusterFile(path);
    expect(cluster.networking.serviceSubnet).toBe('10.96.0.0/12');
    expect(cluster.networking.dnsDomain).toBe('cluster.local');
    expect(cluster.certificates).toEqual({ encryptionAlgorithm: 'RSA-2048', validityDays: 365, caValidityDays: 3650 });
    expect(cluster.hosts[0]!.ssh).toMatchObject({ user: 'root', port: 22, sudo: false, address: '192.168.10.11', connectTimeoutMs: 15_000, serverAliveIntervalMs: 15_000 });
    expect(cluster.loadBalancer.placement).toBe('none');
    expect(endpointUrl(cluster)).toBe('https://192.168.10.11:6443');
    expect(kubernetesServiceIps(cluster)).toEqual(['10.96.0.1']);
    expect(dnsServiceIp(cluster)).toBe('10.96.0.10');
    expect(cluster.etcdMembers.map((h) => h.name)).toEqual(cluster.controlPlanes.map((h) => h.name));
    expect(cluster.hostFacts).toEqual({ systemdResolved: false, caDirs: [] });
  });

  it('spec.hostFacts: what a render without facts assumes, in kubeadm\'s order, validated', async () => {
    const withFacts = (facts: string) => VALID.replace('spec:\n', `spec:\n  hostFacts: ${facts}\n`);
    expect(messages(withFacts('{ systemdResolved: true, caDirectories: [/usr/share/ca-certificates, /etc/pki/ca-trust] }'))).toEqual([]);
    expect(messages(withFacts('{ systemdResolved: "yes" }'))).toEqual(['c.yaml:6: spec.hostFacts.systemdResolved: must be true or false, got "yes"']);
    expect(messages(withFacts('{ caDirectories: [/etc/pki] }')).join('\n')).toMatch(/^c\.yaml:6: spec\.hostFacts\.caDirectories\[0\]: .*\/etc\/pki\/ca-trust/);
    const dir = scratchDir('kbuild-load-');
    writeFileSync(join(dir, 'c.yaml'), withFacts('{ systemdResolved: true, caDirectories: [/usr/share/ca-certificates, /etc/pki/ca-trust, /etc/pki/ca-trust] }'));
    expect((await loadClusterFile(join(dir, 'c.yaml'))).cluster.hostFacts).toEqual({ systemdResolved: true, caDirs: ['/etc/pki/ca-trust', '/usr/share/ca-certificates'] });
  });
});
