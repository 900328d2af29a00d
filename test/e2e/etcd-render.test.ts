/**
 * Real etcd (the version kubeadm's etcd image carries, built by scripts/ensure-kube-lab.mjs) started
 * with exactly the command of each rendered etcd.yaml,
 * on test hosts. The cluster file's host addresses are set to the test hosts' before rendering (so
 * the PKI's SANs and every flag are the rendered ones); the host paths are the hosts' private
 * mounts, where the rendered PKI files are written first. Then, from the runner,
 * `etcdctl endpoint health --cluster` with the rendered healthcheck-client certificate and a
 * put/get with the rendered apiserver-etcd-client certificate against the apiserver's
 * `--etcd-servers` succeed. Stacked (ha-stacked) and external (ha-external-etcd) topologies.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { labProgram } from '../support/kube-lab.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { loadClusterFile } from '../../src/config/load.js';
import { firstControlPlane, withHosts, type Cluster } from '../../src/config/model.js';
import { ensureClusterPki } from '../../src/pki/ensure.js';
import { renderCluster, type RenderedCluster } from '../../src/render/cluster.js';
import { loadRenderSecrets } from '../../src/state/secrets.js';
import type { RenderedFile } from '../../src/kubeadm/files.js';
import { StateDir } from '../../src/state/state-dir.js';
import { loadTemplates } from '../../src/templates/index.js';
import { flagValue, startEtcd } from '../support/daemons.js';
import { createTestHosts, type HostProcess, type TestLab } from '../support/testhosts.js';
import { run } from '../support/testhosts/processes.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-etcd-'));
let lab: TestLab;

beforeAll(async () => {
  lab = await createTestHosts({ names: ['cp1', 'cp2', 'cp3', 'etcd1', 'etcd2', 'etcd3'] });
}, 120_000);

afterAll(async () => {
  await lab?.teardown();
  rmSync(work, { recursive: true, force: true });
});

async function renderOnLab(example: string): Promise<{ cluster: Cluster; rendered: RenderedCluster }> {
  const loaded = (await loadClusterFile(join(import.meta.dirname, '../../examples', `${example}.yaml`))).cluster;
  // Only the addresses change: every host that exists in the lab takes its lab address.
  // withHosts: the model's role sets (etcdMembers, …) are computed from the hosts.
  const cluster: Cluster = withHosts(loaded, loaded.hosts.map((h) => (lab.hosts.some((t) => t.name === h.name) ? { ...h, address: lab.host(h.name).address } : h)));
  const state = await StateDir.open(join(work, 'state', example));
  const pki = await ensureClusterPki(cluster, state);
  const secrets = await loadRenderSecrets(state);
  return { cluster, rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }) };
}

const filesOf = (rendered: RenderedCluster, host: string): RenderedFile[] => rendered.hosts.get(host) ?? [];
const fileOf = (rendered: RenderedCluster, host: string, path: string): RenderedFile => {
  const file = filesOf(rendered, host).find((f) => f.path === path);
  if (!file) throw new Error(`${host}:${path} was not rendered`);
  return file;
};

async function put(host: string, file: RenderedFile): Promise<void> {
  const dir = file.path.slice(0, file.path.lastIndexOf('/'));
  await lab.exec(host, `mkdir -p ${dir} && cat > ${file.path} && chmod ${file.mode.toString(8)} ${file.path}`, { input: String(file.content) });
}

/** Copies a rendered file to the runner, for etcdctl. */
function local(rendered: RenderedCluster, host: string, path: string): string {
  const target = join(work, 'client', host, path);
  mkdirSync(join(target, '..'), { recursive: true });
  const file = fileOf(rendered, host, path);
  writeFileSync(target, String(file.content), { mode: file.mode });
  return target;
}

const etcdctl = (args: string[]) => run([labProgram('etcdctl'), '--command-timeout=10s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 30_000, allowFailure: true });

async function runRenderedEtcdCluster(example: string) {
  const { cluster, rendered } = await renderOnLab(example);
  const members = cluster.etcdMembers;
  expect(members).toHaveLength(3);
  const commands = new Map<string, string[]>();
  for (const member of members) {
    const pod = yaml.load(String(fileOf(rendered, member.name, '/etc/kubernetes/manifests/etcd.yaml').content)) as V1Pod;
    const command = pod.spec!.containers[0]!.command!;
    commands.set(member.name, command);
    // The member's rendered etcd PKI, at its real paths in the host.
    for (const file of filesOf(rendered, member.name).filter((f) => f.path.startsWith('/etc/kubernetes/pki/etcd/'))) await put(member.name, file);
  }
  const daemons: HostProcess[] = [];
  try {
    // All members start together (one --initial-cluster): quorum needs them all.
    const started = await Promise.allSettled(members.map((m) => startEtcd(lab, m.name, commands.get(m.name)!, 30_000)));
    for (const result of started) if (result.status === 'fulfilled') daemons.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;

    const first = members[0]!.name;
    const etcdCa = local(rendered, first, '/etc/kubernetes/pki/etcd/ca.crt');
    const healthCert = local(rendered, first, '/etc/kubernetes/pki/etcd/healthcheck-client.crt');
    const healthKey = local(rendered, first, '/etc/kubernetes/pki/etcd/healthcheck-client.key');
    const endpoints = members.map((m) => `https://${m.address}:2379`).join(',');
    let health = await etcdctl([`--endpoints=${endpoints}`, `--cacert=${etcdCa}`, `--cert=${healthCert}`, `--key=${healthKey}`, 'endpoint', 'health', '--cluster']);
    // --cluster checks only members that already published their client URLs: right after start it
    // can report fewer than all of them with exit 0, so wait (bounded) for every member.
    const healthy = () => (health.stdout + health.stderr).match(/is healthy/g)?.length ?? 0;
    for (let attempt = 0; attempt < 20 && (health.code !== 0 || healthy() < members.length); attempt++) {
      await new Promise((r) => setTimeout(r, 500));
      health = await etcdctl([`--endpoints=${endpoints}`, `--cacert=${etcdCa}`, `--cert=${healthCert}`, `--key=${healthKey}`, 'endpoint', 'health', '--cluster']);
    }
    expect(health.code, health.stdout + health.stderr).toBe(0);
    expect((health.stdout + health.stderr).match(/is healthy/g)).toHaveLength(members.length);

    // kube-apiserver's view: its --etcd-servers and its rendered apiserver-etcd-client certificate.
    const cp = firstControlPlane(cluster).name;
    const apiserver = yaml.load(String(fileOf(rendered, cp, '/etc/kubernetes/manifests/kube-apiserver.yaml').content)) as V1Pod;
    const apiArgs = apiserver.spec!.containers[0]!.command!;
    let servers = flagValue(apiArgs, '--etcd-servers')!;
    // Stacked: the local member first, on the control plane's loopback (which the runner reaches at its
    // address), then the other members.
    if (cluster.etcd.topology === 'stacked') {
      const cpUrl = `https://${cluster.hosts.find((h) => h.name === cp)!.address}:2379`;
      expect(servers).toBe(['https://127.0.0.1:2379', ...endpoints.split(',').filter((e) => e !== cpUrl)].join(','));
      servers = servers.replace('https://127.0.0.1:2379', cpUrl);
    } else {
      expect(servers).toBe(endpoints);
    }
    const tls = [
      `--cacert=${local(rendered, cp, flagValue(apiArgs, '--etcd-cafile')!)}`,
      `--cert=${local(rendered, cp, flagValue(apiArgs, '--etcd-certfile')!)}`,
      `--key=${local(rendered, cp, flagValue(apiArgs, '--etcd-keyfile')!)}`,
    ];
    const putResult = await etcdctl([`--endpoints=${servers}`, ...tls, 'put', '/registry/kbuild-probe', example]);
    expect(putResult.code, putResult.stderr).toBe(0);
    const getResult = await etcdctl([`--endpoints=${servers}`, ...tls, 'get', '--print-value-only', '/registry/kbuild-probe']);
    expect(getResult.code, getResult.stderr).toBe(0);
    expect(getResult.stdout.trim()).toBe(example);
    // Client certificate auth is on: without a certificate the member refuses.
    const anonymous = await etcdctl([`--endpoints=${servers}`, tls[0]!, '--dial-timeout=3s', '--command-timeout=3s', 'get', '/registry/kbuild-probe']);
    expect(anonymous.code).not.toBe(0);
  } finally {
    for (const daemon of daemons) await daemon.stop();
  }
}

describe('etcd started with the rendered etcd.yaml commands', () => {
  test('stacked: three control-plane members form a healthy cluster', async () => {
    await runRenderedEtcdCluster('ha-stacked');
  });

  test('external: three etcd hosts form a healthy cluster the apiserver flags point at', async () => {
    await runRenderedEtcdCluster('ha-external-etcd');
  });
});
