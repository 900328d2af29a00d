/**
 * Certificate lifecycle on the HA cluster of ha-stacked.test.ts (real etcd, apiservers, HAProxy,
 * keepalived, kubelets): the fleet expiry report, `renew all` rolled host by host while a client
 * sends an API request through the VIP every 100 ms and another keeps writing to etcd, `verify`
 * after it, a forced gate failure that restores the host, SAN drift through apply, and what `verify`
 * sees of a certificate renewed on disk behind kbuild's back.
 */
import 'reflect-metadata';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { loadClusterFile } from '../../src/config/load.js';
import { CANDIDATES } from '../../src/operations/certs/gather.js';
import { openFleet } from '../../src/operations/certs/fleet.js';
import { RolloutError } from '../../src/errors/index.js';
import { rollOutRenewal } from '../../src/operations/certs/renew.js';
import { statusCommand } from '../../src/static-pods/etcd-api.js';
import { PORTS } from '../../src/kubeadm/constants.js';
import { parseServerStates, serverStatesCommand } from '../../src/static-pods/lb-rotation.js';
import { issueCertificate, randomSerial, validity } from '../../src/pki/issue.js';
import { importPrivateKeyPem, webCryptoKeySource } from '../../src/pki/keys.js';
import { prepareCluster } from '../../src/state/prepare.js';
import { recordingReporter } from '../../src/report/reporter.js';
import { startApiClient } from './api-client.js';
import { jsonEvents, kbuild, repoRoot } from './cluster-lab.js';
import { startEtcdWriter } from './etcd-writer.js';
import type { HaContext } from './ha-stacked.test.js';

const CPS = ['cp1', 'cp2', 'cp3'];
const HOST_NAMES = ['lb1', 'lb2', 'cp1', 'cp2', 'cp3', 'w1', 'w2'];
const ROLL_TIMEOUT_MS = 15 * 60_000;

type Report = { hosts: string[]; certificates: Array<{ host: string; name: string; path: string; subject: string; notAfter: string; issuer: string; serial: string }> };
type Verify = { results: Array<{ target: string; host: string; status: string; problems: string[] }> };

/** What the control planes' apiservers and etcd members logged about failed requests and leader changes (for a failure message). */
async function serverSide(ctx: HaContext): Promise<string> {
  const pattern = `'leader changed|malformed|status=5|code = |leadership|elected leader|lost leader|became leader|shutting down|GOAWAY'`;
  const lines = await Promise.all(CPS.map(async (h) => {
    const member = `${statusCommand(`https://127.0.0.1:${PORTS.etcdClientHttp}`)} | grep -o '"member_id":"[0-9]*"'`;
    const script = `echo "etcd member: $(${member}) (decimal; the logs print it in hex)"; for c in $(crictl ps -a -q --name 'kube-apiserver|etcd'); do n=$(crictl inspect -o go-template --template '{{.status.metadata.name}}' $c 2>/dev/null); crictl logs $c 2>&1 | grep -E ${pattern} | tail -n 15 | sed "s/^/$n: /"; done; true`;
    return `\n--- ${h}\n${(await ctx.cl.lab.exec(h, script, { allowFailure: true })).stdout.slice(-6000)}`;
  }));
  return lines.join('');
}

export function describeCertificateLifecycle(ctx: HaContext): void {
  const state = (p: string) => readFileSync(join(ctx.cl.stateDir, p), 'utf8');
  const onHost = async (host: string, path: string) => (await ctx.cl.lab.exec(host, ['cat', path])).stdout;
  const certs = (...args: string[]) => kbuild(['certs', ...args, '-i', ctx.cl.clusterFile], ROLL_TIMEOUT_MS);

  describe('kbuild certs across the fleet', () => {
    it('check-expiration -i -o json lists every certificate of every host', async () => {
      const result = await certs('check-expiration', '-o', 'json', '--fail-within', '0');
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Report;
      expect(report.hosts).toEqual(HOST_NAMES);
      for (const host of HOST_NAMES) {
        // What is on the host: every candidate file that exists and holds a certificate.
        const script = CANDIDATES.map((c) => `[ -f ${c.path} ] && grep -q -e 'BEGIN CERTIFICATE' -e client-certificate-data ${c.path} && echo ${c.path}`).join('; ') + '; true';
        const present = (await ctx.cl.lab.exec(host, script)).stdout.trim().split('\n').filter(Boolean);
        expect(report.certificates.filter((c) => c.host === host).map((c) => c.path).sort(), host).toEqual(present.sort());
      }
      const find = (host: string, name: string) => report.certificates.find((c) => c.host === host && c.name === name);
      expect(find('cp2', 'etcd-server')).toMatchObject({ subject: 'CN=cp2', issuer: 'etcd-ca' });
      expect(find('cp1', 'admin.conf')).toMatchObject({ issuer: 'ca' });
      expect(find('cp3', 'front-proxy-client')).toMatchObject({ issuer: 'front-proxy-ca' });
      // The real kubelet made its own serving certificate (serverTLSBootstrap is off), signed by a CA it made for it.
      expect(find('w1', 'kubelet-serving')).toMatchObject({ path: '/var/lib/kubelet/pki/kubelet.crt' });
      expect(find('w1', 'kubelet-serving')?.subject).toMatch(/^CN=w1@\d+$/);
      expect(find('w1', 'kubelet-serving')?.issuer).toMatch(/^CN=w1-ca@\d+$/);
      expect(find('lb1', 'haproxy-ca')).toMatchObject({ issuer: 'self-signed', subject: 'CN=kubernetes' });
      const soon = await certs('check-expiration', '--fail-within', '400');
      expect(soon.code).toBe(3);
      expect(soon.stderr).toMatch(/expire within 400 days: .*cp1:\/etc\/kubernetes\/pki\/apiserver\.crt/);
    });

    it('renew all rolls host by host in startup order (etcd serves its new certificates without a restart, so no leader change; each apiserver out of HAProxy while it restarts): zero failed API requests through the VIP (one every 100 ms), zero failed etcd writes; verify is clean afterwards', async () => {
      const before = state('hosts/cp1/pki/apiserver.crt');
      const raftTerm = async () => (JSON.parse((await ctx.cl.lab.exec('cp1', statusCommand(`https://127.0.0.1:${PORTS.etcdClientHttp}`))).stdout) as { raftTerm?: string }).raftTerm;
      const termBefore = await raftTerm();
      const tls = { ca: state('pki/etcd/ca.crt'), cert: state('hosts/cp1/pki/apiserver-etcd-client.crt'), key: state('hosts/cp1/pki/apiserver-etcd-client.key') };
      const writer = startEtcdWriter(CPS.map((h) => ctx.cl.address(h)), tls, { intervalMs: 50, budgetMs: 3000, maxMs: ROLL_TIMEOUT_MS });
      const admin = yaml.load(readFileSync(ctx.kubectl.kubeconfig, 'utf8')) as { clusters: [{ cluster: { 'certificate-authority-data': string } }]; users: [{ user: { 'client-certificate-data': string; 'client-key-data': string } }] };
      const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
      const client = startApiClient(`https://${ctx.cl.vip}:6443/api/v1/namespaces/default`, {
        ca: decode(admin.clusters[0].cluster['certificate-authority-data']),
        cert: decode(admin.users[0].user['client-certificate-data']),
        key: decode(admin.users[0].user['client-key-data']),
      }, { intervalMs: 100, timeoutMs: 5_000, maxMs: ROLL_TIMEOUT_MS });
      const result = await kbuild(['certs', 'renew', 'all', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir, '--format', 'json'], ROLL_TIMEOUT_MS);
      const [writes, requests] = await Promise.all([writer.stop(), client.stop()]);
      expect(result.code, `${result.stderr}\n${result.stdout.slice(-3000)}`).toBe(0);
      expect(requests.failed, `${JSON.stringify(requests.failed.slice(0, 5))}${requests.failed.length > 0 ? await serverSide(ctx) : ''}`).toEqual([]);
      expect(requests.ok).toBeGreaterThan(100);
      expect(writes.failed, JSON.stringify(writes.failed.slice(0, 3))).toEqual([]);
      expect(writes.ok).toBeGreaterThan(50);
      // No member restarted, so no election: the same raft term as before the roll.
      expect(termBefore).toMatch(/^\d+$/);
      expect(await raftTerm()).toBe(termBefore);

      const events = jsonEvents(result.stdout);
      const restarts = events.filter((e) => e.type === 'info' && e.message?.startsWith('restart ')).map((e) => `${e.message!.split(' ')[1]!.replace(':', '')}@${e.host}`);
      // No etcd member restarts; the other pods restart in startup order, host by host.
      expect(restarts).toEqual(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].flatMap((p) => CPS.map((h) => `${p}@${h}`)));
      expect(events.filter((e) => e.message?.includes('leadership'))).toEqual([]);
      // Each etcd member, in host order, serves the new files to new clients and peers and is healthy before the next is
      // touched; then each apiserver leaves both HAProxies (which must have every other one), restarts, passes its gate and is back in both.
      const seq = events.filter((e) => (e.type === 'info' && e.message?.startsWith('restart ')) || e.type === 'gate-pass').map((e) => (e.type === 'gate-pass' ? `${e.gate}@${e.host}` : `restart@${e.host}`));
      const lbs = (gate: string) => ['lb1', 'lb2'].map((lb) => `${gate}@${lb}`);
      const etcdGates = ['etcd serves its server certificate file to new clients', 'etcd serves its peer certificate file to new peers', 'etcd /health', 'etcd quorum (member list)', 'kube-apiserver /readyz'];
      const drained = (h: string) => [...lbs(`HAProxy sends to the other apiservers (before ${h}'s kube-apiserver restarts)`), `restart@${h}`, `kube-apiserver /readyz@${h}`, ...lbs(`HAProxy sends to ${h} again`)];
      expect(seq.slice(0, 15 + 18)).toEqual([...CPS.flatMap((h) => etcdGates.map((g) => `${g}@${h}`)), ...CPS.flatMap(drained)]);

      // The state dir and the hosts hold the new certificates; backups of the old ones are on the hosts.
      expect(state('hosts/cp1/pki/apiserver.crt')).not.toBe(before);
      expect(await onHost('cp1', '/etc/kubernetes/pki/apiserver.crt')).toBe(state('hosts/cp1/pki/apiserver.crt'));
      const backups = (await ctx.cl.lab.exec('cp1', 'ls -d /etc/kubernetes/tmp/kbuild-backup-*')).stdout.trim().split('\n');
      expect(await onHost('cp1', `${backups.at(-1)}/etc/kubernetes/pki/apiserver.crt`)).toBe(before);

      const verify = await certs('verify', '-o', 'json');
      expect(verify.code, `${verify.stderr}\n${verify.stdout}`).toBe(0);
      const results = (JSON.parse(verify.stdout) as Verify).results;
      expect(results.filter((r) => r.status !== 'ok' && r.status !== 'self-signed')).toEqual([]);
      expect(results.filter((r) => r.target === 'kube-apiserver' && r.status === 'ok').map((r) => r.host)).toEqual(CPS);
    }, ROLL_TIMEOUT_MS + 60_000);

    it('a gate that fails after the push restores that host, stops the roll and names the host and the error', async () => {
      const { cluster } = await loadClusterFile(ctx.cl.clusterFile);
      // The renewal is prepared in a copy of the state directory: the cluster's own stays as the hosts are.
      const scratchState = join(ctx.cl.dir, 'state-for-gate-failure');
      cpSync(ctx.cl.stateDir, scratchState, { recursive: true });
      const prepared = await prepareCluster({ inventory: ctx.cl.clusterFile, stateDir: scratchState, pki: { renew: ['etcd-server'] } });
      const files = new Map([...prepared.rendered.hosts].map(([h, f]) => [h, f.map((x) => ({ ...x }))]));
      const connections = await openFleet(cluster.hosts, { acceptNewHostKeys: false });
      try {
        // The roll's first step (cp1's etcd) gets an unusable serving certificate: right CA, but no SAN
        // for the addresses clients use. etcd serves it on the next connection, and its health gate fails.
        const first = CPS[0]!;
        const key = await webCryptoKeySource.generate('ECDSA-P256');
        const signer = { certPem: state('pki/etcd/ca.crt'), key: await importPrivateKeyPem(state('pki/etcd/ca.key'), 'etcd/ca.key') };
        const bad = await issueCertificate({ subject: { cn: first }, isCa: false, usages: ['serverAuth', 'clientAuth'], altNames: { dns: ['wrong.invalid'], ips: [] }, serial: randomSerial(), ...validity(new Date(), 365) }, key, signer);
        const victim = files.get(first)!;
        victim.find((f) => f.path === '/etc/kubernetes/pki/etcd/server.crt')!.content = bad;
        victim.find((f) => f.path === '/etc/kubernetes/pki/etcd/server.key')!.content = key.privateKeyPem;
        const before = new Map(await Promise.all(CPS.map(async (h) => [h, await onHost(h, '/etc/kubernetes/pki/etcd/server.crt')] as const)));

        const error = await rollOutRenewal(cluster, prepared.pki.actions, files, { transport: (h) => connections.get(h), reporter: recordingReporter(), gateTimeoutMs: 30_000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RolloutError);
        expect((error as RolloutError).host).toBe(first);
        expect((error as RolloutError).message).toMatch(new RegExp(`^${first}: etcd did not come back healthy with the new certificates: .*(subject|SAN|certificate).*restored from /etc/kubernetes/tmp/kbuild-backup-.* on ${first} and etcd serves them again \\(it is healthy again\\)`));
        // That host has its old certificate back; the roll stopped there, so the others were never touched.
        for (const h of CPS) expect(await onHost(h, '/etc/kubernetes/pki/etcd/server.crt'), h).toBe(before.get(h));
        expect(state(`hosts/${first}/pki/etcd/server.crt`)).toBe(before.get(first));
        const health = await ctx.cl.lab.exec(first, 'curl -sS --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key https://127.0.0.1:2382/health');
        expect(health.stdout).toMatch(/"health":"true"/);
        // Its apiserver was never drained: etcd did not restart.
        for (const lb of ['lb1', 'lb2']) expect(parseServerStates((await ctx.cl.lab.exec(lb, serverStatesCommand())).stdout).get(first), lb).toBe('UP');
      } finally {
        await connections.closeAll();
      }
    }, ROLL_TIMEOUT_MS);

    it('SAN drift: a new certSANs entry re-issues only the apiserver certificates, which each apiserver serves without a restart, one host at a time', async () => {
      writeFileSync(ctx.cl.clusterFile, readFileSync(ctx.cl.clusterFile, 'utf8').replace('spec:\n', 'spec:\n  apiServer:\n    certSANs: [api.drift.example]\n'));
      const result = await ctx.apply();
      expect(result.code, `${result.stderr}\n${result.stdout.slice(-3000)}`).toBe(0);
      const events = jsonEvents(result.stdout);
      // The real kube-apiserver reloads its serving pair (--tls-cert-file, --tls-private-key-file) by itself.
      expect(events.filter((e) => e.type === 'info' && e.message?.startsWith('restart '))).toEqual([]);
      const reloads = events.filter((e) => e.type === 'info' && e.message?.startsWith('kube-apiserver: no restart')).map((e) => e.host!);
      expect([...reloads].sort()).toEqual(CPS);
      // Each host: a new connection is served the new file, then /readyz, before the next host is written; no drain.
      const seq = events.filter((e) => e.type === 'gate-pass' && e.phase?.startsWith('rollout/')).map((e) => `${e.gate?.includes('serves') ? 'serves' : 'ready'}@${e.host}`);
      expect(seq).toEqual(reloads.flatMap((h) => [`serves@${h}`, `ready@${h}`]));
      for (const h of CPS) {
        const san = (await ctx.cl.lab.exec(h, `openssl s_client -connect ${ctx.cl.address(h)}:6443 </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`)).stdout;
        expect(san, h).toContain('DNS:api.drift.example');
      }
      const again = await ctx.apply();
      expect(again.code, again.stderr).toBe(0);
      expect(jsonEvents(again.stdout).filter((e) => e.type === 'info' && e.message?.startsWith('restart '))).toEqual([]);
    }, 3 * ROLL_TIMEOUT_MS);

    it('a certificate renewed on disk behind kbuild\'s back is served at once by the real kube-apiserver (it watches its files), and verify says so', async () => {
      // Renew cp2's apiserver certificate on the host itself, without restarting the apiserver.
      await ctx.cl.lab.exec('cp2', `${process.execPath} ${join(repoRoot, 'bin/kbuild.js')} certs renew apiserver`);
      const onDisk = (await ctx.cl.lab.exec('cp2', 'openssl x509 -in /etc/kubernetes/pki/apiserver.crt -noout -serial')).stdout.trim();
      expect(await onHost('cp2', '/etc/kubernetes/pki/apiserver.crt'), 'the host renewal changed the file').not.toBe(state('hosts/cp2/pki/apiserver.crt'));
      const served = async () => (await ctx.cl.lab.exec('cp2', `openssl s_client -connect ${ctx.cl.address('cp2')}:6443 </dev/null 2>/dev/null | openssl x509 -noout -serial`)).stdout.trim();
      const deadline = Date.now() + 90_000;
      while ((await served()) !== onDisk && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await served()).toBe(onDisk);
      const verify = await certs('verify', '-o', 'json');
      expect(verify.code, `${verify.stderr}\n${verify.stdout}`).toBe(0);
      expect((JSON.parse(verify.stdout) as Verify).results.find((r) => r.target === 'kube-apiserver' && r.host === 'cp2')?.status).toBe('ok');
      // Put cp2 back in step with the state directory for what follows: the apiserver picks the files up again by itself.
      for (const name of ['apiserver.crt', 'apiserver.key']) {
        await ctx.cl.lab.exec('cp2', `f=/etc/kubernetes/pki/${name}; umask 077; cat > $f.kbuild-e2e && chmod --reference=$f $f.kbuild-e2e && mv -f $f.kbuild-e2e $f`, { input: state(`hosts/cp2/pki/${name}`) });
      }
      const back = state('hosts/cp2/pki/apiserver.crt');
      const backSerial = (await ctx.cl.lab.exec('cp2', 'openssl x509 -in /etc/kubernetes/pki/apiserver.crt -noout -serial')).stdout.trim();
      expect(await onHost('cp2', '/etc/kubernetes/pki/apiserver.crt')).toBe(back);
      const settled = Date.now() + 90_000;
      while ((await served()) !== backSerial && Date.now() < settled) await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await served(), 'cp2 serves the state directory\'s certificate again').toBe(backSerial);
    }, ROLL_TIMEOUT_MS);
  });
}
