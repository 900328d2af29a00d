/** The kubelet's files on every node (kubeadm phases/kubelet/flags.go, componentconfigs/kubelet.go). */
import { mergeConfiguration } from '../config/component-config.js';
import { dnsServiceIp, endpointUrl, hasRole, isStandaloneKubelet, nodeTaints, registersNode, taintText, type Cluster, type Host } from '../config/model.js';
import { renderKubeconfig } from '../kubeconfig/kubeconfig.js';
import type { Templates } from '../templates/index.js';
import { argsFromRecord, argumentsToCommand, type Arg } from './flags.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { componentVersions } from '../kubeadm/versions.js';
import { SYSTEMD_RESOLVED_RESOLV_CONF, type HostEnvironment } from '../kubeadm/host-environment.js';
import { environmentOf, type RenderContext } from './context.js';
import type { FileOwner, RenderedFile } from '../kubeadm/files.js';
import { withPatches } from './patches.js';
import { generatedBy, yamlFile } from './yaml.js';

/** The configuration every kubelet of the kind shares: kbuild's over the cluster file's (kube-system/kubelet-config publishes it). */
export function kubeletConfiguration(cluster: Cluster, host: Host): Record<string, unknown> {
  return mergeConfiguration(kbuildKubeletConfiguration(cluster, host), cluster.kubelet.configuration);
}

/**
 * The host's config.yaml: the shared configuration with what kubeadm decides from the host itself,
 * then the kubeletconfiguration patches (kubeadm patches the node's file, not the published one).
 */
export const hostKubeletConfiguration = (cluster: Cluster, host: Host, env: HostEnvironment): Record<string, unknown> =>
  withPatches(cluster.patches, 'kubeletconfiguration', withHostResolvConf(kubeletConfiguration(cluster, host), env));

/**
 * kubeadm's mutateResolverConfig (componentconfigs/kubelet_unix.go; v1.30 in Default): where
 * systemd-resolved is active the kubelet gets its upstream list, since /etc/resolv.conf there names the
 * 127.0.0.53 stub, which a pod cannot reach (CoreDNS would forward to itself and loop). A resolvConf
 * already set (the user's, or one a published configuration carries) always stays.
 */
export function withHostResolvConf(configuration: Record<string, unknown>, env: HostEnvironment): Record<string, unknown> {
  // As Go's nil: absent, or null in YAML.
  const unset = configuration['resolvConf'] === undefined || configuration['resolvConf'] === null;
  return unset && env.systemdResolved ? { ...configuration, resolvConf: SYSTEMD_RESOLVED_RESOLV_CONF } : configuration;
}

function kbuildKubeletConfiguration(cluster: Cluster, host: Host): Record<string, unknown> {
  const standalone = isStandaloneKubelet(host);
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // A standalone kubelet authorizes everything (it has no API server to ask), so its API listens on
    // loopback only, as kubeadm's HA etcd guide has it: a certificate from the cluster CA (any worker's)
    // must not be able to exec into etcd.
    ...(standalone ? { address: '127.0.0.1' } : {}),
    authentication: {
      anonymous: { enabled: false },
      // A standalone kubelet has no API server to ask (kubeadm's external-etcd guide).
      webhook: { enabled: !standalone },
      x509: { clientCAFile: `${PATHS.pki}/ca.crt` },
    },
    authorization: { mode: standalone ? 'AlwaysAllow' : 'Webhook' },
    cgroupDriver: cluster.kubelet.cgroupDriver,
    ...(standalone ? {} : { clusterDNS: [dnsServiceIp(cluster)], clusterDomain: cluster.networking.dnsDomain }),
    healthzBindAddress: '127.0.0.1',
    healthzPort: PORTS.kubeletHealthz,
    readOnlyPort: 0,
    rotateCertificates: !standalone,
    staticPodPath: PATHS.manifests,
  };
}

/**
 * KUBELET_KUBEADM_ARGS. kubeadm adds --hostname-override only when the node name differs from the
 * hostname; an offline render cannot know the hostname, so it is always set to the cluster-file name
 * (the name the kubelet's certificate and kubeconfig carry). The host's labels are what a kubeadm user
 * writes as kubeletExtraArgs node-labels; a worker registers with its taints (kubeadm join's
 * --register-with-taints), a control plane gets them from mark-control-plane instead, as kubeadm.
 */
export function kubeletFlags(cluster: Cluster, host: Host): string[] {
  const labels = Object.entries(host.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const taints = registersNode(host) && !hasRole(host, 'control-plane') ? nodeTaints(host) : [];
  const defaults: Arg[] = [
    { name: 'container-runtime-endpoint', value: cluster.kubelet.criSocket },
    { name: 'hostname-override', value: host.name },
    ...(labels.length > 0 && registersNode(host) ? [{ name: 'node-labels', value: labels.map(([k, v]) => `${k}=${v}`).join(',') }] : []),
    { name: 'pod-infra-container-image', value: `${cluster.imageRepository}/pause:${componentVersions(cluster.kubernetesVersion).pause}` },
    ...(taints.length > 0 ? [{ name: 'register-with-taints', value: taints.map(taintText).join(',') }] : []),
  ];
  return argumentsToCommand(defaults, argsFromRecord(cluster.kubelet.extraArgs));
}

const KUBELET: FileOwner = { component: 'kubelet', phase: 'kubelet-start' };
/** The cluster CA, which the kubelet verifies clients with; the same file the PKI gives the nodes it issues for. */
const CLUSTER_CA: FileOwner = { component: 'kubelet', phase: 'certs/ca' };

/** The kubelet's drop-in: where its files are, and for a node its kubeconfigs (TLS bootstrap) and the builtin pod network's routes before it starts. */
export function kubeletDropIn(templates: Templates, cluster: Cluster, node: boolean): string {
  return templates.render('kubelet-dropin.conf.hbs', {
    kubeconfigArgs: node ? `--bootstrap-kubeconfig=${PATHS.bootstrapKubeconfig} --kubeconfig=${PATHS.kubeletKubeconfig}` : '',
    podNetworkScript: node && cluster.networking.cni.type === 'builtin' ? PATHS.podNetworkScript : '',
    configPath: PATHS.kubeletConfig,
    flagsPath: PATHS.kubeletFlags,
  });
}

/** kubeadm-flags.env: the arguments on one line, quoted as Go's %q (JSON string quoting for this text). */
export const kubeletFlagsEnv = (templates: Templates, cluster: Cluster, host: Host): string =>
  templates.render('kubeadm-flags.env.hbs', { quotedArgs: JSON.stringify(kubeletFlags(cluster, host).join(' ')) });

/**
 * The kubelet's files for each host of one render. Most are the same on every host of a kind
 * (5,000 workers share three): each is rendered once per renderer, i.e. per run.
 */
export function kubeletRenderer(ctx: RenderContext): (host: Host) => RenderedFile[] {
  const { cluster, templates } = ctx;
  const shared = new Map<string, string>();
  const once = (key: string, render: () => string): string => {
    let content = shared.get(key);
    if (content === undefined) shared.set(key, (content = render()));
    return content;
  };
  return (host) => {
    const standalone = isStandaloneKubelet(host);
    const env = environmentOf(ctx, host);
    const files: RenderedFile[] = [
      { path: PATHS.kubeletConfig, mode: 0o644, content: once(`config:${standalone}:${env.systemdResolved}`, () => yamlFile('render/kubelet.ts', [hostKubeletConfiguration(cluster, host, env)])), ...KUBELET },
      { path: PATHS.kubeletFlags, mode: 0o644, content: kubeletFlagsEnv(templates, cluster, host), ...KUBELET },
      { path: PATHS.kubeletDropIn, mode: 0o644, content: once(`drop-in:${standalone}`, () => kubeletDropIn(templates, cluster, !standalone)), ...KUBELET },
      clusterCaFile(ctx.pki.caCertPem),
    ];
    if (tlsBootstraps(host)) {
      files.push({
        path: PATHS.bootstrapKubeconfig,
        mode: 0o600,
        secret: true,
        content: once('bootstrap-kubeconfig', () => generatedBy('render/kubelet.ts') + bootstrapKubeconfig(endpointUrl(cluster), ctx.pki.caCertPem, ctx.secrets.bootstrapToken)),
        ...KUBELET,
      });
    }
    return files;
  };
}

/** Control planes get kubelet.conf from the PKI; workers join through TLS bootstrap (bootstrap-kubelet.conf). */
export const tlsBootstraps = (host: Host): boolean => hasRole(host, 'worker') && !hasRole(host, 'control-plane');

/** /etc/kubernetes/pki/ca.crt as the kubelet (and a joining node) gets it. */
export const clusterCaFile = (caCertPem: string): RenderedFile => ({ path: `${PATHS.pki}/ca.crt`, mode: 0o644, content: caCertPem, ...CLUSTER_CA });

/** bootstrap-kubelet.conf's kubeconfig: the API server, the cluster CA and the bootstrap token (kubeadm's tls-bootstrap-token-user). */
export const bootstrapKubeconfig = (server: string, caCertPem: string, token: string): string => renderKubeconfig({ server, caCertPem, user: TLS_BOOTSTRAP_USER, token });

export const TLS_BOOTSTRAP_USER = 'tls-bootstrap-token-user';
