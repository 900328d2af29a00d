/**
 * `kbuild join` end to end on test hosts: init on cp1, then on w1 the printed join command, run
 * inside w1 through its own shell. Refusals first (wrong hash, tampered token): nothing written on
 * w1. The stand-in does not sign CSRs, so this test plays the CSR signer and the kubelet's last
 * step of the TLS bootstrap: when bootstrap-kubelet.conf appears on w1, it issues system:node:w1
 * with cp1's CA (openssl) and writes kubelet.conf, which is what join waits for.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../src/kubeconfig/kubeconfig.js';
import { readApiObjects, standinFiles } from '../support/standin/index.js';
import type { TestLab } from '../support/testhosts.js';
import { createClusterLab, type ClusterLab } from './cluster-lab.js';
import { kbuildOnHost, registerNode } from './init-helpers.js';

const EMPTY_DIRS = '/etc/kubernetes /var/lib/kubelet /etc/systemd/system/kubelet.service.d';

/** Signs system:node:<node> with the CA on `caHost` and writes kubelet.conf on `node` once its bootstrap kubeconfig exists (bounded: 240 s). */
async function completeTlsBootstrap(lab: TestLab, caHost: string, node: string, server: string, joinEnded: () => boolean): Promise<string | undefined> {
  const deadline = Date.now() + 240_000;
  while ((await lab.exec(node, 'test -f /etc/kubernetes/bootstrap-kubelet.conf', { allowFailure: true })).code !== 0) {
    if (joinEnded()) return undefined; // join failed before TLS bootstrap; its own output says why
    if (Date.now() > deadline) throw new Error(`${node}: no bootstrap-kubelet.conf within 240 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // What the kubelet would bootstrap with (join removes it once kubelet.conf exists).
  const bootstrapKubeconfig = (await lab.exec(node, 'stat -c %a /etc/kubernetes/bootstrap-kubelet.conf && cat /etc/kubernetes/bootstrap-kubelet.conf')).stdout;
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-e2e-csr-'));
  try {
    const p = (n: string) => join(dir, n);
    writeFileSync(p('ca.crt'), (await lab.exec(caHost, 'cat /etc/kubernetes/pki/ca.crt')).stdout);
    writeFileSync(p('ca.key'), (await lab.exec(caHost, 'cat /etc/kubernetes/pki/ca.key')).stdout, { mode: 0o600 });
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('node.key'), '-out', p('node.csr'), '-subj', `/O=system:nodes/CN=system:node:${node}`);
    writeFileSync(p('ext.cnf'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
    openssl('x509', '-req', '-in', p('node.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('node.crt'), '-days', '1', '-extfile', p('ext.cnf'));
    const kubeconfig = renderKubeconfig({ server, caCertPem: readFileSync(p('ca.crt'), 'utf8'), user: `system:node:${node}`, clientCertPem: readFileSync(p('node.crt'), 'utf8'), clientKeyPem: readFileSync(p('node.key'), 'utf8') });
    await lab.exec(node, `umask 077 && echo ${Buffer.from(kubeconfig).toString('base64')} | base64 -d > /etc/kubernetes/kubelet.conf`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return bootstrapKubeconfig;
}

describe('kbuild join on test hosts', () => {
  let cl: ClusterLab;
  let joinArgs: string[];
  beforeAll(async () => {
    cl = await createClusterLab('e2e-join', [
      { name: 'cp1', roles: ['control-plane'] },
      { name: 'w1', roles: ['worker'] },
    ]);
    const [init] = await Promise.all([
      kbuildOnHost(cl.lab, 'cp1', ['init', '--config', cl.clusterFile, '--node-name', 'cp1', '--state-dir', cl.stateDir, '--ignore-preflight-errors', 'all']),
      registerNode(cl.lab, 'cp1', 'cp1'),
    ]);
    if (init.code !== 0) throw new Error(`init on cp1 failed:\n${init.stdout}\n${init.stderr}`);
    const printed = /kbuild join (\S+ --token \S+ --discovery-token-ca-cert-hash \S+)/.exec(init.stdout);
    if (!printed) throw new Error(`init printed no join command:\n${init.stdout}`);
    joinArgs = ['join', ...printed[1]!.split(' ')];
  }, 420_000);
  afterAll(async () => {
    await cl?.lab.teardown();
  });

  const w1Empty = async () => (await cl.lab.exec('w1', `find ${EMPTY_DIRS} -mindepth 1`)).stdout.trim();
  const withFlag = (flag: string, value: (v: string) => string) => joinArgs.map((a, i) => (joinArgs[i - 1] === flag ? value(a) : a));

  it('refuses a wrong CA hash, saying so, with nothing written on w1', async () => {
    const run = await kbuildOnHost(cl.lab, 'w1', [...withFlag('--discovery-token-ca-cert-hash', () => `sha256:${'0'.repeat(64)}`), '--ignore-preflight-errors', 'all'], 60_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/matches no --discovery-token-ca-cert-hash/);
    expect(await w1Empty()).toBe('');
  });

  it('refuses a tampered token (signature does not verify), with nothing written on w1', async () => {
    const run = await kbuildOnHost(cl.lab, 'w1', [...withFlag('--token', (t) => `${t.slice(0, -1)}${t.endsWith('a') ? 'b' : 'a'}`), '--ignore-preflight-errors', 'all'], 60_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/JWS signature .* does not verify/);
    expect(await w1Empty()).toBe('');
  });

  it('joins w1 with the printed command: bootstrap kubeconfig, published kubelet config, kubelet restarted, TLS bootstrap awaited', async () => {
    const server = `https://${cl.address('cp1')}:6443`;
    let ended = false;
    const joining = kbuildOnHost(cl.lab, 'w1', [...joinArgs, '--ignore-preflight-errors', 'all']).finally(() => (ended = true));
    const [run, bootstrap] = await Promise.all([joining, completeTlsBootstrap(cl.lab, 'cp1', 'w1', server, () => ended)]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('This node (w1) has joined the cluster');
    const token = joinArgs[joinArgs.indexOf('--token') + 1]!;
    expect(bootstrap).toMatch(/^600\n/);
    expect(bootstrap).toContain(`token: ${token}`);
    expect(bootstrap).toContain(`server: ${server}`);
    expect(bootstrap).toContain('name: tls-bootstrap-token-user');
    // Once the kubelet has its own credential the token is not left on disk (as kubeadm).
    expect((await cl.lab.exec('w1', 'test -e /etc/kubernetes/bootstrap-kubelet.conf', { allowFailure: true })).code).toBe(1);
    expect((await cl.lab.exec('w1', 'test -s /etc/kubernetes/kubelet.conf', { allowFailure: true })).code).toBe(0);
    expect((await cl.lab.exec('w1', 'cat /etc/kubernetes/pki/ca.crt')).stdout).toBe((await cl.lab.exec('cp1', 'cat /etc/kubernetes/pki/ca.crt')).stdout);
    const published = readApiObjects(cl.lab, 'cp1').find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kubelet-config') as { data: { kubelet: string } } | undefined;
    expect((await cl.lab.exec('w1', 'cat /var/lib/kubelet/config.yaml')).stdout).toBe(published?.data.kubelet);
    expect((await cl.lab.exec('w1', 'cat /var/lib/kubelet/kubeadm-flags.env')).stdout).toContain('--hostname-override=w1');
    expect(readFileSync(standinFiles(cl.lab, 'w1').systemctlLog, 'utf8')).toMatch(/restart kubelet/);
  }, 420_000);
});
