/**
 * A joining control plane's PKI from the files kube-system/kubeadm-certs carries (as init uploads them
 * from the first control plane): its own leaves signed by the shared CAs (openssl verifies), never a
 * new CA; with external etcd, the shared apiserver-etcd-client certificate and no etcd CA key.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { joinPkiFiles } from '../../../src/operations/join/control-plane.js';
import { sharedCertFiles } from '../../../src/kube/upload-certs.js';
import { loadClusterFile } from '../../../src/config/load.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { testOptions } from '../../support/pki.js';
import { examplePath } from '../render/fixture.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-join-pki-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PKI = '/etc/kubernetes/pki';
// Fixture keys, dated now: openssl verifies the chains at the real time.
const pkiOptions = testOptions(new Date());
const byPath = (files: readonly RenderedFile[]) => new Map(files.map((f) => [f.path, f.content.toString()]));

/** The first control plane's PKI, and the shared files init would upload from it. */
async function firstControlPlane(example: string) {
  const { cluster } = await loadClusterFile(examplePath(example));
  const pki = await ensureClusterPki(cluster, await StateDir.open(join(work, example, 'state')), pkiOptions);
  const cp1 = byPath(pki.filesForHost(cluster.hosts.find((h) => h.name === 'cp1')!));
  const shared = new Map(sharedCertFiles(cluster.etcd.topology === 'stacked').map((name) => [name, Buffer.from(cp1.get(`${PKI}/${name}`) ?? '')]));
  for (const [name, content] of shared) expect(content.length, `cp1 has ${name}`).toBeGreaterThan(0);
  return { cluster, cp1, shared };
}

function opensslVerify(dir: string, caPem: string, certPem: string): string {
  writeFileSync(join(dir, 'ca.pem'), caPem);
  writeFileSync(join(dir, 'leaf.pem'), certPem);
  return execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' }).trim();
}

const sanText = (certPem: string) => execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: certPem, encoding: 'utf8' });

describe('joinPkiFiles', () => {
  test('stacked etcd: cp2 gets its own apiserver and etcd certificates, signed by the shared CAs', async () => {
    const { cluster, cp1, shared } = await firstControlPlane('ha-stacked');
    const cp2 = byPath(await joinPkiFiles(cluster, cluster.hosts.find((h) => h.name === 'cp2')!, shared, pkiOptions));
    expect(cp2.get(`${PKI}/ca.key`)).toBe(cp1.get(`${PKI}/ca.key`));
    expect(cp2.get(`${PKI}/etcd/ca.key`)).toBe(cp1.get(`${PKI}/etcd/ca.key`));
    expect(cp2.get(`${PKI}/apiserver.crt`)).not.toBe(cp1.get(`${PKI}/apiserver.crt`));
    expect(sanText(cp2.get(`${PKI}/apiserver.crt`)!)).toMatch(/DNS:cp2\b.*IP Address:192\.168\.10\.12/s);
    expect(sanText(cp2.get(`${PKI}/etcd/server.crt`)!)).toMatch(/DNS:cp2\b.*IP Address:192\.168\.10\.12/s);
    const dir = mkdtempSync(join(work, 'verify-'));
    expect(opensslVerify(dir, cp1.get(`${PKI}/ca.crt`)!, cp2.get(`${PKI}/apiserver.crt`)!)).toMatch(/: OK$/);
    expect(opensslVerify(dir, cp1.get(`${PKI}/etcd/ca.crt`)!, cp2.get(`${PKI}/etcd/peer.crt`)!)).toMatch(/: OK$/);
    expect(cp2.has('/etc/kubernetes/super-admin.conf')).toBe(false);
  });

  test('external etcd: cp2 shares the apiserver-etcd-client certificate and holds no etcd CA key', async () => {
    const { cluster, cp1, shared } = await firstControlPlane('ha-external-etcd');
    const files = await joinPkiFiles(cluster, cluster.hosts.find((h) => h.name === 'cp2')!, shared, pkiOptions);
    const cp2 = byPath(files);
    expect(cp2.get(`${PKI}/apiserver-etcd-client.crt`)).toBe(cp1.get(`${PKI}/apiserver-etcd-client.crt`));
    expect(cp2.get(`${PKI}/apiserver-etcd-client.key`)).toBe(cp1.get(`${PKI}/apiserver-etcd-client.key`));
    expect(files.find((f) => f.path === `${PKI}/apiserver-etcd-client.key`)?.mode).toBe(0o600);
    expect(cp2.get(`${PKI}/etcd/ca.crt`)).toBe(cp1.get(`${PKI}/etcd/ca.crt`));
    expect([...cp2.keys()].filter((p) => p.startsWith(`${PKI}/etcd/`))).toEqual([`${PKI}/etcd/ca.crt`]);
    expect(sanText(cp2.get(`${PKI}/apiserver.crt`)!)).toMatch(/DNS:cp2\b.*IP Address:192\.168\.20\.12/s);
    const dir = mkdtempSync(join(work, 'verify-'));
    expect(opensslVerify(dir, cp1.get(`${PKI}/ca.crt`)!, cp2.get(`${PKI}/apiserver.crt`)!)).toMatch(/: OK$/);
  });

  test('external etcd without the client certificate in the Secret: refused, never a new etcd CA', async () => {
    const { cluster, shared } = await firstControlPlane('ha-external-etcd');
    shared.delete('apiserver-etcd-client.crt');
    shared.delete('apiserver-etcd-client.key');
    await expect(joinPkiFiles(cluster, cluster.hosts.find((h) => h.name === 'cp2')!, shared, pkiOptions)).rejects.toThrow(/apiserver-etcd-client/);
  });
});
