/**
 * The whole product on real components: `kbuild apply` of a stacked cluster — three control planes,
 * two load-balancer hosts sharing a keepalived VIP, two workers — on test hosts whose systemd,
 * containerd and kubelet start exactly the files kbuild pushed. Then, on that one cluster: what
 * kubectl and DNS see, pod traffic across nodes, idempotence, keepalived failover, certificate
 * renewal under load (./ha-certs.ts), and reset followed by a second apply (./ha-reset.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { join } from 'node:path';
import type { V1ConfigMap, V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POD_IMAGE, labProgram } from '../support/kube-lab.js';
import { run } from '../support/testhosts.js';
import { adminKubectl, eventually, expectWorkingCluster, type Kubectl } from './cluster-checks.js';
import { APPLY_GATES_IN_ORDER, createClusterLab, gatesInOrder, kbuild, type ClusterLab } from './cluster-lab.js';
import { describeCertificateLifecycle } from './ha-certs.js';
import { describeReset } from './ha-reset.js';

export const HOSTS = [
  { name: 'lb1', roles: ['load-balancer'] },
  { name: 'lb2', roles: ['load-balancer'] },
  { name: 'cp1', roles: ['control-plane'] },
  { name: 'cp2', roles: ['control-plane'] },
  { name: 'cp3', roles: ['control-plane'] },
  { name: 'w1', roles: ['worker'] },
  { name: 'w2', roles: ['worker'] },
];
export const CONTROL_PLANES = ['cp1', 'cp2', 'cp3'];
export const WORKERS = ['w1', 'w2'];
export const SHAPE = { controlPlanes: CONTROL_PLANES, workers: WORKERS, stackedEtcd: true, dnsFrom: 'w1' };
const APPLY_TIMEOUT_MS = 15 * 60_000;

export interface HaContext {
  cl: ClusterLab;
  kubectl: Kubectl;
  apply(): ReturnType<typeof kbuild>;
}

const ctx = {} as HaContext;

beforeAll(async () => {
  ctx.cl = await createClusterLab('ha-stacked', HOSTS, { etcd: { topology: 'stacked' } }, { vip: true });
  ctx.apply = () => kbuild(['apply', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir, '--format', 'json'], APPLY_TIMEOUT_MS);
}, 10 * 60_000);
afterAll(async () => {
  await ctx.cl?.lab.teardown();
}, 120_000);

describe('kbuild apply: 3 stacked control planes, 2 load balancers with a VIP, 2 workers', () => {
  it('brings every host up in startup order, gated on real health', async () => {
    const result = await ctx.apply();
    expect(result.code, `${result.stderr}\n${result.stdout.slice(-4000)}`).toBe(0);
    expect(gatesInOrder(result.stdout)).toEqual(APPLY_GATES_IN_ORDER);
    ctx.kubectl = await adminKubectl(ctx.cl);
  }, APPLY_TIMEOUT_MS);

  it('is a working cluster through the VIP: nodes Ready and marked, API ready, mirror pods, kube-proxy, CoreDNS, DNS', async () => {
    expect(ctx.kubectl, 'the first apply did not finish').toBeDefined();
    expect(execFileSync('sh', ['-c', `grep server: ${ctx.kubectl.kubeconfig}`], { encoding: 'utf8' }).trim()).toBe(`server: https://${ctx.cl.vip}:6443`);
    await expectWorkingCluster(ctx.cl, ctx.kubectl, SHAPE);
  }, 5 * 60_000);

  it('builtin pod network: a pod on w1 reaches a pod on w2 by its pod address, without NAT', async () => {
    const pod = (name: string, node: string, command: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: 'kbuild-e2e' } },
      spec: { nodeName: node, containers: [{ name: 'main', image: TEST_POD_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', command] }] },
    });
    const server = pod('server-w2', 'w2', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www -vv');
    const client = pod('client-w1', 'w1', 'exec sleep 3600');
    await ctx.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [server, client] }) });
    await ctx.kubectl(['wait', '--for=condition=Ready', 'pod/server-w2', 'pod/client-w1', '--timeout=120s'], { timeoutMs: 150_000 });
    const serverIp = (await ctx.kubectl(['get', 'pod', 'server-w2', '-o', 'jsonpath={.status.podIP}'])).stdout.trim();
    const clientIp = (await ctx.kubectl(['get', 'pod', 'client-w1', '-o', 'jsonpath={.status.podIP}'])).stdout.trim();
    // Node ranges follow cluster-file order among nodes: cp1-cp3 get .0-.2, w1 .3, w2 .4.
    expect(serverIp).toMatch(/^10\.244\.4\./);
    expect(clientIp).toMatch(/^10\.244\.3\./);
    // Debian's static busybox wget died with SIGSEGV in this image (exit 139); nc speaks HTTP/1.0 as well.
    const got = await ctx.kubectl(['exec', 'client-w1', '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${serverIp} 8080`]);
    expect(got.stdout).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(got.stdout.trim().split('\n').at(-1)).toBe('server-w2');
    // httpd logs the peer: the client's own pod address, not w1's.
    await eventually('the server logged the request', 20_000, async () => {
      const logs = (await ctx.kubectl(['logs', 'server-w2'])).stdout;
      return logs.includes(clientIp) ? undefined : `logs: ${logs.slice(-300)}`;
    });
    await ctx.kubectl(['delete', 'pod', 'server-w2', 'client-w1', '--wait=false']);
  }, 5 * 60_000);

  it('left every rendered file on its host with the rendered content and mode, but no bootstrap token on the workers', async () => {
    const out = `${ctx.cl.dir}/rendered`;
    const render = await kbuild(['render', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir, '-o', out]);
    expect(render.code, render.stderr).toBe(0);
    const bootstrapConf = '/etc/kubernetes/bootstrap-kubelet.conf';
    for (const { name } of HOSTS) {
      const listing = execFileSync('sh', ['-c', `cd ${out}/${name} && find . -type f -printf '%m %p\\n' | sort`], { encoding: 'utf8' });
      // Removed after the TLS bootstrap, as join does: the token must not stay on the workers.
      const kept = listing.trim().split('\n').filter((line) => !line.endsWith(` .${bootstrapConf}`));
      if (WORKERS.includes(name)) expect((await ctx.cl.lab.exec(name, `test -e ${bootstrapConf} && echo present || echo absent`)).stdout.trim(), name).toBe('absent');
      const expected = kept.map((line) => {
        const [mode, rel] = line.split(' ');
        return `${mode} ${execFileSync('sha256sum', [`${out}/${name}${rel!.slice(1)}`], { encoding: 'utf8' }).split(' ')[0]} ${rel!.slice(1)}`;
      });
      const paths = expected.map((l) => l.split(' ')[2]).join(' ');
      const onHost = await ctx.cl.lab.exec(name, `for p in ${paths}; do echo "$(stat -c %a "$p") $(sha256sum < "$p" | cut -d' ' -f1) $p"; done`);
      expect(onHost.stdout.trim().split('\n'), name).toEqual(expected);
    }
  });

  it('a second apply changes nothing and says so for every host', async () => {
    const result = await kbuild(['apply', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir], APPLY_TIMEOUT_MS);
    expect(result.code, result.stderr).toBe(0);
    for (const { name } of HOSTS) expect(result.stdout).toMatch(new RegExp(`^${name}: no changes$`, 'm'));
    expect(result.stdout).not.toMatch(/API objects applied/);
    expect(result.stdout).not.toContain('bootstrap-kubelet.conf');
    for (const name of WORKERS) expect((await ctx.cl.lab.exec(name, 'test -e /etc/kubernetes/bootstrap-kubelet.conf && echo present || echo absent')).stdout.trim(), name).toBe('absent');
  }, APPLY_TIMEOUT_MS);

  it("uploads kubeadm-config, which the real kubeadm accepts (kubeadm config validate), and kbuild-config, the cluster file", async () => {
    const kubeadmConfig = await ctx.kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-system', 'kubeadm-config']);
    const file = join(ctx.cl.dir, 'uploaded-kubeadm-config.yaml');
    writeFileSync(file, kubeadmConfig.data?.['ClusterConfiguration'] ?? '');
    const validate = await run([labProgram('kubeadm'), 'config', 'validate', '--config', file], { allowFailure: true, timeoutMs: 60_000, label: 'kubeadm' });
    expect(validate.code, `${validate.stdout}\n${validate.stderr}`).toBe(0);
    expect(yaml.load(kubeadmConfig.data?.['ClusterConfiguration'] ?? '')).toMatchObject({ kind: 'ClusterConfiguration', etcd: { local: { dataDir: '/var/lib/etcd' } } });
    const kbuildConfig = await ctx.kubectl.json<V1ConfigMap>(['get', 'configmap', '-n', 'kube-system', 'kbuild-config']);
    expect(Object.values(kbuildConfig.data ?? {}).join('')).toContain('name: ha-stacked');
  });

  it("labels and taints written after a worker registered reach its Node through the API (mark-workers), once", async () => {
    const original = readFileSync(ctx.cl.clusterFile, 'utf8');
    const doc = yaml.load(original) as { spec: { hosts: Array<Record<string, unknown>> } };
    Object.assign(doc.spec.hosts.find((h) => h.name === 'w2')!, { labels: { disktype: 'ssd' }, taints: [{ key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' }] });
    writeFileSync(ctx.cl.clusterFile, yaml.dump(doc));
    try {
      const markWorkers = () => kbuild(['apply', 'phase', 'mark-workers', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir], 5 * 60_000);
      const first = await markWorkers();
      expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
      expect(first.stdout).toContain('Node/w2: labels disktype=ssd; taints dedicated=batch:PreferNoSchedule');
      const node = await ctx.kubectl.json<V1Node>(['get', 'node', 'w2']);
      expect(node.metadata?.labels?.['disktype']).toBe('ssd');
      expect(node.spec?.taints).toEqual([{ key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' }]);
      const again = await markWorkers();
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).not.toContain('Node/w2');
    } finally {
      writeFileSync(ctx.cl.clusterFile, original);
      await ctx.kubectl(['label', 'node', 'w2', 'disktype-'], { allowFailure: true });
      await ctx.kubectl(['taint', 'node', 'w2', 'dedicated:PreferNoSchedule-'], { allowFailure: true });
    }
  }, 10 * 60_000);
});

describe('keepalived', () => {
  const holder = async () => {
    const holding: string[] = [];
    for (const lb of ['lb1', 'lb2']) {
      const addresses = (await ctx.cl.lab.exec(lb, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout;
      if (addresses.includes(` ${ctx.cl.vip}/`)) holding.push(lb);
    }
    return holding;
  };

  it('holds the VIP on exactly one load balancer; stopping its HAProxy moves it, and the API answers through it again within 10 s', async () => {
    const [first, ...others] = await holder();
    expect(others, 'the VIP is on two hosts').toEqual([]);
    expect(first).toBeDefined();
    const other = first === 'lb1' ? 'lb2' : 'lb1';
    const stopped = Date.now();
    await ctx.cl.lab.exec(first!, ['systemctl', 'stop', 'haproxy']);
    try {
      let answered = 0;
      await eventually('the API answers through the VIP', 10_000, async () => {
        const version = await ctx.kubectl(['get', '--raw', '/version', '--request-timeout=1s'], { allowFailure: true, timeoutMs: 3_000 });
        if (version.code === 0) answered = Date.now() - stopped;
        return version.code === 0 ? undefined : version.stderr.trim().slice(0, 200);
      });
      expect(await holder()).toEqual([other]);
      expect(answered).toBeLessThanOrEqual(10_000);
    } finally {
      await ctx.cl.lab.exec(first!, ['systemctl', 'start', 'haproxy']);
    }
  }, 60_000);
});

describeCertificateLifecycle(ctx);
describeReset(ctx);
