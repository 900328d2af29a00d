/** check-expiration and renew through the real CLI entry (main), on a host directory built from the PKI. */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { parseKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { kbuild } from '../../support/cli.js';
import { example, materialize, openssl, removeDir, tempDir, testOptions } from '../../support/pki.js';

const cli = (args: string[]) => kbuild(...args);

const x509 = (file: string, what: string) => openssl(['x509', '-in', file, '-noout', what, '-nameopt', 'RFC2253']).trim();
const ALL = ['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'kubelet.conf', 'scheduler.conf', 'super-admin.conf', 'ca', 'front-proxy-ca', 'etcd-ca'];

describe('kbuild certs check-expiration and renew (on-host)', () => {
  let root: string;
  let pkiDir: string;
  let confDir: string;
  let dirs: string[];
  beforeAll(async () => {
    root = await tempDir();
    const base = await example('single-node');
    // ECDSA keeps the real key generation inside renew fast; issued 30 days ago so renewal moves NotAfter.
    const cluster = { ...base, certificates: { ...base.certificates, encryptionAlgorithm: 'ECDSA-P256' as const } };
    const pki = await ensureClusterPki(cluster, await StateDir.open(join(root, 'state')), testOptions(new Date(Date.now() - 30 * 86_400_000)));
    await materialize(join(root, 'host'), pki.filesForHost(cluster.hosts[0]!));
    pkiDir = join(root, 'host/etc/kubernetes/pki');
    confDir = join(root, 'host/etc/kubernetes');
    dirs = ['--cert-dir', pkiDir, '--kubeconfig-dir', confDir];
  });
  afterAll(() => removeDir(root));

  it('lists every certificate as JSON and as a kubeadm-like table', async () => {
    const json = await cli(['certs', 'check-expiration', ...dirs, '-o', 'json']);
    expect(json.code).toBe(0);
    const rows = (JSON.parse(json.stdout) as { certificates: Array<{ name: string; notAfter: string; externallyManaged: boolean; certificateAuthority?: string }> }).certificates;
    expect(rows.map((r) => r.name)).toEqual(ALL);
    expect(rows.find((r) => r.name === 'etcd-server')!.certificateAuthority).toBe('etcd-ca');
    expect(rows.every((r) => !r.externallyManaged)).toBe(true);
    const table = await cli(['certs', 'check-expiration', ...dirs]);
    expect(table.stdout).toMatch(/^CERTIFICATE\s+EXPIRES\s+RESIDUAL TIME\s+CERTIFICATE AUTHORITY\s+EXTERNALLY MANAGED\n/);
    expect(table.stdout).toMatch(/\napiserver\s+\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\s+33[45]d\s+ca\s+no\n/);
    expect(table.stdout).toMatch(/\nCERTIFICATE AUTHORITY\s+EXPIRES\s+RESIDUAL TIME\s+EXTERNALLY MANAGED\nca\s+.*\s+9y\s+no\n/);
  });

  it('--fail-within exits 3 when something expires inside the window, 0 otherwise', async () => {
    const failing = await cli(['certs', 'check-expiration', ...dirs, '-o', 'json', '--fail-within', '400']);
    expect(failing.code).toBe(3);
    expect(failing.stderr).toContain('expire within 400 days');
    expect((await cli(['certs', 'check-expiration', ...dirs, '--fail-within', '30'])).code).toBe(0);
  });

  it('renew rejects unknown names, listing the valid ones', async () => {
    const result = await cli(['certs', 'renew', 'apiservr', ...dirs]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown certificate "apiservr"; valid names: all, admin.conf, apiserver,');
  });

  it('renew all: fresh keys and serials, same identity, NotAfter moved, CA/kubelet.conf/sa untouched, backups kept', async () => {
    const read = (rel: string) => readFile(join(confDir, rel), 'utf8');
    const before = {
      apiserver: await read('pki/apiserver.crt'),
      apiserverKey: await read('pki/apiserver.key'),
      admin: await read('admin.conf'),
      ca: await read('pki/ca.crt'),
      caFingerprint: x509(join(pkiDir, 'ca.crt'), '-fingerprint'),
      kubelet: await read('kubelet.conf'),
      sa: await read('pki/sa.key'),
    };
    const subject = x509(join(pkiDir, 'apiserver.crt'), '-subject');
    const sans = openssl(['x509', '-in', join(pkiDir, 'apiserver.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage']);
    const serial = x509(join(pkiDir, 'apiserver.crt'), '-serial');
    const notAfter = x509(join(pkiDir, 'apiserver.crt'), '-enddate');

    const result = await cli(['certs', 'renew', 'all', ...dirs]);
    expect(result.code).toBe(0);
    for (const name of ALL.filter((n) => !['ca', 'front-proxy-ca', 'etcd-ca', 'kubelet.conf'].includes(n))) expect(result.stdout).toContain(`renewed   ${name}\n`);
    expect(result.stdout).toContain('Restart these static pods so they load the new certificates: kube-apiserver, kube-controller-manager, kube-scheduler (');
    expect(result.stdout).toContain('etcd needs no restart: it reads its certificate files on each new TLS connection');

    expect(x509(join(pkiDir, 'apiserver.crt'), '-subject')).toBe(subject);
    expect(openssl(['x509', '-in', join(pkiDir, 'apiserver.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage'])).toBe(sans);
    expect(x509(join(pkiDir, 'apiserver.crt'), '-serial')).not.toBe(serial);
    expect(x509(join(pkiDir, 'apiserver.crt'), '-enddate')).not.toBe(notAfter);
    expect(await read('pki/apiserver.key')).not.toBe(before.apiserverKey);
    expect(openssl(['x509', '-in', join(pkiDir, 'apiserver.crt'), '-noout', '-pubkey'])).toBe(openssl(['pkey', '-in', join(pkiDir, 'apiserver.key'), '-pubout']));
    expect(openssl(['verify', '-CAfile', join(pkiDir, 'ca.crt'), join(pkiDir, 'apiserver.crt')]).trim()).toMatch(/: OK$/);
    expect(openssl(['verify', '-CAfile', join(pkiDir, 'etcd/ca.crt'), join(pkiDir, 'etcd/server.crt')]).trim()).toMatch(/: OK$/);

    expect(await read('pki/ca.crt')).toBe(before.ca);
    expect(x509(join(pkiDir, 'ca.crt'), '-fingerprint')).toBe(before.caFingerprint);
    expect(await read('kubelet.conf')).toBe(before.kubelet);
    expect(await read('pki/sa.key')).toBe(before.sa);

    const oldAdmin = parseKubeconfig(before.admin);
    const newAdmin = parseKubeconfig(await read('admin.conf'));
    expect({ server: newAdmin.server, ca: newAdmin.caCertPem, user: newAdmin.user }).toEqual({ server: oldAdmin.server, ca: oldAdmin.caCertPem, user: oldAdmin.user });
    expect(newAdmin.clientCertPem).not.toBe(oldAdmin.clientCertPem);
    expect(newAdmin.clientKeyPem).not.toBe(oldAdmin.clientKeyPem);

    // The fleet's backup layout (static-pods/backup.ts): the run's directory, each file under its absolute path.
    const backups = await readdir(join(confDir, 'tmp'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^kbuild-backup-\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{4}$/);
    const backup = join(confDir, 'tmp', backups[0]!);
    expect(result.stdout).toContain(`Backups of the replaced files: ${backup}`);
    expect(await readFile(join(backup, pkiDir, 'apiserver.crt'), 'utf8')).toBe(before.apiserver);
    expect(await readFile(join(backup, pkiDir, 'apiserver.key'), 'utf8')).toBe(before.apiserverKey);
    expect(await readFile(join(backup, confDir, 'admin.conf'), 'utf8')).toBe(before.admin);
    const names = (await readdir(backup, { recursive: true })).map((n) => `/${n}`);
    expect(names).not.toContain(join(confDir, 'kubelet.conf'));
    expect(names).not.toContain(join(pkiDir, 'ca.crt'));
    expect(names).toContain(join(confDir, 'admin.conf'));
  });

  it('renew apiserver alone: kube-apiserver needs no restart (it reloads its serving certificate)', async () => {
    const result = await cli(['certs', 'renew', 'apiserver', ...dirs]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('renewed   apiserver\n');
    expect(result.stdout).not.toContain('Restart these static pods');
    expect(result.stdout).toContain('kube-apiserver needs no restart: it reloads its serving certificate (apiserver.crt) when the file changes');
  });

  it('renew skips certificates whose CA key is absent as externally managed', async () => {
    const saved = await readFile(join(pkiDir, 'front-proxy-ca.key'));
    await rm(join(pkiDir, 'front-proxy-ca.key'));
    try {
      const before = await readFile(join(pkiDir, 'front-proxy-client.crt'), 'utf8');
      const result = await cli(['certs', 'renew', 'front-proxy-client', 'etcd/server', ...dirs]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`skipped   front-proxy-client: externally managed (no ${join(pkiDir, 'front-proxy-ca.key')})`);
      expect(result.stdout).toContain('renewed   etcd-server\n');
      expect(await readFile(join(pkiDir, 'front-proxy-client.crt'), 'utf8')).toBe(before);
    } finally {
      await materialize('/', [{ path: join(pkiDir, 'front-proxy-ca.key'), mode: 0o600, content: saved }]);
    }
  });
});
