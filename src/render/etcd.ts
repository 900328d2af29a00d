/**
 * etcd's static pod (kubeadm phases/etcd/local.go, 1.32 era), for stacked members (control planes)
 * and kbuild-managed external etcd hosts alike: both run etcd as a kubelet static pod.
 *
 * `--initial-cluster` lists EVERY member at once and every member starts with the default
 * `--initial-cluster-state=new`: the cluster is bootstrapped with all members together, unlike
 * kubeadm, which starts one member on `init` and adds the others one by one on `join`
 * (MemberAddAsLearner, then `--initial-cluster-state=existing`).
 */
import { hostPort, type Cluster, type Host } from '../config/model.js';
import { argsFromRecord, argumentsToCommand, type Arg } from './flags.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { componentVersions, kubernetesMinor } from '../kubeadm/versions.js';
import { envOf, livenessProbe, readinessProbe, startupProbe, staticPod, type HostPathVolume } from './static-pod.js';
import type { V1Pod } from '@kubernetes/client-node';

export const isIpv6 = (address: string): boolean => address.includes(':');
export const loopbackFor = (address: string): string => (isIpv6(address) ? '::1' : '127.0.0.1');
export const httpsUrl = (address: string, port: number): string => `https://${hostPort(address, port)}`;

export const etcdPeerUrl = (host: Host): string => httpsUrl(host.address, PORTS.etcdPeer);
export const etcdClientUrl = (host: Host): string => httpsUrl(host.address, PORTS.etcdClient);
/** Where a member serves its HTTP API (JSON gateway, /health): what kbuild's own etcd calls use. */
export const etcdHttpUrl = (host: Host): string => httpsUrl(host.address, PORTS.etcdClientHttp);

/** `name=https://addr:2380` for every member, in cluster-file order. */
export const initialCluster = (members: readonly Host[]): string => members.map((m) => `${m.name}=${etcdPeerUrl(m)}`).join(',');

/**
 * How a member bootstraps: `cluster` is its --initial-cluster, `state: 'existing'` when it joins a
 * running cluster. `apply` starts every member at once (the default); `kbuild init` starts the host
 * alone (kubeadm's single-member start); `kbuild join` lists the running members and itself.
 */
export interface EtcdBootstrap {
  cluster: string;
  state?: 'existing';
}

export const allMembersAtOnce = (cluster: Cluster): EtcdBootstrap => ({ cluster: initialCluster(cluster.etcdMembers) });

export function etcdArgs(cluster: Cluster, host: Host, bootstrap: EtcdBootstrap = allMembersAtOnce(cluster)): Arg[] {
  const loopback = loopbackFor(host.address);
  const arg = (name: string, value: string): Arg => ({ name, value });
  return [
    arg('advertise-client-urls', etcdClientUrl(host)),
    arg('cert-file', `${PATHS.etcdPki}/server.crt`),
    arg('client-cert-auth', 'true'),
    arg('data-dir', cluster.etcd.dataDir),
    arg('experimental-initial-corrupt-check', 'true'),
    arg('experimental-watch-progress-notify-interval', '5s'),
    arg('initial-advertise-peer-urls', etcdPeerUrl(host)),
    arg('initial-cluster', bootstrap.cluster),
    ...(bootstrap.state ? [arg('initial-cluster-state', bootstrap.state)] : []),
    arg('key-file', `${PATHS.etcdPki}/server.key`),
    // gRPC alone on the client port, so a stopping member drains its RPCs (GracefulStop) instead of
    // answering them with a bare HTTP response ("malformed header") as gRPC served through its HTTP server does.
    arg('listen-client-http-urls', `${httpsUrl(loopback, PORTS.etcdClientHttp)},${etcdHttpUrl(host)}`),
    arg('listen-client-urls', `${httpsUrl(loopback, PORTS.etcdClient)},${etcdClientUrl(host)}`),
    arg('listen-metrics-urls', `http://${hostPort(loopback, PORTS.etcdMetrics)}`),
    arg('listen-peer-urls', etcdPeerUrl(host)),
    arg('name', host.name),
    arg('peer-cert-file', `${PATHS.etcdPki}/peer.crt`),
    arg('peer-client-cert-auth', 'true'),
    arg('peer-key-file', `${PATHS.etcdPki}/peer.key`),
    arg('peer-trusted-ca-file', `${PATHS.etcdPki}/ca.crt`),
    arg('snapshot-count', '10000'),
    arg('trusted-ca-file', `${PATHS.etcdPki}/ca.crt`),
  ];
}

export function etcdPod(cluster: Cluster, host: Host, bootstrap: EtcdBootstrap = allMembersAtOnce(cluster)): V1Pod {
  const versions = componentVersions(cluster.kubernetesVersion);
  const probeGet = (path: string) => ({ host: loopbackFor(host.address), path, port: PORTS.etcdMetrics, scheme: 'HTTP' });
  // kubeadm probes etcd's /livez and /readyz from v1.31; v1.30 its /health, with no readiness probe.
  const livezReadyz = kubernetesMinor(cluster.kubernetesVersion) >= 31;
  const volumes: HostPathVolume[] = [
    { name: 'etcd-data', path: cluster.etcd.dataDir, type: 'DirectoryOrCreate', readOnly: false },
    { name: 'etcd-certs', path: PATHS.etcdPki, type: 'DirectoryOrCreate', readOnly: false },
  ];
  return staticPod({
    name: 'etcd',
    annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': etcdClientUrl(host) },
    container: {
      command: ['etcd', ...argumentsToCommand(etcdArgs(cluster, host, bootstrap), argsFromRecord(cluster.etcd.extraArgs))],
      image: `${cluster.imageRepository}/etcd:${versions.etcd}`,
      imagePullPolicy: 'IfNotPresent',
      ...(livezReadyz
        ? { livenessProbe: livenessProbe(probeGet('/livez')), readinessProbe: readinessProbe(probeGet('/readyz')), startupProbe: startupProbe(probeGet('/readyz')) }
        : { livenessProbe: livenessProbe(probeGet('/health?exclude=NOSPACE&serializable=true')), startupProbe: startupProbe(probeGet('/health?serializable=false')) }),
      name: 'etcd',
      resources: { requests: { cpu: '100m', memory: '100Mi' } },
      ...envOf(cluster.etcd.extraEnvs),
    },
    volumes,
    mountOrder: 'as-given',
  });
}
