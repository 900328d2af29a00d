import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { issueCertificate, validity } from '../../../src/pki/issue.js';
import { certificatesFromFiles } from '../../../src/operations/certs/gather.js';
import { handshakes, judge, sClientCommand, type Handshake } from '../../../src/operations/certs/verify.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { example, fixtureKeySource, START, tempDir, testOptions } from '../../support/pki.js';

const NOW = new Date(START.getTime() + 3600_000);

async function ca(cn: string) {
  const key = await fixtureKeySource.generate('ECDSA-P256');
  const certPem = await issueCertificate({ subject: { cn }, isCa: true, usages: [], altNames: { dns: [cn], ips: [] }, serial: 1n, ...validity(START, 3650) }, key);
  return { certPem, key };
}

async function leaf(signer: { certPem: string; key: Awaited<ReturnType<typeof fixtureKeySource.generate>> }, ips: string[], serial: bigint, days = 365) {
  const key = await fixtureKeySource.generate('ECDSA-P256');
  return issueCertificate({ subject: { cn: 'kube-apiserver' }, isCa: false, usages: ['serverAuth'], altNames: { dns: ['kubernetes'], ips }, serial, ...validity(START, days) }, key, signer);
}

const host = { name: 'cp1', address: '10.0.0.11' } as Handshake['from'];
const apiserver: Handshake = { target: 'kube-apiserver', from: host, connect: '10.0.0.11:6443', expectName: '10.0.0.11', caFile: '/etc/kubernetes/pki/ca.crt', diskFiles: [{ host, path: '/etc/kubernetes/pki/apiserver.crt' }] };

describe('certs verify: judging what a server presents', () => {
  it('ok when chain, SAN and the file on disk all agree', async () => {
    const root = await ca('kubernetes');
    const served = await leaf(root, ['10.0.0.11'], 7n);
    const r = judge(apiserver, { servedPem: served, caPem: root.certPem, disk: [{ host: 'cp1', path: '/etc/kubernetes/pki/apiserver.crt', pem: served }], now: NOW });
    expect(r.status).toBe('ok');
    expect(r.problems).toEqual([]);
    expect(r.disk?.serial).toBe('07');
  });

  it('catches a served certificate older than the file on disk (renewed but not loaded: kube-apiserver reloads its serving pair by itself)', async () => {
    const root = await ca('kubernetes');
    const old = await leaf(root, ['10.0.0.11'], 7n, 30);
    const renewed = await leaf(root, ['10.0.0.11'], 8n, 365);
    const r = judge(apiserver, { servedPem: old, caPem: root.certPem, disk: [{ host: 'cp1', path: '/etc/kubernetes/pki/apiserver.crt', pem: renewed }], now: NOW });
    expect(r.status).toBe('mismatch');
    expect(r.problems).toEqual([expect.stringMatching(/^served certificate \(serial 07, NotAfter .*\) differs from cp1:\/etc\/kubernetes\/pki\/apiserver.crt \(serial 08, .*renewed on disk and not loaded yet \(kube-apiserver reloads its serving certificate within a minute\), or its key does not match\?$/)]);
  });

  it('names a wrong CA and a missing SAN', async () => {
    const root = await ca('kubernetes');
    const other = await ca('etcd-ca');
    const served = await leaf(other, ['10.0.0.99'], 9n);
    const r = judge(apiserver, { servedPem: served, caPem: root.certPem, disk: [{ host: 'cp1', path: '/etc/kubernetes/pki/apiserver.crt', pem: served }], now: NOW });
    expect(r.status).toBe('mismatch');
    expect(r.problems).toEqual(['not signed by /etc/kubernetes/pki/ca.crt (issuer CN=etcd-ca)', 'no SAN for 10.0.0.11']);
  });

  it('reports controller-manager/scheduler self-signed certificates as such, and an unreachable server', async () => {
    const self = await ca('localhost@1700000000');
    const cm: Handshake = { target: 'kube-controller-manager', from: host, connect: '127.0.0.1:10257', expectName: '127.0.0.1', diskFiles: [] };
    expect(judge(cm, { servedPem: self.certPem, disk: [], now: NOW }).status).toBe('self-signed');
    expect(judge(cm, { error: 'connect: Connection refused', disk: [], now: NOW })).toMatchObject({ status: 'unreachable', problems: ['connect: Connection refused'] });
  });

  it('the endpoint matches any control plane\'s apiserver certificate', async () => {
    const root = await ca('kubernetes');
    const a = await leaf(root, ['10.0.0.11'], 1n);
    const b = await leaf(root, ['10.0.0.11'], 2n);
    const endpoint: Handshake = { ...apiserver, target: 'kube-apiserver (endpoint)', expectName: '10.0.0.11', diskFiles: [] };
    const r = judge(endpoint, { servedPem: b, caPem: root.certPem, disk: [{ host: 'cp1', path: 'x', pem: a }, { host: 'cp2', path: 'x', pem: b }], now: NOW });
    expect(r).toMatchObject({ status: 'ok', disk: { host: 'cp2' } });
  });

  it('plans every handshake of a stacked HA cluster, etcd with client certificates', async () => {
    const cluster = await example('ha-stacked');
    const all = handshakes(cluster);
    expect(all.map((h) => `${h.target}@${h.from.name}`)).toEqual([
      'etcd client@cp1', 'etcd peer@cp1', 'etcd client@cp2', 'etcd peer@cp2', 'etcd client@cp3', 'etcd peer@cp3',
      'kube-apiserver@cp1', 'kube-apiserver@cp2', 'kube-apiserver@cp3', 'kube-apiserver (endpoint)@cp1',
      'kube-controller-manager@cp1', 'kube-scheduler@cp1', 'kube-controller-manager@cp2', 'kube-scheduler@cp2', 'kube-controller-manager@cp3', 'kube-scheduler@cp3',
    ]);
    expect(sClientCommand(all[0]!)).toContain('-cert /etc/kubernetes/pki/etcd/healthcheck-client.crt');
    const endpoint = all.find((h) => h.target === 'kube-apiserver (endpoint)')!;
    expect(endpoint.expectName).toBe(cluster.endpoint.host);
    expect(endpoint.diskFiles.map((d) => d.host.name)).toEqual(['cp1', 'cp2', 'cp3']);
  });
});

describe('fleet expiry gathering', () => {
  it('reports every certificate a control plane holds, with subject, NotAfter and issuing CA', async () => {
    const cluster = await example('ha-stacked');
    const state = await StateDir.open(await tempDir('kbuild-gather-'));
    const pki = await ensureClusterPki(cluster, state, testOptions());
    const files = new Map(pki.filesForHost(cluster.hosts.find((h) => h.name === 'cp1')!).map((f) => [f.path, f.content.toString()] as const));
    const kubeletClient = files.get('/etc/kubernetes/pki/apiserver-kubelet-client.crt')! + files.get('/etc/kubernetes/pki/apiserver-kubelet-client.key')!;
    files.set('/var/lib/kubelet/pki/kubelet-client-current.pem', kubeletClient);
    files.set('/etc/haproxy/kbuild-ca.crt', files.get('/etc/kubernetes/pki/ca.crt')!);
    files.set('/var/lib/kubelet/pki/kubelet.crt', 'garbage');
    const { certificates, problems } = certificatesFromFiles('cp1', files, NOW);
    const by = (name: string) => certificates.find((c) => c.name === name)!;
    expect(certificates.map((c) => c.name)).toEqual([
      'ca', 'front-proxy-ca', 'etcd-ca', 'apiserver', 'apiserver-kubelet-client', 'front-proxy-client', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'apiserver-etcd-client',
      'admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf', 'kubelet-client', 'haproxy-ca',
    ]);
    expect(by('ca')).toMatchObject({ host: 'cp1', issuer: 'self-signed', subject: 'CN=kubernetes', path: '/etc/kubernetes/pki/ca.crt' });
    expect(by('etcd-server')).toMatchObject({ issuer: 'etcd-ca', subject: 'CN=cp1', path: '/etc/kubernetes/pki/etcd/server.crt' });
    expect(by('front-proxy-client').issuer).toBe('front-proxy-ca');
    expect(by('admin.conf')).toMatchObject({ issuer: 'ca', subject: 'O=kubeadm:cluster-admins, CN=kubernetes-admin', path: '/etc/kubernetes/admin.conf' });
    expect(by('kubelet-client').issuer).toBe('ca');
    expect(by('apiserver').residualSeconds).toBe(Math.floor((by('apiserver').notAfter.getTime() - NOW.getTime()) / 1000));
    expect(problems).toEqual([{ host: 'cp1', path: '/var/lib/kubelet/pki/kubelet.crt', problem: 'holds no PEM certificate' }]);
  });
});
