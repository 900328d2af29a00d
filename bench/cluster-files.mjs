// Generated cluster files for the benchmarks: 3 control planes (stacked etcd), 2 HAProxy hosts
// sharing a VIP, and any number of workers, in one /16 node subnet.
import yaml from 'js-yaml';

const NODE_SUBNET = '10.0.0.0/16';
// 2^(24-9) = 32,768 per-node /24 ranges: room for every node of the largest size (validation rule).
const POD_SUBNET = '10.128.0.0/9';

/** The address of worker i (0-based): 10.0.1.1 upwards, 250 a /24, clear of the control plane's 10.0.0.x. */
function workerAddress(i) {
  return `10.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** A cluster file (YAML text) with `workers` workers; ECDSA-P256 so key generation stays small. */
export function largeClusterYaml(workers) {
  const width = String(workers).length;
  const hosts = [
    { name: 'lb1', address: '10.0.0.5', roles: ['load-balancer'] },
    { name: 'lb2', address: '10.0.0.6', roles: ['load-balancer'] },
    { name: 'cp1', address: '10.0.0.11', roles: ['control-plane'] },
    { name: 'cp2', address: '10.0.0.12', roles: ['control-plane'] },
    { name: 'cp3', address: '10.0.0.13', roles: ['control-plane'] },
  ];
  for (let i = 0; i < workers; i++) hosts.push({ name: `worker${String(i + 1).padStart(width, '0')}`, address: workerAddress(i), roles: ['worker'] });
  return yaml.dump({
    apiVersion: 'kbuild.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name: `bench${workers}` },
    spec: {
      kubernetesVersion: 'v1.32.4',
      controlPlaneEndpoint: '10.0.0.100:6443',
      networking: { podSubnet: POD_SUBNET, serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local', nodeSubnets: [NODE_SUBNET] },
      etcd: { topology: 'stacked' },
      certificates: { encryptionAlgorithm: 'ECDSA-P256' },
      loadBalancer: { type: 'haproxy', vip: '10.0.0.100', port: 6443 },
      ssh: { user: 'root', port: 22 },
      hosts,
    },
  });
}
