/**
 * Full PKI for the examples, checked with real tools: openssl decodes and verifies every certificate,
 * kubectl reads every kubeconfig. Expected values come from kubeadm-spec.md §1–2, written out here.
 * Hundreds of tool runs, so an end-to-end test; fixture keys, as key generation is not under test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, type Host } from '../../src/config/model.js';
import { ensureClusterPki } from '../../src/pki/ensure.js';
import type { ClusterPki } from '../../src/pki/types.js';
import { StateDir } from '../../src/state/state-dir.js';
import { START, example, materialize, openssl, removeDir, tempDir, testOptions } from '../support/pki.js';

const DAY = 86_400_000;
const leafCn: Record<string, (h: Host) => string> = {
  apiserver: () => 'kube-apiserver',
  'apiserver-kubelet-client': () => 'kube-apiserver-kubelet-client',
  'front-proxy-client': () => 'front-proxy-client',
  'etcd/server': (h) => h.name,
  'etcd/peer': (h) => h.name,
  'etcd/healthcheck-client': () => 'kube-etcd-healthcheck-client',
  'apiserver-etcd-client': () => 'kube-apiserver-etcd-client',
};
const leafO: Record<string, string | undefined> = { 'apiserver-kubelet-client': 'kubeadm:cluster-admins' };
const leafCa: Record<string, string> = { apiserver: 'ca', 'apiserver-kubelet-client': 'ca', 'front-proxy-client': 'front-proxy-ca' };
const leafEku: Record<string, string> = {
  apiserver: 'TLS Web Server Authentication',
  'etcd/server': 'TLS Web Server Authentication, TLS Web Client Authentication',
  'etcd/peer': 'TLS Web Server Authentication, TLS Web Client Authentication',
};
const kubeconfigs: Record<string, { cn: (h: Host) => string; o?: string; local: boolean }> = {
  'admin.conf': { cn: () => 'kubernetes-admin', o: 'kubeadm:cluster-admins', local: false },
  'super-admin.conf': { cn: () => 'kubernetes-super-admin', o: 'system:masters', local: false },
  'controller-manager.conf': { cn: () => 'system:kube-controller-manager', local: true },
  'scheduler.conf': { cn: () => 'system:kube-scheduler', local: true },
  'kubelet.conf': { cn: (h) => `system:node:${h.name}`, o: 'system:nodes', local: false },
};

interface Decoded {
  subject: string;
  issuer: string;
  text: string;
  sans: string;
}
function decode(file: string): Decoded {
  const line = (args: string[]) => openssl(['x509', '-in', file, '-noout', ...args, '-nameopt', 'RFC2253']).trim();
  return {
    subject: line(['-subject']).replace(/^subject=/, ''),
    issuer: line(['-issuer']).replace(/^issuer=/, ''),
    text: openssl(['x509', '-in', file, '-noout', '-text']),
    sans: openssl(['x509', '-in', file, '-noout', '-ext', 'subjectAltName']).split('\n').slice(1).join('').trim(),
  };
}
const expectedSubject = (cn: string, o?: string) => (o ? `CN=${cn},O=${o}` : `CN=${cn}`);

function checkCommon(d: Decoded, algorithm: string, isCa: boolean, days: number): void {
  expect(d.text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment/);
  expect(d.text.includes('Certificate Sign')).toBe(isCa);
  expect(d.text).toMatch(new RegExp(`X509v3 Basic Constraints: critical\\n\\s+CA:${isCa ? 'TRUE' : 'FALSE'}`));
  expect(d.text).toContain('X509v3 Subject Key Identifier');
  expect(d.text.includes('X509v3 Authority Key Identifier')).toBe(!isCa);
  if (algorithm === 'ECDSA-P256') expect(d.text).toMatch(/id-ecPublicKey[\s\S]*ASN1 OID: prime256v1/);
  else expect(d.text).toContain(`Public-Key: (${algorithm.slice(4)} bit)`);
  const notBefore = new Date(/Not Before: (.+)/.exec(d.text)![1]!);
  const notAfter = new Date(/Not After : (.+)/.exec(d.text)![1]!);
  expect(notBefore.getTime()).toBe(START.getTime() - 5 * 60_000);
  expect(notAfter.getTime()).toBe(START.getTime() + days * DAY);
  expect(d.text).toMatch(/Serial Number:\s*(\n\s+)?[0-9a-f(x:) ]*[1-9a-f]/);
}

function verify(caFile: string, certFile: string): void {
  // Verified at the run's (fixed) start, so the test does not age.
  expect(openssl(['verify', '-attime', String(START.getTime() / 1000), '-CAfile', caFile, certFile]).trim()).toBe(`${certFile}: OK`);
}

function keyMatches(certFile: string, keyFile: string): void {
  const fromCert = openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
  const fromKey = openssl(['pkey', '-in', keyFile, '-pubout']);
  expect(fromKey).toBe(fromCert);
}

async function checkCluster(cluster: Cluster, pki: ClusterPki, root: string, sans: Record<string, { apiserver?: string; etcd?: string }>): Promise<number> {
  const algorithm = cluster.certificates.encryptionAlgorithm;
  const keyHeader = algorithm === 'ECDSA-P256' ? 'EC PRIVATE KEY' : 'RSA PRIVATE KEY';
  let certificatesChecked = 0;
  for (const host of cluster.hosts) {
    const files = pki.filesForHost(host);
    const base = join(root, host.name);
    await materialize(base, files);
    const pkiDir = join(base, 'etc/kubernetes/pki');
    const paths = files.map((f) => f.path.replace('/etc/kubernetes/', ''));
    const isCp = cluster.controlPlanes.some((h) => h.name === host.name);
    const isEtcd = cluster.etcdMembers.some((h) => h.name === host.name);
    const isWorker = host.roles.includes('worker') && !isCp;
    if (!isCp && !isEtcd && !isWorker) {
      expect(files).toEqual([]);
      continue;
    }
    if (isWorker) expect(paths).toEqual(['pki/ca.crt']);
    for (const f of files) {
      const isKey = f.path.endsWith('.key') || f.path.endsWith('.conf');
      expect(f.mode).toBe(isKey ? 0o600 : 0o644);
      expect(f.secret === true).toBe(isKey);
      if (f.path.endsWith('.key') && !f.path.endsWith('sa.key')) expect(String(f.content)).toContain(`BEGIN ${keyHeader}`);
    }
    // CAs: self-signed, CA SAN = CN, CA validity.
    for (const [ca, cn] of [['ca', 'kubernetes'], ['front-proxy-ca', 'front-proxy-ca'], ['etcd/ca', 'etcd-ca']] as const) {
      if (!paths.includes(`pki/${ca}.crt`)) continue;
      const file = join(pkiDir, `${ca}.crt`);
      const d = decode(file);
      expect(d.subject).toBe(`CN=${cn}`);
      expect(d.issuer).toBe(`CN=${cn}`);
      expect(d.sans).toBe(`DNS:${cn}`);
      checkCommon(d, algorithm, true, cluster.certificates.caValidityDays);
      verify(file, file);
      if (paths.includes(`pki/${ca}.key`)) keyMatches(file, join(pkiDir, `${ca}.key`));
      certificatesChecked++;
    }
    const expectLeaves = [
      ...(isCp ? ['apiserver', 'apiserver-kubelet-client', 'front-proxy-client', 'apiserver-etcd-client'] : []),
      ...(isEtcd ? ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client'] : []),
    ];
    const presentLeaves = Object.keys(leafCn).filter((l) => paths.includes(`pki/${l}.crt`));
    expect(presentLeaves.sort()).toEqual(expectLeaves.sort());
    expect(paths.includes('pki/etcd/ca.key')).toBe(isCp && cluster.etcd.topology === 'stacked');
    expect(paths.includes('pki/ca.key')).toBe(isCp);
    expect(paths.includes('pki/sa.key') && paths.includes('pki/sa.pub')).toBe(isCp);
    for (const leaf of expectLeaves) {
      const file = join(pkiDir, `${leaf}.crt`);
      const d = decode(file);
      const ca = leafCa[leaf] ?? 'etcd/ca';
      expect(d.subject).toBe(expectedSubject(leafCn[leaf]!(host), leafO[leaf]));
      expect(d.issuer).toBe(`CN=${{ ca: 'kubernetes', 'front-proxy-ca': 'front-proxy-ca', 'etcd/ca': 'etcd-ca' }[ca]}`);
      expect(d.text).toMatch(new RegExp(`X509v3 Extended Key Usage: \\n\\s+${leafEku[leaf] ?? 'TLS Web Client Authentication'}\\n`));
      const wantSans = leaf === 'apiserver' ? sans[host.name]?.apiserver : leaf.startsWith('etcd/s') || leaf.startsWith('etcd/p') ? sans[host.name]?.etcd : '';
      expect(wantSans, `expected SANs for ${host.name} ${leaf} are in the test`).toBeDefined();
      expect(d.sans).toBe(wantSans);
      checkCommon(d, algorithm, false, cluster.certificates.validityDays);
      verify(join(pkiDir, `${ca}.crt`), file);
      keyMatches(file, join(pkiDir, `${leaf}.key`));
      certificatesChecked++;
    }
    if (isCp) expect(openssl(['pkey', '-pubin', '-in', join(pkiDir, 'sa.pub'), '-noout', '-text_pub'])).toBeTruthy();
    const confs = paths.filter((p) => p.endsWith('.conf')).sort();
    const wantConfs = isCp ? Object.keys(kubeconfigs).filter((k) => k !== 'super-admin.conf' || host === cluster.controlPlanes[0]).sort() : [];
    expect(confs).toEqual(wantConfs);
    for (const conf of confs) {
      const file = join(base, 'etc/kubernetes', conf);
      const view = JSON.parse(execFileSync('/usr/bin/kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file], { encoding: 'utf8' })) as {
        clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
        users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
        'current-context': string;
      };
      const spec = kubeconfigs[conf]!;
      const cn = spec.cn(host);
      const ep = cluster.endpoint.host.includes(':') ? `[${cluster.endpoint.host}]` : cluster.endpoint.host;
      const local = host.address.includes(':') ? `[${host.address}]` : host.address;
      expect(view.clusters[0]!.name).toBe('kubernetes');
      expect(view.clusters[0]!.cluster.server).toBe(spec.local ? `https://${local}:${cluster.apiServer.bindPort}` : `https://${ep}:${cluster.endpoint.port}`);
      expect(Buffer.from(view.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString()).toBe(pki.caCertPem);
      expect(view['current-context']).toBe(`${cn}@kubernetes`);
      expect(view.users[0]!.name).toBe(cn);
      const certFile = `${file}.crt`;
      const keyFile = `${file}.key`;
      await materialize('/', [
        { path: certFile, mode: 0o600, content: Buffer.from(view.users[0]!.user['client-certificate-data'], 'base64') },
        { path: keyFile, mode: 0o600, content: Buffer.from(view.users[0]!.user['client-key-data'], 'base64') },
      ]);
      const d = decode(certFile);
      expect(d.subject).toBe(expectedSubject(cn, spec.o));
      expect(d.issuer).toBe('CN=kubernetes');
      expect(d.sans).toBe('');
      expect(d.text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
      checkCommon(d, algorithm, false, cluster.certificates.validityDays);
      verify(join(pkiDir, 'ca.crt'), certFile);
      keyMatches(certFile, keyFile);
      certificatesChecked++;
    }
  }
  return certificatesChecked;
}

describe('certs generate: every certificate checked with openssl and kubectl', () => {
  let root: string;
  beforeAll(async () => {
    root = await tempDir();
  });
  afterAll(() => removeDir(root));

  it('ha-stacked (RSA-2048, VIP, DNS endpoint, certSANs)', async () => {
    const cluster = await example('ha-stacked');
    const pki = await ensureClusterPki(cluster, await StateDir.open(join(root, 'stacked-state')), testOptions());
    const apiserver = (name: string, ip: string) =>
      `DNS:api.demo.example.com, DNS:api.demo.internal, DNS:${name}, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:${ip}, IP Address:192.168.10.100`;
    const etcd = (name: string, ip: string) => `DNS:${name}, DNS:localhost, IP Address:${ip}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`;
    const sans = Object.fromEntries(['1', '2', '3'].map((n) => [`cp${n}`, { apiserver: apiserver(`cp${n}`, `192.168.10.1${n}`), etcd: etcd(`cp${n}`, `192.168.10.1${n}`) }]));
    // 3 CAs + 7 leaves + 4 kubeconfigs per control plane, super-admin once; workers verify ca.crt.
    expect(await checkCluster(cluster, pki, join(root, 'stacked'), sans)).toBe(3 * (3 + 7 + 4) + 1 + 3);
    expect(pki.actions.every((a) => a.outcome === 'created')).toBe(true);
  });

  it('ha-external-etcd (ECDSA-P256, endpoint = VIP, etcd certs only on etcd hosts)', async () => {
    const cluster = await example('ha-external-etcd');
    const pki = await ensureClusterPki(cluster, await StateDir.open(join(root, 'external-state')), testOptions());
    const sans: Record<string, { apiserver?: string; etcd?: string }> = {};
    for (const n of ['1', '2', '3']) {
      sans[`cp${n}`] = {
        apiserver: `DNS:cp${n}, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:192.168.20.1${n}, IP Address:192.168.20.100`,
      };
      sans[`etcd${n}`] = { etcd: `DNS:etcd${n}, DNS:localhost, IP Address:192.168.20.2${n}, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1` };
    }
    // Control planes: 3 CAs, 4 leaves, 4 kubeconfigs (+super-admin); etcd hosts: etcd CA + 3; workers: ca.
    expect(await checkCluster(cluster, pki, join(root, 'external'), sans)).toBe(3 * (3 + 4 + 4) + 1 + 3 * 4 + 3);
    expect(pki.etcdCaCertPem).toContain('BEGIN CERTIFICATE');
  });

  it('dual-stack: the kubernetes Service IP of both families, single control plane endpoint', async () => {
    const cluster = await example('dual-stack');
    const pki = await ensureClusterPki(cluster, await StateDir.open(join(root, 'dual-state')), testOptions());
    const sans = {
      cp1: {
        apiserver: 'DNS:cp1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:FD00:10:96:0:0:0:0:1, IP Address:192.168.30.11',
        etcd: 'DNS:cp1, DNS:localhost, IP Address:192.168.30.11, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
      },
    };
    expect(await checkCluster(cluster, pki, join(root, 'dual'), sans)).toBe(3 + 7 + 5 + 2);
    expect(readFileSync(join(root, 'dual-state/pki/ca.crt'), 'utf8')).toBe(pki.caCertPem);
  });
});
