/**
 * A cluster on test hosts: a lab of network-namespace machines, each node with the real kubelet,
 * kubeadm, kubectl and containerd (test/support/kube-node.ts), a cluster file pointing at them, and a
 * way to run the built kbuild CLI against it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { componentVersions } from '../../src/kubeadm/versions.js';
import { OPTIONAL_CA_DIRS } from '../../src/kubeadm/host-environment.js';
import { createTestHosts, type TestLab } from '../support/testhosts.js';
import { installKubeNode } from '../support/kube-node.js';
import { LAB_KUBERNETES_VERSION } from '../support/kube-lab.js';

export const repoRoot = join(import.meta.dirname, '../..');

export interface ClusterLab {
  lab: TestLab;
  dir: string;
  clusterFile: string;
  stateDir: string;
  address(name: string): string;
  /** With `vip: true`: the virtual IP keepalived holds (the lab's .100), also the endpoint's address. */
  vip?: string;
}

export interface LabHost {
  name: string;
  roles: string[];
  ssh?: Record<string, unknown>;
  /** spec.hosts[].labels and taints, as written. */
  labels?: Record<string, string>;
  taints?: Array<Record<string, string>>;
}

/** Hosts that run a kubelet get the node packages; load-balancer-only hosts use Debian's haproxy and keepalived as installed. */
const runsKubelet = (h: LabHost) => h.roles.some((r) => r !== 'load-balancer');

/**
 * Creates the hosts, makes every kubelet host a node (real kubelet and containerd, images imported),
 * writes the cluster file: cgroupfs (the hosts' systemd is not the machine's init) and kbuild's builtin
 * pod network unless `spec` says otherwise.
 */
export async function createClusterLab(name: string, hosts: LabHost[], spec: Record<string, unknown> = {}, options: { nonRootUser?: boolean; vip?: boolean; ssh?: Record<string, unknown> } = {}): Promise<ClusterLab> {
  const lab = await createTestHosts({ names: hosts.map((h) => h.name), nonRootUser: options.nonRootUser });
  try {
    const node = { kubernetesVersion: LAB_KUBERNETES_VERSION, cgroupDriver: 'cgroupfs' as const, pauseImage: `registry.k8s.io/pause:${componentVersions(LAB_KUBERNETES_VERSION).pause}` };
    const stacked = (spec.etcd as { topology?: string } | undefined)?.topology !== 'external';
    const runs = (h: LabHost) => {
      const controlPlane = h.roles.includes('control-plane');
      return { controlPlane, etcd: h.roles.includes('etcd') || (controlPlane && stacked), workloads: controlPlane || h.roles.includes('worker') };
    };
    await Promise.all(hosts.filter(runsKubelet).map((h) => installKubeNode(lab, h.name, { ...node, runs: runs(h) })));
  } catch (error) {
    await lab.teardown();
    throw error;
  }
  const dir = mkdtempSync(join(tmpdir(), `kbuild-e2e-${name}-`));
  const address = (host: string) => lab.hosts.find((h) => h.name === host)!.address;
  const clusterFile = join(dir, 'cluster.yaml');
  const vip = options.vip ? lab.cidr.replace(/\.0\/24$/, '.100') : undefined;
  const vipSpec = vip ? { controlPlaneEndpoint: `${vip}:6443`, loadBalancer: { type: 'haproxy', vip } } : {};
  const doc = {
    apiVersion: 'kbuild.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name },
    spec: {
      kubernetesVersion: LAB_KUBERNETES_VERSION,
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', nodeSubnets: [lab.cidr], cni: 'builtin' },
      kubelet: { cgroupDriver: 'cgroupfs' },
      // A network namespace may not set the machine's conntrack table size (kind sets the same).
      kubeProxy: { configuration: { conntrack: { maxPerCore: 0 } } },
      // ECDSA keys keep the PKI fast; RSA is covered by the PKI tests.
      certificates: { encryptionAlgorithm: 'ECDSA-P256' },
      // What apply, init and join learn from each host, for `kbuild render` too, so the tests that compare
      // its tree with the hosts keep doing so: the hosts see this machine's /etc and /usr (copy-on-write),
      // hence its CA directories, and their systemd starts no systemd-resolved.
      hostFacts: { systemdResolved: false, caDirectories: OPTIONAL_CA_DIRS.filter((d) => existsSync(d)) },
      ssh: { ...lab.sshDefaults, ...options.ssh },
      ...vipSpec,
      ...spec,
      hosts: hosts.map(({ name, roles, ...rest }) => ({ name, address: address(name), roles, ...rest })),
    },
  };
  writeFileSync(clusterFile, yaml.dump(doc));
  return { lab, dir, clusterFile, stateDir: join(dir, 'state'), address, vip };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (bin/kbuild.js) with a deadline. */
export function kbuild(args: string[], timeoutMs = 240_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/kbuild.js'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: killed ? `${stderr}\n(kbuild ${args.slice(0, 2).join(' ')} was killed: still running after ${timeoutMs} ms)` : stderr });
    });
  });
}

export type JsonEvent = { type: string; phase?: string; host?: string; gate?: string; changed?: string[]; message?: string };

export function jsonEvents(stdout: string): JsonEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonEvent);
}

/** The health gates a full apply passed, in order (a gate passed on several hosts counts once). */
export const gatesInOrder = (stdout: string): string[] =>
  jsonEvents(stdout)
    .filter((e) => e.type === 'gate-pass')
    .map((e) => String(e.gate))
    .filter((g, i, all) => g !== all[i - 1]);

/** A full apply of a cluster with a load balancer passes these gates in this order: the documented startup order. */
export const APPLY_GATES_IN_ORDER = [
  'etcd /health',
  'etcd quorum (member list)',
  'kube-apiserver /readyz',
  'kube-controller-manager /healthz',
  'kube-scheduler /healthz',
  'load balancer frontend',
  'kube-apiserver via the endpoint',
  'kube-public/cluster-info readable',
  'kubelet /healthz',
  'every node registered',
  'DaemonSet kube-system/kube-proxy ready',
  'Deployment kube-system/coredns',
];
