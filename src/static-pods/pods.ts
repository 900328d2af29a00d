/**
 * The static pods a certificate roll-out restarts, in the control plane's startup order, with how
 * to tell each is down (its port refuses connections) and the health gate it must pass.
 */
import { hostPort, type Cluster, type Host } from '../config/model.js';
import yaml from 'js-yaml';
import { apiserverReady, componentHealthz, etcdHealth, etcdMembers as etcdMemberList, servesCertificateFile, type Probe } from '../health/probes.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { loopbackFor } from '../render/etcd.js';
import type { StaticPod } from '../kubeadm/files.js';

const loopback = (host: Host) => loopbackFor(host.address);

/** This host's etcd member's HTTP API (JSON gateway), as reached from the host itself. */
export const localEtcdApi = (host: Host): string => `https://${hostPort(loopback(host), PORTS.etcdClientHttp)}`;

/** Where the component listens: refused connections there mean it is down. */
export function listenAddress(cluster: Cluster, host: Host, pod: StaticPod): string {
  switch (pod) {
    case 'etcd':
      return hostPort(loopback(host), PORTS.etcdClient);
    case 'kube-apiserver':
      return hostPort(host.address, cluster.apiServer.bindPort);
    case 'kube-controller-manager':
      return hostPort('127.0.0.1', PORTS.controllerManager);
    case 'kube-scheduler':
      return hostPort('127.0.0.1', PORTS.scheduler);
  }
}

/** This host runs a kube-apiserver whose first etcd server is its own stacked member. */
export const hasStackedApiserver = (cluster: Cluster, host: Host): boolean => cluster.etcd.topology === 'stacked' && cluster.controlPlanes.some((h) => h.name === host.name);

/** The probes that must all pass before the next host is touched. */
export function gateProbes(cluster: Cluster, host: Host, pod: StaticPod): Array<{ name: string; probe: Probe }> {
  switch (pod) {
    case 'etcd': {
      const members = cluster.etcdMembers.map((m) => m.name);
      const probes = [
        { name: 'etcd /health', probe: etcdHealth(host) },
        { name: 'etcd quorum (member list)', probe: etcdMemberList(host, members) },
      ];
      // The apiserver beside a stacked member (its first etcd server) is ready again before the next member stops.
      return hasStackedApiserver(cluster, host) ? [...probes, { name: 'kube-apiserver /readyz', probe: apiserverReady(cluster, host) }] : probes;
    }
    case 'kube-apiserver':
      return [{ name: 'kube-apiserver /readyz', probe: apiserverReady(cluster, host) }];
    case 'kube-controller-manager':
      return [{ name: 'kube-controller-manager /healthz', probe: componentHealthz(PORTS.controllerManager) }];
    case 'kube-scheduler':
      return [{ name: 'kube-scheduler /healthz', probe: componentHealthz(PORTS.scheduler) }];
  }
}

/** True when `path` appears in the manifest as a whole path (a flag value or a mount), so the pod reads it. */
export function manifestReads(manifest: string, path: string): boolean {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w./-])${escaped}($|[^\\w./-])`, 'm').test(manifest);
}

/**
 * How a running pod picks up new files: `restart`; `handshake` — etcd reads the files of its
 * certificate flags again for every new TLS connection (its TLSInfo's GetCertificate and
 * GetClientCertificate), so new serving and peer certificates need no restart and no etcd leader
 * change; `none` — the pod does not read them (admin.conf, the etcd healthcheck client).
 */
export type PodLoad = 'restart' | 'handshake' | 'none';

const ETCD_PER_HANDSHAKE_FLAGS = ['--cert-file', '--key-file', '--peer-cert-file', '--peer-key-file'] as const;

export function podLoad(pod: StaticPod, manifest: string | undefined, paths: readonly string[]): PodLoad {
  const read = manifest === undefined ? [] : paths.filter((p) => manifestReads(manifest, p));
  if (read.length === 0) return 'none';
  if (pod !== 'etcd') return 'restart';
  const perHandshake = new Set(ETCD_PER_HANDSHAKE_FLAGS.map((flag) => flagValue(manifest!, flag)));
  return read.every((p) => perHandshake.has(p)) ? 'handshake' : 'restart';
}

/** The value of `--flag=value` in the manifest's first container's command. */
function flagValue(manifest: string, flag: string): string | undefined {
  const pod = yaml.load(manifest) as { spec?: { containers?: Array<{ command?: unknown[] }> } } | undefined;
  const prefix = `${flag}=`;
  const arg = (pod?.spec?.containers?.[0]?.command ?? []).find((a): a is string => typeof a === 'string' && a.startsWith(prefix));
  return arg?.slice(prefix.length);
}

/**
 * After etcd's certificate files changed under it: a new client connection and a new peer connection
 * are served the files now on disk, then the member's ordinary gates.
 */
export function handshakeGateProbes(cluster: Cluster, host: Host, manifest: string): Array<{ name: string; probe: Probe }> {
  const serverCert = flagValue(manifest, '--cert-file') ?? `${PATHS.etcdPki}/server.crt`;
  const peer = { cert: flagValue(manifest, '--peer-cert-file') ?? `${PATHS.etcdPki}/peer.crt`, key: flagValue(manifest, '--peer-key-file') ?? `${PATHS.etcdPki}/peer.key` };
  const healthcheck = { cert: `${PATHS.etcdPki}/healthcheck-client.crt`, key: `${PATHS.etcdPki}/healthcheck-client.key` };
  return [
    { name: 'etcd serves the new server certificate to new clients', probe: servesCertificateFile(listenAddress(cluster, host, 'etcd'), healthcheck, serverCert) },
    { name: 'etcd serves the new peer certificate to new peers', probe: servesCertificateFile(hostPort(host.address, PORTS.etcdPeer), peer, peer.cert) },
    ...gateProbes(cluster, host, 'etcd'),
  ];
}
