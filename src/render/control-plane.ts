/** kube-apiserver, kube-controller-manager and kube-scheduler static pods, as kubeadm 1.31+ writes them. */
import type { V1Pod } from '@kubernetes/client-node';
import { hostPort, type Cluster, type Host } from '../config/model.js';
import { argsFromRecord, argumentsToCommand, type Arg } from './flags.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { kubernetesMinor } from '../kubeadm/versions.js';
import type { HostEnvironment } from '../kubeadm/host-environment.js';
import { etcdClientUrl, httpsUrl, loopbackFor } from './etcd.js';
import { envOf, livenessProbe, readinessProbe, startupProbe, staticPod, withExtraVolumes, type HostPathVolume } from './static-pod.js';

const pki = (file: string) => `${PATHS.pki}/${file}`;
const arg = (name: string, value: string): Arg => ({ name, value });
const image = (cluster: Cluster, component: string) => `${cluster.imageRepository}/${component}:${cluster.kubernetesVersion}`;

const caCerts: HostPathVolume = { name: 'ca-certs', path: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true };
const k8sCerts: HostPathVolume = { name: 'k8s-certs', path: PATHS.pki, type: 'DirectoryOrCreate', readOnly: true };

/**
 * The CA directories /etc/ssl/certs may link into (kubeadm's caCertsExtraVolumePaths) that the host
 * has: each read-only under its own path, named as kubeadm names it (/etc/pki/ca-trust →
 * etc-pki-ca-trust). For a host nobody asked, those spec.hostFacts names (by default none).
 */
export const caDirVolumes = (env: HostEnvironment): HostPathVolume[] =>
  env.caDirs.map((path) => ({ name: path.slice(1).replaceAll('/', '-'), path, type: 'DirectoryOrCreate', readOnly: true }));

/**
 * The etcd members kube-apiserver talks to: every external member, or (stacked) its local member
 * first and then the others. kubeadm gives a stacked apiserver only its local member, so while that
 * member restarts (a certificate renewal, an upgrade) the apiserver stalls and requests through the
 * load balancer hang until its health check notices; with the others listed it keeps serving.
 */
export function etcdServers(cluster: Cluster, host: Host): string {
  if (cluster.etcd.topology === 'external') return cluster.etcdMembers.map(etcdClientUrl).join(',');
  const others = cluster.etcdMembers.filter((m) => m.name !== host.name);
  return [httpsUrl(loopbackFor(host.address), PORTS.etcdClient), ...others.map(etcdClientUrl)].join(',');
}

/**
 * Behind a load balancer, a stopping apiserver first fails /readyz and keeps serving for this long,
 * so HAProxy (checking every 2 s, down after 3 failures) stops sending it requests before it closes
 * its listener; kubeadm sets no delay and requests in flight through the VIP fail on every restart.
 */
const SHUTDOWN_DELAY_BEHIND_LOAD_BALANCER = '10s';

const AUTHORIZATION_MODES = new Set(['Node', 'RBAC', 'Webhook', 'ABAC', 'AlwaysAllow', 'AlwaysDeny']);

/** kubeadm keeps only known authorization modes and drops the flag when authorization-config is given. */
function apiServerExtraArgs(extra: Readonly<Record<string, string>>): { args: Arg[]; dropAuthorizationMode: boolean } {
  const args = argsFromRecord(extra).map((a) =>
    a.name === 'authorization-mode' ? arg(a.name, a.value.split(',').filter((m) => AUTHORIZATION_MODES.has(m)).join(',')) : a,
  );
  return { args, dropAuthorizationMode: 'authorization-config' in extra };
}

export function apiServerPod(cluster: Cluster, host: Host, env: HostEnvironment): V1Pod {
  const bindPort = cluster.apiServer.bindPort;
  const defaults: Arg[] = [
    arg('advertise-address', host.address),
    arg('allow-privileged', 'true'),
    arg('authorization-mode', 'Node,RBAC'),
    arg('client-ca-file', pki('ca.crt')),
    arg('enable-admission-plugins', 'NodeRestriction'),
    arg('enable-bootstrap-token-auth', 'true'),
    arg('etcd-cafile', pki('etcd/ca.crt')),
    arg('etcd-certfile', pki('apiserver-etcd-client.crt')),
    arg('etcd-keyfile', pki('apiserver-etcd-client.key')),
    arg('etcd-servers', etcdServers(cluster, host)),
    arg('kubelet-client-certificate', pki('apiserver-kubelet-client.crt')),
    arg('kubelet-client-key', pki('apiserver-kubelet-client.key')),
    arg('kubelet-preferred-address-types', 'InternalIP,ExternalIP,Hostname'),
    arg('proxy-client-cert-file', pki('front-proxy-client.crt')),
    arg('proxy-client-key-file', pki('front-proxy-client.key')),
    arg('requestheader-allowed-names', 'front-proxy-client'),
    arg('requestheader-client-ca-file', pki('front-proxy-ca.crt')),
    arg('requestheader-extra-headers-prefix', 'X-Remote-Extra-'),
    arg('requestheader-group-headers', 'X-Remote-Group'),
    arg('requestheader-username-headers', 'X-Remote-User'),
    arg('secure-port', String(bindPort)),
    arg('service-account-issuer', `https://kubernetes.default.svc.${cluster.networking.dnsDomain}`),
    arg('service-account-key-file', pki('sa.pub')),
    arg('service-account-signing-key-file', pki('sa.key')),
    arg('service-cluster-ip-range', cluster.networking.serviceSubnet),
    ...(cluster.loadBalancer.placement === 'none' ? [] : [arg('shutdown-delay-duration', SHUTDOWN_DELAY_BEHIND_LOAD_BALANCER)]),
    arg('tls-cert-file', pki('apiserver.crt')),
    arg('tls-private-key-file', pki('apiserver.key')),
  ];
  const extra = apiServerExtraArgs(cluster.apiServer.extraArgs);
  const kept = extra.dropAuthorizationMode ? defaults.filter((a) => a.name !== 'authorization-mode') : defaults;
  // kubeadm probes the advertise address, or all interfaces ("") when it is a wildcard.
  const probeHost = host.address === '0.0.0.0' || host.address === '::' ? '' : host.address;
  const probeGet = (path: string) => ({ host: probeHost, path, port: bindPort, scheme: 'HTTPS' });
  return staticPod({
    name: 'kube-apiserver',
    annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': hostPort(host.address, bindPort) },
    container: {
      command: ['kube-apiserver', ...argumentsToCommand(kept, extra.args)],
      image: image(cluster, 'kube-apiserver'),
      imagePullPolicy: 'IfNotPresent',
      livenessProbe: livenessProbe(probeGet('/livez')),
      name: 'kube-apiserver',
      readinessProbe: readinessProbe(probeGet('/readyz')),
      resources: { requests: { cpu: '250m' } },
      startupProbe: startupProbe(probeGet('/livez')),
      ...envOf(cluster.apiServer.extraEnvs),
    },
    volumes: withExtraVolumes([caCerts, k8sCerts, ...caDirVolumes(env)], cluster.apiServer.extraVolumes),
  });
}

export function controllerManagerPod(cluster: Cluster, env: HostEnvironment): V1Pod {
  const kubeconfig = `${PATHS.kubernetesDir}/controller-manager.conf`;
  const podSubnet = cluster.networking.podSubnet;
  const defaults: Arg[] = [
    // The builtin pod network hands out node ranges itself (render/pod-network.ts); node IPAM would hand out others.
    ...(podSubnet !== undefined ? [arg('allocate-node-cidrs', String(cluster.networking.cni.type !== 'builtin')), arg('cluster-cidr', podSubnet), arg('service-cluster-ip-range', cluster.networking.serviceSubnet)] : []),
    arg('authentication-kubeconfig', kubeconfig),
    arg('authorization-kubeconfig', kubeconfig),
    arg('bind-address', '127.0.0.1'),
    arg('client-ca-file', pki('ca.crt')),
    arg('cluster-name', cluster.clusterName),
    arg('cluster-signing-cert-file', pki('ca.crt')),
    arg('cluster-signing-key-file', pki('ca.key')),
    arg('controllers', '*,bootstrapsigner,tokencleaner'),
    arg('kubeconfig', kubeconfig),
    arg('leader-elect', 'true'),
    arg('requestheader-client-ca-file', pki('front-proxy-ca.crt')),
    arg('root-ca-file', pki('ca.crt')),
    arg('service-account-private-key-file', pki('sa.key')),
    arg('use-service-account-credentials', 'true'),
  ];
  const extra = argsFromRecord(cluster.controllerManager.extraArgs);
  const probeGet = (path: string) => ({ host: cluster.controllerManager.extraArgs['bind-address'] ?? '127.0.0.1', path, port: PORTS.controllerManager, scheme: 'HTTPS' });
  const flexVolumeDir = cluster.controllerManager.extraArgs['flex-volume-plugin-dir'] ?? '/usr/libexec/kubernetes/kubelet-plugins/volume/exec';
  return staticPod({
    name: 'kube-controller-manager',
    container: {
      command: ['kube-controller-manager', ...argumentsToCommand(defaults, extra)],
      image: image(cluster, 'kube-controller-manager'),
      imagePullPolicy: 'IfNotPresent',
      livenessProbe: livenessProbe(probeGet('/healthz')),
      name: 'kube-controller-manager',
      resources: { requests: { cpu: '200m' } },
      startupProbe: startupProbe(probeGet('/healthz')),
      ...envOf(cluster.controllerManager.extraEnvs),
    },
    volumes: withExtraVolumes(
      [
        caCerts,
        { name: 'flexvolume-dir', path: flexVolumeDir, type: 'DirectoryOrCreate', readOnly: false },
        k8sCerts,
        { name: 'kubeconfig', path: kubeconfig, type: 'FileOrCreate', readOnly: true },
        ...caDirVolumes(env),
      ],
      cluster.controllerManager.extraVolumes,
    ),
  });
}

export function schedulerPod(cluster: Cluster): V1Pod {
  const kubeconfig = `${PATHS.kubernetesDir}/scheduler.conf`;
  const defaults: Arg[] = [
    arg('authentication-kubeconfig', kubeconfig),
    arg('authorization-kubeconfig', kubeconfig),
    arg('bind-address', '127.0.0.1'),
    arg('kubeconfig', kubeconfig),
    arg('leader-elect', 'true'),
  ];
  const extra = argsFromRecord(cluster.scheduler.extraArgs);
  const probeGet = (path: string) => ({ host: cluster.scheduler.extraArgs['bind-address'] ?? '127.0.0.1', path, port: PORTS.scheduler, scheme: 'HTTPS' });
  // From v1.32 kubeadm probes the scheduler's /livez and /readyz (kubernetes PR 126945; the real kubeadm
  // v1.32.4 writes exactly these), before that /healthz with no readiness probe.
  const livez = kubernetesMinor(cluster.kubernetesVersion) >= 32;
  return staticPod({
    name: 'kube-scheduler',
    container: {
      command: ['kube-scheduler', ...argumentsToCommand(defaults, extra)],
      image: image(cluster, 'kube-scheduler'),
      imagePullPolicy: 'IfNotPresent',
      livenessProbe: livenessProbe(probeGet(livez ? '/livez' : '/healthz')),
      name: 'kube-scheduler',
      ...(livez ? { readinessProbe: readinessProbe(probeGet('/readyz')) } : {}),
      resources: { requests: { cpu: '100m' } },
      startupProbe: startupProbe(probeGet(livez ? '/livez' : '/healthz')),
      ...envOf(cluster.scheduler.extraEnvs),
    },
    volumes: withExtraVolumes([{ name: 'kubeconfig', path: kubeconfig, type: 'FileOrCreate', readOnly: true }], cluster.scheduler.extraVolumes),
  });
}
