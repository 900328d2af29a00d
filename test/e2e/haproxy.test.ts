/**
 * Real HAProxy with kbuild's rendered haproxy.cfg. Runs in test hosts (network namespaces with
 * private /etc), so the rendered files land at their real paths and the config changes only in
 * its backend addresses (the examples' 192.168.x addresses become the test hosts').
 *  1. `haproxy -c` accepts every rendered haproxy.cfg (every example with a load balancer, and
 *     placement control-plane).
 *  2. A live haproxy on lb1 balances over cp1..cp3, where `openssl s_server` serves the rendered
 *     apiserver certificate and key and answers /readyz; cp3 serves a certificate from another CA.
 *     A client verifying against ca.crt with the endpoint name gets through the frontend, and never
 *     reaches cp3, because the health check verifies backends against the cluster CA. The admin
 *     socket a roll-out uses drains cp2 (every answer then comes from cp1) and makes it ready again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadClusterFile } from '../../src/config/load.js';
import { withHosts, type Cluster } from '../../src/config/model.js';
import { ensureClusterPki } from '../../src/pki/ensure.js';
import { renderCluster, type RenderedCluster } from '../../src/render/cluster.js';
import { loadRenderSecrets } from '../../src/state/secrets.js';
import type { RenderedFile } from '../../src/kubeadm/files.js';
import { StateDir } from '../../src/state/state-dir.js';
import { loadTemplates } from '../../src/templates/index.js';
import { startHaproxy } from '../support/daemons.js';
import { PATHS } from '../../src/kubeadm/constants.js';
import { parseServerStates, serversUp, serverStatesCommand, setStateCommand, stateChangeError } from '../../src/static-pods/lb-rotation.js';
import { createTestHosts, waitForTcp, type HostProcess, type TestLab } from '../support/testhosts.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-haproxy-'));
const examples = join(import.meta.dirname, '../../examples');
let lab: TestLab;
const daemons: HostProcess[] = [];

async function render(example: string, change: (c: Cluster) => Cluster = (c) => c): Promise<{ cluster: Cluster; rendered: RenderedCluster }> {
  const cluster = change((await loadClusterFile(join(examples, `${example}.yaml`))).cluster);
  const state = await StateDir.open(join(work, 'state', example));
  const pki = await ensureClusterPki(cluster, state);
  const secrets = await loadRenderSecrets(state);
  return { cluster, rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }) };
}

const fileOf = (rendered: RenderedCluster, host: string, path: string): RenderedFile => {
  const file = rendered.hosts.get(host)?.find((f) => f.path === path);
  if (!file) throw new Error(`${host}:${path} was not rendered`);
  return file;
};

async function put(host: string, path: string, content: string | Buffer, mode: number): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/'));
  await lab.exec(host, `mkdir -p ${dir} && cat > ${path} && chmod ${mode.toString(8)} ${path}`, { input: String(content) });
}

beforeAll(async () => {
  lab = await createTestHosts({ names: ['lb1', 'cp1', 'cp2', 'cp3'] });
}, 120_000);

afterAll(async () => {
  for (const daemon of daemons) await daemon.stop();
  await lab?.teardown();
  rmSync(work, { recursive: true, force: true });
});

describe('rendered haproxy.cfg', () => {
  test('`haproxy -c` accepts every rendered haproxy.cfg', async () => {
    const variants = [
      await render('ha-stacked'),
      await render('ha-external-etcd'),
      await render('ha-stacked', (c) => withHosts({ ...c, loadBalancer: { ...c.loadBalancer, placement: 'control-plane', port: 8443 } }, c.hosts.filter((h) => !h.roles.includes('load-balancer')))),
    ];
    let checked = 0;
    for (const { rendered } of variants) {
      for (const [host, files] of rendered.hosts) {
        const cfg = files.find((f) => f.path === '/etc/haproxy/haproxy.cfg');
        if (!cfg) continue;
        await put('lb1', '/etc/haproxy/kbuild-ca.crt', fileOf(rendered, host, '/etc/haproxy/kbuild-ca.crt').content, 0o644);
        await put('lb1', '/etc/haproxy/haproxy.cfg', cfg.content, cfg.mode);
        const result = await lab.exec('lb1', ['haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg'], { allowFailure: true });
        expect(result.code, `${host}: ${result.stdout}${result.stderr}`).toBe(0);
        expect(result.stdout + result.stderr, host).not.toMatch(/\[WARNING\]|\[ALERT\]/);
        checked += 1;
      }
    }
    expect(checked).toBe(2 + 2 + 3);
  });

  test('a live haproxy balances over TLS-verified backends; a client verifying ca.crt and the endpoint name gets through', async () => {
    const { cluster, rendered } = await render('ha-stacked');
    const port = cluster.apiServer.bindPort;
    // The only adaptation: backend addresses become the test hosts'.
    let cfg = String(fileOf(rendered, 'lb1', '/etc/haproxy/haproxy.cfg').content);
    for (const name of ['cp1', 'cp2', 'cp3']) {
      const address = cluster.hosts.find((h) => h.name === name)!.address;
      expect(cfg).toContain(`server ${name} ${address}:${port}`);
      cfg = cfg.replace(`server ${name} ${address}:${port}`, `server ${name} ${lab.host(name).address}:${port}`);
    }
    await put('lb1', '/etc/haproxy/kbuild-ca.crt', fileOf(rendered, 'lb1', '/etc/haproxy/kbuild-ca.crt').content, 0o644);
    await put('lb1', '/etc/haproxy/haproxy.cfg', cfg, 0o644);

    // cp3 presents a certificate from another CA: the check must mark it DOWN.
    const foreignKey = join(work, 'foreign.key');
    const foreignCert = join(work, 'foreign.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', foreignKey, '-out', foreignCert, '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=DNS:kubernetes,DNS:api.demo.internal', '-days', '2'], { stdio: 'ignore' });
    for (const name of ['cp1', 'cp2', 'cp3']) {
      const pki = name === 'cp3' ? { crt: execFileSync('cat', [foreignCert]), key: execFileSync('cat', [foreignKey]) } : { crt: fileOf(rendered, name, '/etc/kubernetes/pki/apiserver.crt').content, key: fileOf(rendered, name, '/etc/kubernetes/pki/apiserver.key').content };
      await put(name, '/etc/kubernetes/pki/apiserver.crt', pki.crt, 0o644);
      await put(name, '/etc/kubernetes/pki/apiserver.key', pki.key, 0o600);
      await put(name, '/srv/www/readyz', `ok from ${name}\n`, 0o644);
      const address = lab.host(name).address;
      daemons.push(
        lab.spawn(name, ['sh', '-c', `cd /srv/www && exec openssl s_server -quiet -WWW -accept ${address}:${port} -cert /etc/kubernetes/pki/apiserver.crt -key /etc/kubernetes/pki/apiserver.key`]),
      );
      await waitForTcp(address, port, { timeoutMs: 10_000 });
    }
    const lb = lab.host('lb1');
    daemons.push(await startHaproxy(lab, 'lb1', '/etc/haproxy/haproxy.cfg', { address: lb.address, port: cluster.loadBalancer.port }));

    const caCertPem = String(fileOf(rendered, 'worker1', '/etc/kubernetes/pki/ca.crt').content);
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          { host: lb.address, port: cluster.loadBalancer.port, path: '/readyz', servername: cluster.endpoint.host, ca: caCertPem, rejectUnauthorized: true, agent: false, timeout: 5_000 },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`status ${res.statusCode}`))));
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      });

    // Wait (bounded) until the checks have settled: 8 verified answers in a row.
    const deadline = Date.now() + 30_000;
    let streak = 0;
    while (streak < 8) {
      if (Date.now() > deadline) throw new Error('haproxy never served 8 verified answers in a row within 30 s');
      streak = await get().then(
        () => streak + 1,
        () => 0,
      );
      if (streak === 0) await new Promise((r) => setTimeout(r, 500));
    }
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await get());
    expect(new Set(answers)).toEqual(new Set(['ok from cp1', 'ok from cp2']));

    // The roll-out's rotation switch, through the admin socket (root only) with kbuild's own commands.
    const onLb = async (command: string) => {
      const r = await lab.exec('lb1', command, { allowFailure: true });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    };
    expect((await lab.exec('lb1', ['stat', '-c', '%a %U %F', PATHS.haproxyAdminSocket])).stdout.trim()).toBe('600 root socket');
    expect(Object.fromEntries(parseServerStates((await onLb(serverStatesCommand())).stdout))).toEqual({ cp1: 'UP', cp2: 'UP', cp3: 'DOWN' });
    expect(stateChangeError(await onLb(setStateCommand('cp2', 'drain')))).toBeUndefined();
    expect(parseServerStates((await onLb(serverStatesCommand())).stdout).get('cp2')).toBe('DRAIN');
    expect(serversUp(['cp1', 'cp2']).interpret(await onLb(serverStatesCommand()))).toEqual({ ok: false, seen: 'cp2 DRAIN' });
    const drained = [];
    for (let i = 0; i < 8; i++) drained.push(await get());
    expect(new Set(drained)).toEqual(new Set(['ok from cp1']));
    expect(stateChangeError(await onLb(setStateCommand('cp2', 'ready')))).toBeUndefined();
    expect(serversUp(['cp1', 'cp2']).interpret(await onLb(serverStatesCommand()))).toEqual({ ok: true });
    expect(stateChangeError(await onLb(setStateCommand('cp9', 'drain')))).toMatch(/no such server/);
  });
});
