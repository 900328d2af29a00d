/** kubeadm's defaults, as kbuild applies them. The schema documents them; the model applies them. */
export const DEFAULTS = {
  kubernetesVersion: 'v1.32.4',
  imageRepository: 'registry.k8s.io',
  serviceSubnet: '10.96.0.0/12',
  dnsDomain: 'cluster.local',
  etcdTopology: 'stacked',
  encryptionAlgorithm: 'RSA-2048',
  validityDays: 365,
  caValidityDays: 3650,
  bindPort: 6443,
  criSocket: 'unix:///var/run/containerd/containerd.sock',
  loadBalancerPort: 6443,
  loadBalancerInterface: 'eth0',
  sshUser: 'root',
  sshPort: 22,
  knownHostsFile: '~/.ssh/known_hosts',
  sudo: false,
} as const;
