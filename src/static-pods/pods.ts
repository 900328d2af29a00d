/**
 * The static pods a certificate roll-out touches, in the control plane's startup order: how each
 * loads new files (restart, or etcd's per-handshake read), how to tell it is down (its port refuses
 * connections) and the health gates it must pass.
 */
import { hostPort, type Cluster, type Host } from '../config/model.js';
import yaml from 'js-yaml';
import { apiserverReady, componentHealthz, etcdHealth, etcdMembers as etcdMemberList, servesCertificateFile, type Probe } from '../health/probes.js';
import { PATHS, PORTS } from '../kubeadm/constants.js';
import { loopbackFor } from '../render/etcd.js';
import { componentContainer, type StaticPod } from '../kubeadm/files.js';

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
 * How a running pod picks up new files: `restart`; `handshake` — new TLS connections get them with
 * no restart: etcd reads the files of its certificate flags again for every new TLS connection (its
 * TLSInfo's GetCertificate and GetClientCertificate), so new serving and peer certificates need no
 * etcd leader change; kube-apiserver watches its serving certificate and key (--tls-cert-file,
 * --tls-private-key-file: k8s.io/apiserver's DynamicCertKeyPairContent, fsnotify and a resync every
 * minute, a pair loaded only when key and certificate match), so a new SAN needs no apiserver restart;
 * `none` — the pod does not read them (admin.conf, the etcd healthcheck client).
 */
export type PodLoad = 'restart' | 'handshake' | 'none';

export function podLoad(pod: StaticPod, manifest: string | undefined, paths: readonly string[]): PodLoad {
  const read = manifest === undefined ? [] : paths.filter((p) => manifestReads(manifest, p));
  if (read.length === 0) return 'none';
  const perHandshake = new Set(reloadedFiles(pod, manifest!));
  return perHandshake.size > 0 && read.every((p) => perHandshake.has(p)) ? 'handshake' : 'restart';
}

/** The files the running pod loads again by itself (see PodLoad), as its manifest names them. */
function reloadedFiles(pod: StaticPod, manifest: string): string[] {
  if (pod === 'etcd') {
    const files = etcdCertificateFiles(manifest);
    return [files.cert, files.key, files.peerCert, files.peerKey].filter((f): f is string => f !== undefined);
  }
  if (pod === 'kube-apiserver') {
    const files = apiserverServingFiles(manifest);
    return files.cert !== undefined && files.key !== undefined ? [files.cert, files.key] : [];
  }
  return [];
}

const commandFlags = (manifest: string): ((name: string) => string | undefined) => {
  const command = componentContainer(yaml.load(manifest) as Parameters<typeof componentContainer>[0])?.command;
  const args = (Array.isArray(command) ? (command as unknown[]) : []).filter((a): a is string => typeof a === 'string');
  return (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};

/** kube-apiserver's serving certificate and key, as its manifest names them. */
function apiserverServingFiles(manifest: string): { cert: string | undefined; key: string | undefined } {
  const flag = commandFlags(manifest);
  return { cert: flag('tls-cert-file'), key: flag('tls-private-key-file') };
}

/** The files of etcd's certificate flags, as its manifest names them (undefined: the flag is absent). */
function etcdCertificateFiles(manifest: string): Record<'cert' | 'key' | 'peerCert' | 'peerKey' | 'trustedCa' | 'peerTrustedCa', string | undefined> {
  const flag = commandFlags(manifest);
  return { cert: flag('cert-file'), key: flag('key-file'), peerCert: flag('peer-cert-file'), peerKey: flag('peer-key-file'), trustedCa: flag('trusted-ca-file'), peerTrustedCa: flag('peer-trusted-ca-file') };
}

/**
 * After certificate files changed under a pod that loads them itself (or were put back): new
 * connections to the host's address, as other hosts make them, are served the files now on disk,
 * verified against the CA for that address; then the pod's ordinary gates. etcd: a client and a peer
 * connection; kube-apiserver: a client connection to its secure port.
 */
export function handshakeGateProbes(cluster: Cluster, host: Host, pod: StaticPod, manifest: string): Array<{ name: string; probe: Probe }> {
  if (pod === 'kube-apiserver') {
    const files = apiserverServingFiles(manifest);
    return [
      {
        name: 'kube-apiserver serves its certificate file to new clients',
        // The cluster CA signs the serving certificate (kubeadm's certlist).
        probe: servesCertificateFile({ connect: hostPort(host.address, cluster.apiServer.bindPort), address: host.address, caFile: `${PATHS.pki}/ca.crt`, file: files.cert ?? `${PATHS.pki}/apiserver.crt` }),
      },
      ...gateProbes(cluster, host, pod),
    ];
  }
  const files = etcdCertificateFiles(manifest);
  const peer = { cert: files.peerCert ?? `${PATHS.etcdPki}/peer.crt`, key: files.peerKey ?? `${PATHS.etcdPki}/peer.key` };
  const healthcheck = { cert: `${PATHS.etcdPki}/healthcheck-client.crt`, key: `${PATHS.etcdPki}/healthcheck-client.key` };
  const at = (port: number) => ({ connect: hostPort(host.address, port), address: host.address });
  return [
    { name: 'etcd serves its server certificate file to new clients', probe: servesCertificateFile({ ...at(PORTS.etcdClient), caFile: files.trustedCa ?? `${PATHS.etcdPki}/ca.crt`, client: healthcheck, file: files.cert ?? `${PATHS.etcdPki}/server.crt` }) },
    { name: 'etcd serves its peer certificate file to new peers', probe: servesCertificateFile({ ...at(PORTS.etcdPeer), caFile: files.peerTrustedCa ?? `${PATHS.etcdPki}/ca.crt`, client: peer, file: peer.cert }) },
    ...gateProbes(cluster, host, 'etcd'),
  ];
}
