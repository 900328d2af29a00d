/**
 * What a working cluster looks like from outside, asked of the real API with kubectl and the admin
 * kubeconfig through the cluster's endpoint, and of CoreDNS through the kube-dns Service from a node.
 * Every wait is bounded and says what it last saw.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { labProgram } from '../support/kube-lab.js';
import { run, type CommandResult } from '../support/testhosts.js';
import type { ClusterLab } from './cluster-lab.js';

export interface Kubectl {
  (args: readonly string[], options?: { timeoutMs?: number; allowFailure?: boolean; input?: string }): Promise<CommandResult>;
  json<T>(args: readonly string[]): Promise<T>;
  kubeconfig: string;
}

/** kubectl on the test runner with the cluster's admin.conf (from the first control plane: its server is the endpoint). */
export async function adminKubectl(cl: ClusterLab, firstControlPlane = 'cp1'): Promise<Kubectl> {
  const kubeconfig = join(cl.dir, 'admin.conf');
  writeFileSync(kubeconfig, (await cl.lab.exec(firstControlPlane, ['cat', '/etc/kubernetes/admin.conf'])).stdout, { mode: 0o600 });
  const kubectl = ((args, options = {}) =>
    run([labProgram('kubectl'), `--kubeconfig=${kubeconfig}`, '--request-timeout=20s', ...args], { timeoutMs: options.timeoutMs ?? 60_000, allowFailure: options.allowFailure, input: options.input, label: 'kubectl' })) as Kubectl;
  kubectl.json = async <T>(args: readonly string[]) => JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;
  kubectl.kubeconfig = kubeconfig;
  return kubectl;
}

/** Polls `check` (every 2 s, at most `timeoutMs`) until it returns undefined; else fails with the last thing it said. */
export async function eventually(what: string, timeoutMs: number, check: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string | undefined = 'not checked yet';
  while (Date.now() < deadline) {
    seen = await check().catch((error: unknown) => (error as Error).message.split('\n').slice(0, 3).join(' '));
    if (seen === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  throw new Error(`${what}: not true after ${timeoutMs} ms; last seen: ${seen}`);
}

const ready = (node: V1Node) => node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const podReady = (pod: V1Pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.ready);

export interface ClusterShape {
  controlPlanes: readonly string[];
  workers: readonly string[];
  /** Stacked: an etcd mirror pod on every control plane. External: none. */
  stackedEtcd: boolean;
  dnsDomain?: string;
  /** A node whose host network sends the DNS query (any node runs kube-proxy). */
  dnsFrom: string;
}

/**
 * Every node Ready and the control planes marked as kubeadm marks them; the API ready through the
 * endpoint; the mirror pods, a kube-proxy per node and an Available CoreDNS; and DNS answering the
 * `kubernetes` Service's address through the kube-dns Service.
 */
export async function expectWorkingCluster(cl: ClusterLab, kubectl: Kubectl, shape: ClusterShape): Promise<void> {
  const nodes = [...shape.controlPlanes, ...shape.workers].sort();
  await eventually('every node Ready', 120_000, async () => {
    const list = await kubectl.json<{ items: V1Node[] }>(['get', 'nodes']);
    const names = list.items.map((n) => n.metadata!.name!).sort();
    if (names.join() !== nodes.join()) return `nodes ${names.join(', ')}`;
    const notReady = list.items.filter((n) => !ready(n)).map((n) => n.metadata!.name);
    return notReady.length === 0 ? undefined : `not Ready: ${notReady.join(', ')}`;
  });
  for (const node of (await kubectl.json<{ items: V1Node[] }>(['get', 'nodes'])).items) {
    const name = node.metadata!.name!;
    const controlPlane = shape.controlPlanes.includes(name);
    expect(Object.hasOwn(node.metadata!.labels ?? {}, 'node-role.kubernetes.io/control-plane'), `${name} control-plane label`).toBe(controlPlane);
    expect(Object.hasOwn(node.metadata!.labels ?? {}, 'node.kubernetes.io/exclude-from-external-load-balancers'), `${name} exclude-from-external-load-balancers label`).toBe(controlPlane);
    const tainted = (node.spec?.taints ?? []).some((t) => t.key === 'node-role.kubernetes.io/control-plane' && t.effect === 'NoSchedule');
    expect(tainted, `${name} NoSchedule taint`).toBe(controlPlane);
  }

  const readyz = await kubectl(['get', '--raw', '/readyz?verbose']);
  expect(readyz.stdout.trim().split('\n').at(-1)).toBe('readyz check passed');

  const mirror = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', ...(shape.stackedEtcd ? ['etcd'] : [])];
  await eventually('mirror pods, kube-proxy and CoreDNS running', 120_000, async () => {
    const pods = (await kubectl.json<{ items: V1Pod[] }>(['get', 'pods', '-n', 'kube-system'])).items;
    const running = new Set(pods.filter(podReady).map((p) => p.metadata!.name!));
    const missing = shape.controlPlanes.flatMap((cp) => mirror.map((c) => `${c}-${cp}`)).filter((name) => !running.has(name));
    const proxies = pods.filter((p) => p.metadata!.name!.startsWith('kube-proxy-') && podReady(p)).map((p) => p.spec!.nodeName!).sort();
    if (proxies.join() !== nodes.join()) missing.push(`kube-proxy on ${nodes.filter((n) => !proxies.includes(n)).join(', ')}`);
    const coredns = await kubectl.json<V1Deployment>(['get', 'deployment', '-n', 'kube-system', 'coredns']);
    const available = coredns.status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
    if (!available || (coredns.status?.availableReplicas ?? 0) < (coredns.spec?.replicas ?? 1)) missing.push(`CoreDNS available ${coredns.status?.availableReplicas ?? 0}/${coredns.spec?.replicas ?? 1}`);
    return missing.length === 0 ? undefined : `not running: ${missing.join(', ')}`;
  });

  const kubernetesIp = (await kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  const dnsIp = (await kubectl(['get', 'service', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.spec.clusterIP}'])).stdout.trim();
  const name = `kubernetes.default.svc.${shape.dnsDomain ?? 'cluster.local'}`;
  await eventually(`${name} through the kube-dns Service ${dnsIp} from ${shape.dnsFrom}`, 60_000, async () => {
    const answer = await cl.lab.exec(shape.dnsFrom, ['dig', '+short', '+time=2', '+tries=1', `@${dnsIp}`, name], { allowFailure: true });
    return answer.stdout.trim() === kubernetesIp ? undefined : `dig said ${JSON.stringify((answer.stdout + answer.stderr).trim())}`;
  });
}
