/**
 * Certificate lifecycle end to end on test hosts with the kubelet stand-in and real etcd: the fleet
 * expiry report, `renew all` rolled host by host while a client keeps writing to etcd, `verify`
 * after it, a forced gate failure that restores the host, SAN drift through apply, and `verify`
 * catching a certificate renewed on disk behind the component's back.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClusterFile } from '../../src/config/load.js';
import { CANDIDATES } from '../../src/operations/certs/gather.js';
import { openFleet } from '../../src/operations/certs/fleet.js';
import { RolloutError } from '../../src/errors/index.js';
import { rollOutRenewal } from '../../src/operations/certs/renew.js';
import { issueCertificate, randomSerial, validity } from '../../src/pki/issue.js';
import { importPrivateKeyPem, webCryptoKeySource } from '../../src/pki/keys.js';
import { prepareCluster } from '../../src/state/prepare.js';
import { recordingReporter } from '../../src/report/reporter.js';
import { createClusterLab, jsonEvents, kbuild, repoRoot, type ClusterLab } from './cluster-lab.js';
import { startEtcdWriter } from './etcd-writer.js';

const HOSTS = [
  { name: 'lb1', roles: ['load-balancer'] },
  { name: 'cp1', roles: ['control-plane'] },
  { name: 'cp2', roles: ['control-plane'] },
  { name: 'cp3', roles: ['control-plane'] },
  { name: 'w1', roles: ['worker'] },
];
const CPS = ['cp1', 'cp2', 'cp3'];

let cl: ClusterLab;
const state = (p: string) => readFileSync(join(cl.stateDir, p), 'utf8');
const onHost = async (host: string, path: string) => (await cl.lab.exec(host, ['cat', path])).stdout;
const certs = (...args: string[]) => kbuild(['certs', ...args, '-i', cl.clusterFile], 600_000);

beforeAll(async () => {
  cl = await createClusterLab('e2e-certs', HOSTS, { etcd: { topology: 'stacked' }, loadBalancer: { type: 'haproxy' } });
  writeFileSync(cl.clusterFile, readFileSync(cl.clusterFile, 'utf8').replace('spec:\n', `spec:\n  controlPlaneEndpoint: ${cl.address('lb1')}:6443\n`));
  const applied = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json'], 600_000);
  if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}\n${applied.stdout.slice(-3000)}`);
  // A kubelet serving certificate as a real kubelet makes it (self-signed) on the worker.
  await cl.lab.exec('w1', 'mkdir -p /var/lib/kubelet/pki && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=w1@1700000000 -days 365 -keyout /var/lib/kubelet/pki/kubelet.key -out /var/lib/kubelet/pki/kubelet.crt 2>/dev/null');
}, 900_000);

afterAll(async () => {
  await cl?.lab.teardown();
});

type Report = { hosts: string[]; certificates: Array<{ host: string; name: string; path: string; subject: string; notAfter: string; issuer: string; serial: string }> };
type Verify = { results: Array<{ target: string; host: string; status: string; problems: string[] }> };

describe('kbuild certs across the fleet', () => {
  it('check-expiration -i -o json lists every certificate of every host', async () => {
    const result = await certs('check-expiration', '-o', 'json', '--fail-within', '0');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.hosts).toEqual(HOSTS.map((h) => h.name));
    for (const host of HOSTS.map((h) => h.name)) {
      // What is on the host: every candidate file that exists and holds a certificate.
      const script = CANDIDATES.map((c) => `[ -f ${c.path} ] && grep -q -e 'BEGIN CERTIFICATE' -e client-certificate-data ${c.path} && echo ${c.path}`).join('; ') + '; true';
      const present = (await cl.lab.exec(host, script)).stdout.trim().split('\n').filter(Boolean);
      expect(report.certificates.filter((c) => c.host === host).map((c) => c.path).sort(), host).toEqual(present.sort());
    }
    const find = (host: string, name: string) => report.certificates.find((c) => c.host === host && c.name === name);
    expect(find('cp2', 'etcd-server')).toMatchObject({ subject: 'CN=cp2', issuer: 'etcd-ca' });
    expect(find('cp1', 'admin.conf')).toMatchObject({ issuer: 'ca' });
    expect(find('cp3', 'front-proxy-client')).toMatchObject({ issuer: 'front-proxy-ca' });
    expect(find('w1', 'kubelet-serving')).toMatchObject({ issuer: 'self-signed', path: '/var/lib/kubelet/pki/kubelet.crt' });
    expect(find('lb1', 'haproxy-ca')).toMatchObject({ issuer: 'self-signed', subject: 'CN=kubernetes' });
    const soon = await certs('check-expiration', '--fail-within', '400');
    expect(soon.code).toBe(3);
    expect(soon.stderr).toMatch(/expire within 400 days: .*cp1:\/etc\/kubernetes\/pki\/apiserver\.crt/);
  });

  it('renew all rolls host by host in startup order with zero failed etcd writes; verify is clean afterwards', async () => {
    const before = state('hosts/cp1/pki/apiserver.crt');
    const tls = { ca: state('pki/etcd/ca.crt'), cert: state('hosts/cp1/pki/apiserver-etcd-client.crt'), key: state('hosts/cp1/pki/apiserver-etcd-client.key') };
    const writer = startEtcdWriter(CPS.map((h) => cl.address(h)), tls, { intervalMs: 50, budgetMs: 3000, maxMs: 9 * 60_000 });
    const result = await kbuild(['certs', 'renew', 'all', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json'], 600_000);
    const stats = await writer.stop();
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-3000)}`).toBe(0);
    expect(stats.failed, JSON.stringify(stats.failed.slice(0, 3))).toEqual([]);
    expect(stats.ok).toBeGreaterThan(50);

    const events = jsonEvents(result.stdout);
    const restarts = events.filter((e) => e.type === 'info' && e.message?.startsWith('restart ')).map((e) => `${e.message!.split(' ')[1]!.replace(':', '')}@${e.host}`);
    expect(restarts).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].flatMap((p) => CPS.map((h) => `${p}@${h}`)));
    // Every restart is gated on that host before the next restart begins.
    const seq = events.filter((e) => (e.type === 'info' && e.message?.startsWith('restart ')) || e.type === 'gate-pass').map((e) => (e.type === 'gate-pass' ? `${e.gate}@${e.host}` : `restart@${e.host}`));
    expect(seq.slice(0, 9)).toEqual(['restart@cp1', 'etcd /health@cp1', 'etcd quorum (member list)@cp1', 'restart@cp2', 'etcd /health@cp2', 'etcd quorum (member list)@cp2', 'restart@cp3', 'etcd /health@cp3', 'etcd quorum (member list)@cp3']);
    expect(seq.slice(9, 11)).toEqual(['restart@cp1', 'kube-apiserver /readyz@cp1']);

    // The state dir and the hosts hold the new certificates; backups of the old ones are on the hosts.
    expect(state('hosts/cp1/pki/apiserver.crt')).not.toBe(before);
    expect(await onHost('cp1', '/etc/kubernetes/pki/apiserver.crt')).toBe(state('hosts/cp1/pki/apiserver.crt'));
    const backups = (await cl.lab.exec('cp1', 'ls -d /etc/kubernetes/tmp/kbuild-backup-*')).stdout.trim().split('\n');
    expect(await onHost('cp1', `${backups.at(-1)}/etc/kubernetes/pki/apiserver.crt`)).toBe(before);

    const verify = await certs('verify', '-o', 'json');
    expect(verify.code, `${verify.stderr}\n${verify.stdout}`).toBe(0);
    const results = (JSON.parse(verify.stdout) as Verify).results;
    expect(results.filter((r) => r.status !== 'ok' && r.status !== 'self-signed')).toEqual([]);
    expect(results.filter((r) => r.target === 'kube-apiserver' && r.status === 'ok').map((r) => r.host)).toEqual(CPS);
  });

  it('a gate that fails after the push restores that host, stops the roll and names the host and the error', async () => {
    const { cluster } = await loadClusterFile(cl.clusterFile);
    const prepared = await prepareCluster({ inventory: cl.clusterFile, stateDir: cl.stateDir, pki: { renew: ['etcd-server'] } });
    const files = new Map([...prepared.rendered.hosts].map(([h, f]) => [h, f.map((x) => ({ ...x }))]));
    // cp2's new etcd serving certificate is unusable: right CA, but no SAN for the addresses clients use.
    const key = await webCryptoKeySource.generate('ECDSA-P256');
    const signer = { certPem: state('pki/etcd/ca.crt'), key: await importPrivateKeyPem(state('pki/etcd/ca.key'), 'etcd/ca.key') };
    const bad = await issueCertificate({ subject: { cn: 'cp2' }, isCa: false, usages: ['serverAuth', 'clientAuth'], altNames: { dns: ['wrong.invalid'], ips: [] }, serial: randomSerial(), ...validity(new Date(), 365) }, key, signer);
    const cp2 = files.get('cp2')!;
    cp2.find((f) => f.path === '/etc/kubernetes/pki/etcd/server.crt')!.content = bad;
    cp2.find((f) => f.path === '/etc/kubernetes/pki/etcd/server.key')!.content = key.privateKeyPem;
    const cp2Before = await onHost('cp2', '/etc/kubernetes/pki/etcd/server.crt');
    const cp3Before = await onHost('cp3', '/etc/kubernetes/pki/etcd/server.crt');

    const connections = await openFleet(cluster.hosts, { acceptNewHostKeys: false });
    try {
      const error = await rollOutRenewal(cluster, prepared.pki.actions, files, { transport: (h) => connections.get(h), reporter: recordingReporter(), gateTimeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RolloutError);
      expect((error as RolloutError).host).toBe('cp2');
      expect((error as RolloutError).message).toMatch(/^cp2: etcd did not come back healthy with the new certificates: .*(subject|SAN|certificate).*restored from \/etc\/kubernetes\/tmp\/kbuild-backup-.* on cp2 and etcd restarted \(it is healthy again\)/);
    } finally {
      await connections.closeAll();
    }
    expect(await onHost('cp2', '/etc/kubernetes/pki/etcd/server.crt')).toBe(cp2Before);
    expect(await onHost('cp3', '/etc/kubernetes/pki/etcd/server.crt')).toBe(cp3Before);
    expect(await onHost('cp1', '/etc/kubernetes/pki/etcd/server.crt')).toBe(state('hosts/cp1/pki/etcd/server.crt'));
    const health = await cl.lab.exec('cp2', 'curl -sS --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key https://127.0.0.1:2379/health');
    expect(health.stdout).toMatch(/"health":"true"/);
  });

  it('SAN drift: a new certSANs entry re-issues and restarts only the apiservers, one at a time', async () => {
    // Bring every host in line with the state dir first (the previous test left cp2/cp3 on older etcd certificates).
    const settle = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json'], 600_000);
    expect(settle.code, settle.stderr).toBe(0);
    writeFileSync(cl.clusterFile, readFileSync(cl.clusterFile, 'utf8').replace('spec:\n', 'spec:\n  apiServer:\n    certSANs: [api.drift.example]\n'));
    const result = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json'], 600_000);
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-3000)}`).toBe(0);
    const events = jsonEvents(result.stdout);
    const restarts = events.filter((e) => e.type === 'info' && e.message?.startsWith('restart ')).map((e) => `${e.message!.split(' ')[1]!.replace(':', '')}@${e.host}`);
    expect([...restarts].sort()).toEqual(CPS.map((h) => `kube-apiserver@${h}`));
    const seq = events.filter((e) => (e.type === 'info' && e.message?.startsWith('restart ')) || (e.type === 'gate-pass' && e.phase?.startsWith('rollout/'))).map((e) => (e.type === 'gate-pass' ? `gate@${e.host}` : `restart@${e.host}`));
    const order = restarts.map((r) => r.split('@')[1]);
    expect(seq).toEqual(order.flatMap((h) => [`restart@${h}`, `gate@${h}`]));
    for (const h of CPS) {
      const san = (await cl.lab.exec(h, `openssl s_client -connect ${cl.address(h)}:6443 </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`)).stdout;
      expect(san, h).toContain('DNS:api.drift.example');
    }
    const again = await kbuild(['apply', '-i', cl.clusterFile, '--state-dir', cl.stateDir, '--format', 'json'], 600_000);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonEvents(again.stdout).filter((e) => e.type === 'info' && e.message?.startsWith('restart '))).toEqual([]);
  });

  it('verify catches a served certificate older than the file on disk', async () => {
    // Renew cp2's apiserver certificate on the host itself, without restarting the apiserver.
    await cl.lab.exec('cp2', `${process.execPath} ${join(repoRoot, 'bin/kbuild.js')} certs renew apiserver`);
    const verify = await certs('verify', '-o', 'json');
    expect(verify.code).toBe(3);
    const bad = (JSON.parse(verify.stdout) as Verify).results.filter((r) => r.status === 'mismatch');
    expect(bad.map((r) => `${r.target}@${r.host}`)).toContain('kube-apiserver@cp2');
    expect(bad.find((r) => r.target === 'kube-apiserver')!.problems.join()).toMatch(/differs from cp2:\/etc\/kubernetes\/pki\/apiserver\.crt.*renewed on disk but not restarted/);
    expect(verify.stderr).toMatch(/cp2 kube-apiserver/);
  });
});
