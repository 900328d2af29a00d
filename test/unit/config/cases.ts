/** Validation cases: a base cluster file and named edits, each producing known messages. */
import yaml from 'js-yaml';

type Doc = Record<string, unknown> & { spec: Record<string, unknown> & { hosts: Record<string, unknown>[] } };

export function baseDoc(): Doc {
  return {
    apiVersion: 'kbuild.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'demo' },
    spec: {
      controlPlaneEndpoint: 'api.demo.internal:6443',
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', nodeSubnets: ['192.168.10.0/24'] },
      loadBalancer: { type: 'haproxy', vip: '192.168.10.100' },
      hosts: [
        { name: 'lb1', address: '192.168.10.5', roles: ['load-balancer'] },
        { name: 'cp1', address: '192.168.10.11', roles: ['control-plane'] },
        { name: 'cp2', address: '192.168.10.12', roles: ['control-plane'] },
        { name: 'cp3', address: '192.168.10.13', roles: ['control-plane'] },
        { name: 'w1', address: '192.168.10.31', roles: ['worker'] },
      ],
    },
  };
}

const net = (d: Doc) => d.spec.networking as Record<string, unknown>;

/** name → edit of the base document. Each must yield at least one problem. */
export const CASES: Record<string, (d: Doc) => void> = {
  'pod inside default service range': (d) => {
    net(d).podSubnet = '10.96.0.0/16';
    delete net(d).serviceSubnet;
  },
  'service range containing pod range': (d) => {
    net(d).podSubnet = '10.100.0.0/16';
  },
  'pod range containing service range': (d) => {
    net(d).podSubnet = '10.0.0.0/8';
  },
  'nested ranges of close size': (d) => {
    net(d).podSubnet = '10.104.0.0/13';
    net(d).serviceSubnet = '10.96.0.0/12';
  },
  'ipv6 /48 contains /64': (d) => {
    net(d).podSubnet = '10.244.0.0/16,fd00:1::/48';
    net(d).serviceSubnet = '10.96.0.0/12,fd00:1:0:5::/108';
  },
  'dual-stack order mismatch': (d) => {
    net(d).podSubnet = '10.244.0.0/16,fd00:10:244::/56';
    net(d).serviceSubnet = 'fd00:10:96::/112,10.96.0.0/12';
  },
  'dual-stack with two ranges of one family': (d) => {
    net(d).podSubnet = '10.244.0.0/16,10.245.0.0/16';
  },
  'three ranges': (d) => {
    net(d).podSubnet = '10.244.0.0/16,fd00:10:244::/56,10.245.0.0/16';
  },
  'bad cidr syntax': (d) => {
    net(d).podSubnet = '10.244.0.0/33';
    net(d).nodeSubnets = ['192.168.10/24'];
  },
  'reserved overlaps pod range': (d) => {
    net(d).reservedSubnets = ['10.0.0.0/8'];
  },
  'node subnet overlaps service range': (d) => {
    net(d).nodeSubnets = ['192.168.10.0/24', '10.96.128.0/24'];
  },
  'service range too small': (d) => {
    net(d).serviceSubnet = '10.96.0.0/29';
  },
  'service range too large': (d) => {
    net(d).serviceSubnet = '10.0.0.0/11';
    net(d).podSubnet = '172.16.0.0/16';
  },
  'ipv6 service range too large': (d) => {
    net(d).podSubnet = 'fd00:10:244::/56';
    net(d).serviceSubnet = 'fd00:10:96::/100';
    net(d).nodeSubnets = [];
    d.spec.loadBalancer = { type: 'haproxy' };
    d.spec.hosts.forEach((h, i) => (h.address = `fd00:192:168:10::${i + 1}`));
  },
  'pod range smaller than a node range': (d) => {
    net(d).podSubnet = '10.244.0.0/25';
  },
  'pod range too small for the nodes': (d) => {
    net(d).podSubnet = '10.244.0.0/23';
  },
  'pod range too large for the node mask': (d) => {
    net(d).podSubnet = '10.0.0.0/7';
    net(d).serviceSubnet = '172.16.0.0/16';
  },
  'host address in service range': (d) => {
    d.spec.hosts[4]!.address = '10.96.0.20';
  },
  'host address outside node subnets': (d) => {
    d.spec.hosts[4]!.address = '192.168.11.31';
  },
  'host address not an ip': (d) => {
    d.spec.hosts[4]!.address = 'w1.example.com';
  },
  'vip equal to a host address': (d) => {
    (d.spec.loadBalancer as Record<string, unknown>).vip = '192.168.10.11';
  },
  'vip in pod range': (d) => {
    net(d).nodeSubnets = [];
    (d.spec.loadBalancer as Record<string, unknown>).vip = '10.244.1.1';
  },
  'endpoint ip in reserved range': (d) => {
    net(d).reservedSubnets = ['172.20.0.0/16'];
    net(d).nodeSubnets = [];
    d.spec.controlPlaneEndpoint = '172.20.0.10:6443';
  },
  'endpoint malformed': (d) => {
    d.spec.controlPlaneEndpoint = 'api_demo:99999';
  },
  'no control plane': (d) => {
    d.spec.hosts = d.spec.hosts.filter((h) => !(h.roles as string[]).includes('control-plane'));
  },
  'endpoint missing with three control planes': (d) => {
    delete d.spec.controlPlaneEndpoint;
  },
  'even stacked etcd': (d) => {
    d.spec.hosts.splice(3, 1);
  },
  'even external etcd': (d) => {
    d.spec.etcd = { topology: 'external' };
    d.spec.hosts.push({ name: 'etcd1', address: '192.168.10.21', roles: ['etcd'] }, { name: 'etcd2', address: '192.168.10.22', roles: ['etcd'] });
  },
  'external without etcd hosts': (d) => {
    d.spec.etcd = { topology: 'external' };
  },
  'stacked with etcd hosts': (d) => {
    d.spec.hosts.push({ name: 'etcd1', address: '192.168.10.21', roles: ['etcd'] });
  },
  'load-balancer role with type none': (d) => {
    d.spec.loadBalancer = { type: 'none' };
  },
  'haproxy on control planes on the apiserver port': (d) => {
    d.spec.hosts.shift();
    d.spec.loadBalancer = { type: 'haproxy' };
  },
  'duplicate names and addresses': (d) => {
    d.spec.hosts[2]!.name = 'cp1';
    d.spec.hosts[3]!.address = '192.168.10.11';
  },
  'host name not a dns label': (d) => {
    d.spec.hosts[4]!.name = 'Worker_1';
  },
  'bad metadata name': (d) => {
    (d.metadata as Record<string, unknown>).name = 'Demo Cluster';
  },
  'unsupported kubernetes version': (d) => {
    d.spec.kubernetesVersion = 'v1.29.3';
  },
  'leaf outlives ca': (d) => {
    d.spec.certificates = { validityDays: 4000, caValidityDays: 3650 };
  },
  'ca shorter than the default leaf validity': (d) => {
    d.spec.certificates = { caValidityDays: 47 };
  },
  'leaf longer than the default ca validity': (d) => {
    d.spec.certificates = { validityDays: 3650 };
  },
  'bad cert sans': (d) => {
    d.spec.apiServer = { certSANs: ['api.example.com', '*.example.com', 'not a name', '10.0.0.300'] };
  },
  'extra volumes and envs: bad names, a relative path, a name twice': (d) => {
    d.spec.apiServer = {
      extraVolumes: [
        { name: 'Audit_Log', hostPath: '/var/log/audit', mountPath: '/var/log/audit' },
        { name: 'policy', hostPath: 'audit.yaml', mountPath: '/etc/audit.yaml' },
        { name: 'policy', hostPath: '/etc/audit.yaml', mountPath: '/etc/audit.yaml' },
      ],
      extraEnvs: [{ name: '1BAD', value: 'x' }],
    };
  },
  'feature gate before its kubeadm version, and an unknown one': (d) => {
    d.spec.kubernetesVersion = 'v1.30.2';
    d.spec.featureGates = { ControlPlaneKubeletLocalMode: true, ControlPlaneKubeletLocalMod: false };
  },
  'v1beta4 knobs before v1.31: extraEnvs and RSA-4096': (d) => {
    d.spec.kubernetesVersion = 'v1.30.14';
    d.spec.apiServer = { extraEnvs: [{ name: 'GOMAXPROCS', value: '2' }] };
    d.spec.etcd = { extraEnvs: [{ name: 'ETCD_LOG_LEVEL', value: 'info' }] };
    d.spec.certificates = { encryptionAlgorithm: 'RSA-4096' };
  },
  'bad etcd cert sans and etcd extra args with dashes': (d) => {
    d.spec.etcd = { serverCertSANs: ['etcd.example.com', 'not a name'], peerCertSANs: ['bad name!'], extraArgs: { '--snapshot-count': '5000' } };
  },
  'node labels and taints: bad keys and values, a label the kubelet may not set, a taint twice, labels on a host with no Node': (d) => {
    d.spec.hosts[4]!.labels = { 'disktype': 'ssd', 'node-role.kubernetes.io/worker': '', 'Bad_Prefix.io/x': 'y', 'zone': 'not a value', 'topology.kubernetes.io/zone': 'a' };
    d.spec.hosts[4]!.taints = [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'dedicated', effect: 'NoSchedule' }, { key: 'a/b/c', effect: 'NoExecute' }];
    d.spec.hosts[0]!.labels = { 'edge': 'true' };
  },
  'node labels both on hosts and in the kubelet flags': (d) => {
    d.spec.hosts[4]!.labels = { disktype: 'ssd' };
    d.spec.hosts[4]!.taints = [{ key: 'dedicated', effect: 'NoSchedule' }];
    d.spec.kubelet = { extraArgs: { 'node-labels': 'disktype=hdd', 'register-with-taints': 'x:NoSchedule' } };
  },
  'a taint with an unknown effect': (d) => {
    d.spec.hosts[4]!.taints = [{ key: 'dedicated', effect: 'NoSchedul' }];
  },
  'etcd data directory that reset would empty: a system directory': (d) => {
    d.spec.etcd = { dataDir: '/var/lib' };
  },
  'etcd data directory not a plain absolute path': (d) => {
    d.spec.etcd = { dataDir: '/data/../etcd/' };
  },
  'etcd data directory in a system tree': (d) => {
    d.spec.etcd = { dataDir: '/etc/ssh' };
  },
  'etcd data directory in the kubelet state, and data-dir as an extra arg': (d) => {
    d.spec.etcd = { dataDir: '/var/lib/kubelet/etcd', extraArgs: { 'data-dir': '/data/etcd' } };
  },
  'etcd data directory that is a home directory': (d) => {
    d.spec.etcd = { dataDir: '/home/alice' };
  },
  'etcd data directory with a space': (d) => {
    d.spec.etcd = { dataDir: '/data/etcd data' };
  },
  'extra args with dashes': (d) => {
    d.spec.apiServer = { extraArgs: { '--v': '2', 'audit-log-path': '/var/log/audit.log' } };
  },
  'unknown field with suggestion': (d) => {
    net(d).podSubnett = '10.244.0.0/16';
  },
  'unknown top-level spec field': (d) => {
    d.spec.loadbalancer = {};
  },
  'wrong types': (d) => {
    d.spec.hosts[0]!.roles = 'load-balancer';
    d.spec.certificates = { validityDays: '365' };
    d.spec.ssh = { port: 70000, sudo: 'yes' };
  },
  'bad enum with suggestion': (d) => {
    d.spec.certificates = { encryptionAlgorithm: 'ECDSA-256' };
    d.spec.hosts[4]!.roles = ['wroker'];
  },
  'missing required fields': (d) => {
    delete d.spec.hosts[4]!.address;
    delete d.metadata;
  },
  'kube-proxy off with its configuration and the builtin pod network': (d) => {
    net(d).cni = 'builtin';
    d.spec.kubeProxy = { disabled: true, configuration: { mode: 'ipvs' } };
  },
  'builtin pod network without a pod range': (d) => {
    delete net(d).podSubnet;
    net(d).cni = 'builtin';
  },
  'builtin pod network across node networks': (d) => {
    net(d).cni = 'builtin';
    net(d).nodeSubnets = ['192.168.10.0/24', '192.168.20.0/24'];
    d.spec.hosts[4]!.address = '192.168.20.31';
  },
  'unknown pod network and cgroup driver': (d) => {
    net(d).cni = 'calico';
    d.spec.kubelet = { cgroupDriver: 'cgroups' };
  },
  'component configuration typos': (d) => {
    d.spec.kubelet = { configuration: { maxPod: 200, kind: 'KubeletConfiguration' } };
    d.spec.kubeProxy = { configuration: { conntrak: { maxPerCore: 0 } } };
  },
  'keepalived interface with a line break (script injection)': (d) => {
    (d.spec.loadBalancer as Record<string, unknown>).interface = 'eth0\n    notify_master "/bin/sh -c id"';
  },
  'keepalived interface that is no Linux interface name': (d) => {
    (d.spec.loadBalancer as Record<string, unknown>).interface = 'enp0s31f6-uplink0';
  },
  'keepalived interface with a slash': (d) => {
    (d.spec.loadBalancer as Record<string, unknown>).interface = 'eth0/1';
  },
  'keepalived interface with keepalived comment syntax': (d) => {
    (d.spec.loadBalancer as Record<string, unknown>).interface = 'eth0#x';
  },
  'addresses with spaces and line breaks around them': (d) => {
    d.spec.hosts[1]!.address = ' 192.168.10.11\n';
    net(d).nodeSubnets = ['192.168.10.0/24 '];
    (d.spec.loadBalancer as Record<string, unknown>).vip = '\t192.168.10.100';
  },
  'control characters in values written into root-run configuration': (d) => {
    d.spec.imageRepository = 'registry.k8s.io\nevil';
    d.spec.apiServer = { extraArgs: { 'audit-log-path': '/var/log/a.log\n- --anonymous-auth=true' } };
    d.spec.kubelet = { criSocket: 'unix:///run/containerd/containerd.sock\r', extraArgs: { v: '2\u2028' } };
    d.spec.ssh = { identityFile: '~/.ssh/id\u0007' };
  },
  'wrong apiVersion and kind': (d) => {
    d.apiVersion = 'kbuild.io/v1';
    d.kind = 'Clusters';
  },
};

export const toYaml = (d: Doc): string => yaml.dump(d, { lineWidth: -1, flowLevel: 4 });
