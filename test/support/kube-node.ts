/**
 * Makes a test host a Kubernetes node as the packages and a node image leave one, before kbuild has
 * touched it: the real kubelet, kubeadm, kubectl and crictl in /usr/bin with the kubelet package's unit,
 * Debian's containerd running under the host's systemd with a config for this lab, the lab's
 * images imported, and forwarding on. Everything kbuild writes (kubelet drop-in, flags, config,
 * manifests, certificates) it writes itself.
 */
import { labVersion, TEST_POD_IMAGE, type LabImage, type LabProgram } from './kube-lab.js';
import type { TestLab } from './testhosts/lab.js';
import { shellQuote } from './testhosts/host-setup.js';

export type CgroupDriver = 'systemd' | 'cgroupfs';

export interface KubeNodeOptions {
  kubernetesVersion: string;
  /** containerd's runc cgroup driver; must match the kubelet's (the cluster file's kubelet.cgroupDriver). */
  cgroupDriver: CgroupDriver;
  /** The sandbox image containerd uses, exactly as kbuild names the pause image. */
  pauseImage: string;
  /** What the node runs, so it gets only those images, as a node pulls only what it runs. */
  runs: { controlPlane: boolean; etcd: boolean; workloads: boolean };
}

/**
 * The images a node imports: the pause image always; a control plane's static pods; etcd where a
 * member runs; where workloads may land (workers, and control planes, which CoreDNS and kube-proxy
 * tolerate) kube-proxy, CoreDNS and the tests' own pod image. A pod on a host without its image
 * fails to pull (no registry here): a test would see it.
 */
export function nodeImages(images: readonly LabImage[], runs: KubeNodeOptions['runs']): LabImage[] {
  const name = (image: LabImage) => image.reference.replace(/^registry\.k8s\.io\//, '').replace(/:[^:/]+$/, '');
  const wanted = new Set(['pause', ...(runs.controlPlane ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] : []), ...(runs.etcd ? ['etcd'] : []), ...(runs.workloads ? ['kube-proxy', 'coredns/coredns'] : [])]);
  return images.filter((image) => wanted.has(name(image)) || (runs.workloads && image.reference === TEST_POD_IMAGE));
}

/** The kubelet package's unit (kubernetes/release, packages/deb), without any drop-in. */
export const KUBELET_UNIT = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;

/**
 * containerd's config for a lab node. restrict_oom_score_adj: the sandbox this lab runs in has no
 * CAP_SYS_RESOURCE, so no process may lower its OOM score below containerd's own; without it runc
 * fails every pod ("can't get final child's PID from pipe") as it does in rootless setups.
 */
export function containerdConfig(options: Pick<KubeNodeOptions, 'cgroupDriver' | 'pauseImage'>): string {
  return `# kbuild test lab (test/support/kube-node.ts)
version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${options.pauseImage}"
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = ${options.cgroupDriver === 'systemd'}
`;
}

/** What kubeadm's packages put in /usr/bin: kubelet, kubeadm, kubectl and cri-tools' crictl. */
const NODE_PROGRAMS: readonly LabProgram[] = ['kubelet', 'kubeadm', 'kubectl', 'crictl'];

/** Installs the node's programs and containerd, starts containerd and imports the images (bounded: 5 min). */
export async function installKubeNode(lab: TestLab, host: string, options: KubeNodeOptions): Promise<void> {
  const version = labVersion(options.kubernetesVersion);
  const q = shellQuote;
  // Read-only bind mounts: the host sees the cached binaries at the packages' paths without a copy.
  const programs = NODE_PROGRAMS.map((p) => `touch /usr/bin/${p} && mount --bind -o ro ${q(version.programs[p])} /usr/bin/${p}`);
  const script = [
    'set -eu',
    ...programs,
    `printf '%s' ${q(KUBELET_UNIT)} > /lib/systemd/system/kubelet.service`,
    'mkdir -p /etc/containerd',
    `printf '%s' ${q(containerdConfig(options))} > /etc/containerd/config.toml`,
    // A node image's sysctl.d: routing between pods and nodes, bridged traffic through iptables.
    'sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 net.ipv6.conf.all.forwarding=1',
    'systemctl daemon-reload',
    'systemctl enable --now containerd 2>/dev/null',
    // containerd answers on its socket a moment after systemd starts it (Type=notify is not awaited here).
    'n=0; until ctr version >/dev/null 2>&1; do n=$((n+1)); [ $n -lt 100 ] || { echo "containerd did not answer on its socket within 20 s" >&2; journalctl -u containerd --no-pager | tail -20 >&2; exit 1; }; sleep 0.2; done',
    ...nodeImages(version.images, options.runs).map((image) => `ctr -n k8s.io images import ${q(image.archive)} >/dev/null`),
  ];
  await lab.exec(host, script.join('\n'), { timeoutMs: 300_000 });
}
