/**
 * The cluster file's schema: one source for the TypeScript types, type checking, unknown-field
 * detection and defaults. Semantic rules (CIDR overlap, topology) live in ./validate.
 * Every field is documented in README.md ("Cluster file reference"); a test keeps the two in step.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DEFAULTS } from './defaults.js';
import { SUPPORTED_RANGE } from '../kubeadm/versions.js';
import { CLUSTER_NAME, PATHS, TAINT_EFFECTS } from '../kubeadm/constants.js';
import { OPTIONAL_CA_DIRS } from '../kubeadm/host-environment.js';

const str = (description: string, options: Record<string, unknown> = {}) => Type.String({ description, ...options });
const oneOf = <T extends string>(values: readonly T[], description: string, defaultValue?: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    defaultValue === undefined ? { description } : { description, default: defaultValue },
  );
const port = (description: string, defaultValue?: number) =>
  Type.Integer({ minimum: 1, maximum: 65535, description, ...(defaultValue === undefined ? {} : { default: defaultValue }) });
const seconds = (description: string, defaultValue?: number) =>
  Type.Integer({ minimum: 1, maximum: 3600, description, ...(defaultValue === undefined ? {} : { default: defaultValue }) });
const strict = <T extends Record<string, TSchema>>(properties: T, description: string) =>
  Type.Object(properties, { additionalProperties: false, description });
const stringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description, default: {} });
const componentConfiguration = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description, default: {} });

/** Kubernetes' HostPathType values; kubeadm's HostPathMount.pathType, empty (no check) when unset. */
export const HOST_PATH_TYPES = ['DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const;
const extraVolumes = (component: string) =>
  Type.Optional(
    Type.Array(
      strict(
        {
          name: str('Volume name (a DNS label); one of kbuild\'s own names replaces that volume.'),
          hostPath: str('Absolute path on the host.'),
          mountPath: str('Absolute path in the container.'),
          readOnly: Type.Optional(Type.Boolean({ description: 'Mount read-only.', default: false })),
          pathType: Type.Optional(oneOf(HOST_PATH_TYPES, 'What must be at hostPath (Kubernetes HostPathType); unset: no check.')),
        },
        'A host path mounted into the component (kubeadm HostPathMount).',
      ),
      { description: `Host paths mounted into ${component} (kubeadm's extraVolumes).`, default: [] },
    ),
  );
const extraEnvs = (component: string) =>
  Type.Optional(Type.Array(strict({ name: str('Variable name.'), value: str('Its value.') }, 'An environment variable.'), { description: `Environment variables of ${component} (kubeadm's extraEnvs).`, default: [] }));

export const ROLES = ['control-plane', 'etcd', 'worker', 'load-balancer'] as const;
export type Role = (typeof ROLES)[number];

export const CGROUP_DRIVERS = ['systemd', 'cgroupfs'] as const;
export type CgroupDriver = (typeof CGROUP_DRIVERS)[number];

export const ENCRYPTION_ALGORITHMS = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];


const sshBastion = strict(
  {
    address: str('Address or name of the jump host.'),
    port: Type.Optional(port('SSH port of the jump host.', 22)),
    user: Type.Optional(str('User on the jump host; defaults to the host user.')),
    identityFile: Type.Optional(str('Private key for the jump host; defaults to the host key.')),
  },
  'A jump host every connection goes through (like OpenSSH ProxyJump).',
);

const sshFields = {
  user: Type.Optional(str('Login user. A non-root user needs passwordless sudo and `sudo: true`.')),
  port: Type.Optional(port('SSH port.')),
  identityFile: Type.Optional(str('Private key file; `~` expands. Without one, ssh-agent ($SSH_AUTH_SOCK) is used.')),
  knownHostsFile: Type.Optional(str('known_hosts file used to verify host keys.')),
  sudo: Type.Optional(Type.Boolean({ description: 'Run privileged commands through `sudo -n`.' })),
  bastion: Type.Optional(sshBastion),
  connectTimeout: Type.Optional(seconds('Seconds per connection attempt (TCP connect, handshake, authentication), like OpenSSH ConnectTimeout.')),
  serverAliveInterval: Type.Optional(seconds('Seconds between keepalives on an idle connection; three unanswered ones drop it (OpenSSH ServerAliveInterval, ServerAliveCountMax 3).')),
};

const clusterSsh = strict(
  {
    ...sshFields,
    user: Type.Optional(str('Login user.', { default: DEFAULTS.sshUser })),
    port: Type.Optional(port('SSH port.', DEFAULTS.sshPort)),
    knownHostsFile: Type.Optional(str('known_hosts file used to verify host keys.', { default: DEFAULTS.knownHostsFile })),
    sudo: Type.Optional(Type.Boolean({ description: 'Run privileged commands through `sudo -n`.', default: DEFAULTS.sudo })),
    connectTimeout: Type.Optional(seconds('Seconds per connection attempt (TCP connect, handshake, authentication), like OpenSSH ConnectTimeout.', DEFAULTS.sshConnectTimeoutSeconds)),
    serverAliveInterval: Type.Optional(seconds('Seconds between keepalives on an idle connection; three unanswered ones drop it (OpenSSH ServerAliveInterval, ServerAliveCountMax 3).', DEFAULTS.sshServerAliveIntervalSeconds)),
  },
  'SSH defaults for every host.',
);

const hostSsh = strict(
  {
    ...sshFields,
    address: Type.Optional(str('Address to connect to when it differs from the cluster address (NAT, public IP).')),
  },
  'Per-host SSH overrides.',
);

export const HostSchema = strict(
  {
    name: str('Node name: a DNS label, unique in the cluster.'),
    address: str('The IP address the host uses inside the cluster (advertise address).'),
    roles: Type.Array(oneOf(ROLES, 'A role.'), { minItems: 1, description: 'What the host runs.' }),
    labels: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "Labels of the host's Node: the kubelet registers with them (--node-labels) and apply sets them on a Node that exists. Under kubernetes.io and k8s.io only the labels a kubelet may set itself.",
      }),
    ),
    taints: Type.Optional(
      Type.Array(
        strict(
          {
            key: str('Taint key.'),
            value: Type.Optional(str('Taint value.')),
            effect: oneOf(TAINT_EFFECTS, 'What the taint does to pods that do not tolerate it.'),
          },
          'A taint (kubeadm nodeRegistration.taints).',
        ),
        { description: "Taints of the host's Node, replacing kubeadm's default (node-role.kubernetes.io/control-plane:NoSchedule on a control plane that is not also a worker; none elsewhere); [] for none. A worker registers with them (--register-with-taints), a control plane gets them from mark-control-plane; apply adds missing ones to a Node that exists." },
      ),
    ),
    ssh: Type.Optional(hostSsh),
  },
  'A machine of the cluster.',
);

export const ClusterSpecSchema = strict(
  {
    kubernetesVersion: Type.Optional(str(`Kubernetes release, ${SUPPORTED_RANGE}.`, { default: DEFAULTS.kubernetesVersion })),
    imageRepository: Type.Optional(str('Registry the control-plane images come from.', { default: DEFAULTS.imageRepository })),
    clusterName: Type.Optional(str("The cluster's name in every kubeconfig and kube-controller-manager's --cluster-name (kubeadm's clusterName).", { default: CLUSTER_NAME })),
    controlPlaneEndpoint: Type.Optional(str('host[:port] every client uses to reach the API; required with more than one control plane.')),
    featureGates: Type.Optional(
      strict(
        {
          ControlPlaneKubeletLocalMode: Type.Optional(
            Type.Boolean({ description: "kubeadm's gate (v1.31+; on by default from v1.33): a control plane's kubelet.conf names its own apiserver instead of the endpoint." }),
          ),
        },
        "kubeadm's feature gates that kbuild implements (ClusterConfiguration.featureGates).",
      ),
    ),
    patches: Type.Optional(
      strict(
        {
          directory: str(
            "kubeadm's patches directory, relative to this file: files target[suffix][+strategic|merge|json].yaml (targets etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubeletconfiguration, corednsdeployment) applied in path order over what kbuild renders for every host.",
          ),
        },
        "Patches over the rendered manifests, the kubelet's configuration and the CoreDNS Deployment (kubeadm's patches).",
      ),
    ),
    networking: Type.Optional(
      strict(
        {
          podSubnet: Type.Optional(str('Pod network, or "v4cidr,v6cidr" for dual-stack.')),
          serviceSubnet: Type.Optional(str('Service network, or "v4cidr,v6cidr".', { default: DEFAULTS.serviceSubnet })),
          dnsDomain: Type.Optional(str('Cluster DNS domain.', { default: DEFAULTS.dnsDomain })),
          nodeSubnets: Type.Optional(Type.Array(Type.String(), { description: 'Networks the hosts live on.', default: [] })),
          reservedSubnets: Type.Optional(Type.Array(Type.String(), { description: 'Networks the cluster must never overlap.', default: [] })),
          cni: Type.Optional(
            Type.Union([oneOf(['none', 'builtin'] as const, 'none: no pod network (as kubeadm); builtin: kbuild\'s bridge network for nodes on one L2 segment.'), strict({ manifest: str('A CNI manifest (YAML) applied after the API is up.') }, 'Your own pod network.')], {
              description: 'The pod network.',
              default: DEFAULTS.cni,
            }),
          ),
        },
        'Cluster networks.',
      ),
    ),
    etcd: Type.Optional(
      strict(
        {
          topology: Type.Optional(oneOf(['stacked', 'external'] as const, 'Where etcd runs.', DEFAULTS.etcdTopology)),
          dataDir: Type.Optional(str("Every member's data directory on its host (kubeadm's etcd.local.dataDir).", { default: PATHS.etcdData })),
          extraArgs: Type.Optional(stringMap("etcd flags that replace or add to the defaults (kubeadm's etcd.local.extraArgs).")),
          serverCertSANs: Type.Optional(Type.Array(Type.String(), { description: "Extra SANs of every member's etcd/server certificate (kubeadm's etcd.local.serverCertSANs).", default: [] })),
          peerCertSANs: Type.Optional(Type.Array(Type.String(), { description: "Extra SANs of every member's etcd/peer certificate (kubeadm's etcd.local.peerCertSANs).", default: [] })),
          extraEnvs: extraEnvs('etcd'),
        },
        'etcd placement and settings (for stacked members and kbuild-managed etcd hosts alike).',
      ),
    ),
    certificates: Type.Optional(
      strict(
        {
          encryptionAlgorithm: Type.Optional(oneOf(ENCRYPTION_ALGORITHMS, 'Key algorithm for every key.', DEFAULTS.encryptionAlgorithm)),
          validityDays: Type.Optional(Type.Integer({ minimum: 1, description: 'Leaf certificate lifetime.', default: DEFAULTS.validityDays })),
          caValidityDays: Type.Optional(Type.Integer({ minimum: 1, description: 'CA certificate lifetime.', default: DEFAULTS.caValidityDays })),
        },
        'PKI settings.',
      ),
    ),
    apiServer: Type.Optional(
      strict(
        {
          certSANs: Type.Optional(Type.Array(Type.String(), { description: 'Extra apiserver SANs.', default: [] })),
          extraArgs: Type.Optional(stringMap('Flags that replace or add to the defaults.')),
          extraVolumes: extraVolumes('kube-apiserver'),
          extraEnvs: extraEnvs('kube-apiserver'),
          bindPort: Type.Optional(port('Port kube-apiserver listens on.', DEFAULTS.bindPort)),
        },
        'kube-apiserver settings.',
      ),
    ),
    controllerManager: Type.Optional(
      strict({ extraArgs: Type.Optional(stringMap('Extra flags.')), extraVolumes: extraVolumes('kube-controller-manager'), extraEnvs: extraEnvs('kube-controller-manager') }, 'kube-controller-manager settings.'),
    ),
    scheduler: Type.Optional(strict({ extraArgs: Type.Optional(stringMap('Extra flags.')), extraVolumes: extraVolumes('kube-scheduler'), extraEnvs: extraEnvs('kube-scheduler') }, 'kube-scheduler settings.')),
    kubelet: Type.Optional(
      strict(
        {
          criSocket: Type.Optional(str('Container runtime socket.', { default: DEFAULTS.criSocket })),
          cgroupDriver: Type.Optional(oneOf(CGROUP_DRIVERS, "The kubelet's cgroup driver; must match the container runtime's.", DEFAULTS.cgroupDriver)),
          extraArgs: Type.Optional(stringMap('Extra kubelet flags (kubeadm-flags.env).')),
          configuration: Type.Optional(componentConfiguration('KubeletConfiguration fields merged over kbuild\'s (kubelet.config.k8s.io/v1beta1).')),
        },
        'kubelet settings.',
      ),
    ),
    kubeProxy: Type.Optional(
      strict(
        {
          disabled: Type.Optional(Type.Boolean({ description: "Install no kube-proxy (kubeadm's proxy.disabled): for a pod network that routes Services itself.", default: false })),
          configuration: Type.Optional(componentConfiguration('KubeProxyConfiguration fields merged over kbuild\'s (kubeproxy.config.k8s.io/v1alpha1).')),
        },
        'kube-proxy settings.',
      ),
    ),
    dns: Type.Optional(
      strict({ disabled: Type.Optional(Type.Boolean({ description: "Install no CoreDNS (kubeadm's dns.disabled): you run the cluster DNS at the tenth service address.", default: false })) }, 'The cluster DNS addon.'),
    ),
    loadBalancer: Type.Optional(
      strict(
        {
          type: Type.Optional(oneOf(['haproxy', 'none'] as const, 'API load balancer; defaults to haproxy when a host has the load-balancer role.')),
          vip: Type.Optional(str('Virtual IP held by keepalived.')),
          port: Type.Optional(port('Frontend port.', DEFAULTS.loadBalancerPort)),
          interface: Type.Optional(str('Network interface keepalived puts the VIP on.', { default: DEFAULTS.loadBalancerInterface })),
        },
        'API server load balancing.',
      ),
    ),
    hostFacts: Type.Optional(
      strict(
        {
          systemdResolved: Type.Optional(
            Type.Boolean({ description: 'systemd-resolved is active: the kubelet gets resolvConf /run/systemd/resolve/resolv.conf, as kubeadm writes on such a host.', default: DEFAULTS.systemdResolved }),
          ),
          caDirectories: Type.Optional(
            Type.Array(oneOf(OPTIONAL_CA_DIRS, "One of kubeadm's optional CA directories."), {
              description: 'The CA directories the hosts have: mounted read-only into kube-apiserver and kube-controller-manager, as kubeadm mounts those that exist.',
              default: [],
            }),
          ),
        },
        'What a render that asks no host (kbuild render) assumes of every host; apply, init and join ask each host and use its own facts instead.',
      ),
    ),
    ssh: Type.Optional(clusterSsh),
    hosts: Type.Array(HostSchema, { description: 'The machines.' }),
  },
  'Cluster settings.',
);

export const ClusterFileSchema = strict(
  {
    apiVersion: Type.Literal('kbuild.io/v1alpha1', { description: 'Schema version.' }),
    kind: Type.Literal('Cluster', { description: 'Always Cluster.' }),
    metadata: strict({ name: str('Cluster name; names the state directory.') }, 'Metadata.'),
    spec: ClusterSpecSchema,
  },
  'A kbuild cluster file.',
);

/** The file as written, after defaults were applied. */
export type ClusterFile = Static<typeof ClusterFileSchema>;
export type HostSpec = Static<typeof HostSchema>;
