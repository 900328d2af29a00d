/**
 * `kbuild certs verify`: what the servers actually present. A TLS handshake with `openssl s_client`
 * run ON a host through its transport — so it works through bastions and reaches the loopback-only
 * controller-manager and scheduler — and the comparison here: chain to the right CA, SAN for the
 * address used, and the served serial and NotAfter against the file on disk ("renewed on disk but
 * never restarted").
 */
import { X509Certificate } from 'node:crypto';
import { loadClusterFile } from '../../config/load.js';
import { firstPemCertificate } from '../../pki/inspect.js';
import type { PassphrasePrompt } from '../../transport/ssh/private-key.js';
import { settleWithLimit } from '../../util/pool.js';
import { openFleet } from './fleet.js';
import { sha256Hex } from '../../util/sha256.js';
import { isIP } from 'node:net';
import { firstControlPlane, hostPort, hostsWithRole, type Cluster, type Host } from '../../config/model.js';
import { PATHS, PORTS } from '../../kubeadm/constants.js';
import { shCommand, shellQuote } from '../../transport/quote.js';
import type { Transport } from '../../transport/transport.js';

const PKI = PATHS.pki;

export type VerifyTarget = 'kube-apiserver' | 'kube-apiserver (endpoint)' | 'etcd client' | 'etcd peer' | 'kube-controller-manager' | 'kube-scheduler';

export interface Handshake {
  target: VerifyTarget;
  /** The host the handshake runs from. */
  from: Host;
  /** host:port connected to. */
  connect: string;
  /** The name or address the certificate must be valid for. */
  expectName: string;
  /** CA file on `from` the chain must lead to; undefined: self-signed is expected (kubeadm's default). */
  caFile?: string;
  /** Client certificate and key to present (etcd requires one). */
  clientCert?: { cert: string; key: string };
  /** Files on disk the served certificate must equal (any one of them, for the endpoint), by host. */
  diskFiles: Array<{ host: Host; path: string }>;
}

/** Every handshake the cluster calls for. */
export function handshakes(cluster: Cluster): Handshake[] {
  const out: Handshake[] = [];
  for (const host of cluster.etcdMembers) {
    const client = { cert: `${PKI}/etcd/healthcheck-client.crt`, key: `${PKI}/etcd/healthcheck-client.key` };
    const peer = { cert: `${PKI}/etcd/peer.crt`, key: `${PKI}/etcd/peer.key` };
    out.push({ target: 'etcd client', from: host, connect: hostPort(host.address, PORTS.etcdClient), expectName: host.address, caFile: `${PKI}/etcd/ca.crt`, clientCert: client, diskFiles: [{ host, path: `${PKI}/etcd/server.crt` }] });
    out.push({ target: 'etcd peer', from: host, connect: hostPort(host.address, PORTS.etcdPeer), expectName: host.address, caFile: `${PKI}/etcd/ca.crt`, clientCert: peer, diskFiles: [{ host, path: `${PKI}/etcd/peer.crt` }] });
  }
  const cps = cluster.controlPlanes;
  for (const host of cps) {
    out.push({ target: 'kube-apiserver', from: host, connect: hostPort(host.address, cluster.apiServer.bindPort), expectName: host.address, caFile: `${PKI}/ca.crt`, diskFiles: [{ host, path: `${PKI}/apiserver.crt` }] });
  }
  const { host: endpointHost, port } = cluster.endpoint;
  const via = cluster.loadBalancer.vip ?? hostsWithRole(cluster, 'load-balancer')[0]?.address ?? endpointHost;
  out.push({
    target: 'kube-apiserver (endpoint)',
    from: firstControlPlane(cluster),
    connect: hostPort(via, port),
    expectName: endpointHost,
    caFile: `${PKI}/ca.crt`,
    diskFiles: cps.map((host) => ({ host, path: `${PKI}/apiserver.crt` })),
  });
  for (const host of cps) {
    out.push({ target: 'kube-controller-manager', from: host, connect: hostPort('127.0.0.1', PORTS.controllerManager), expectName: '127.0.0.1', diskFiles: [] });
    out.push({ target: 'kube-scheduler', from: host, connect: hostPort('127.0.0.1', PORTS.scheduler), expectName: '127.0.0.1', diskFiles: [] });
  }
  return out;
}

/** The s_client command; the served certificate is the first PEM block of its output. */
export function sClientCommand(h: Handshake): string {
  const args = ['openssl', 's_client', '-connect', h.connect];
  if (isIP(h.expectName) === 0) args.push('-servername', h.expectName);
  if (h.clientCert) args.push('-cert', h.clientCert.cert, '-key', h.clientCert.key);
  return shCommand(`timeout 15 ${args.map(shellQuote).join(' ')} </dev/null 2>&1`);
}

export type VerifyStatus = 'ok' | 'self-signed' | 'mismatch' | 'unreachable';

export interface VerifyResult {
  target: VerifyTarget;
  host: string;
  connect: string;
  status: VerifyStatus;
  problems: string[];
  served?: { subject: string; serial: string; notAfter: string; issuer: string; fingerprint: string };
  /** The file the served certificate was compared with. */
  disk?: { host: string; path: string; serial: string; notAfter: string };
}

export interface Observed {
  /** PEM served, or undefined with `error` when no handshake happened. */
  servedPem?: string;
  error?: string;
  caPem?: string;
  /** Each disk file's PEM (undefined when missing). */
  disk: Array<{ host: string; path: string; pem?: string }>;
  now: Date;
}

const summary = (c: X509Certificate) => ({
  subject: c.subject.replace(/\n/g, ', '),
  serial: c.serialNumber.toLowerCase(),
  notAfter: new Date(c.validTo).toISOString(),
  issuer: c.issuer.replace(/\n/g, ', '),
  fingerprint: sha256Hex(c.raw),
});

/** Pure: the checks on one handshake's observations. */
export function judge(h: Handshake, seen: Observed): VerifyResult {
  const base = { target: h.target, host: h.from.name, connect: h.connect };
  if (seen.servedPem === undefined) return { ...base, status: 'unreachable', problems: [seen.error ?? 'no certificate was served'] };
  let served: X509Certificate;
  try {
    served = new X509Certificate(seen.servedPem);
  } catch (error) {
    return { ...base, status: 'mismatch', problems: [`the served certificate is unreadable: ${(error as Error).message}`] };
  }
  const problems: string[] = [];
  const facts = summary(served);
  const now = seen.now.getTime();
  if (Date.parse(served.validFrom) > now || Date.parse(served.validTo) < now) problems.push(`served certificate is outside its validity (${served.validFrom} – ${served.validTo})`);
  const selfSigned = served.checkIssued(served) && served.verify(served.publicKey);
  if (h.caFile === undefined) {
    // kubeadm gives controller-manager and scheduler no certificate: they serve one they made themselves.
    return { ...base, status: selfSigned && problems.length === 0 ? 'self-signed' : problems.length === 0 ? 'ok' : 'mismatch', problems, served: facts };
  }
  if (seen.caPem === undefined) problems.push(`${h.caFile} is missing on ${h.from.name}`);
  else {
    const ca = new X509Certificate(seen.caPem);
    if (!(served.checkIssued(ca) && served.verify(ca.publicKey))) problems.push(`not signed by ${h.caFile} (issuer ${facts.issuer})`);
  }
  const nameOk = isIP(h.expectName) !== 0 ? served.checkIP(h.expectName) !== undefined : served.checkHost(h.expectName) !== undefined;
  if (!nameOk) problems.push(`no SAN for ${h.expectName}`);
  let disk: VerifyResult['disk'];
  const files = seen.disk.filter((d) => d.pem !== undefined).map((d) => ({ ...d, cert: new X509Certificate(d.pem!) }));
  const same = files.find((f) => f.cert.serialNumber === served.serialNumber && f.cert.validTo === served.validTo);
  if (same) disk = { host: same.host, path: same.path, serial: same.cert.serialNumber.toLowerCase(), notAfter: new Date(same.cert.validTo).toISOString() };
  else if (files.length === 0) problems.push(`${seen.disk.map((d) => `${d.host}:${d.path}`).join(', ')} missing: nothing to compare the served certificate with`);
  else {
    const f = files[0]!;
    disk = { host: f.host, path: f.path, serial: f.cert.serialNumber.toLowerCase(), notAfter: new Date(f.cert.validTo).toISOString() };
    const what = files.length === 1 ? `${f.host}:${f.path} (serial ${disk.serial}, NotAfter ${disk.notAfter})` : `any of ${files.map((x) => `${x.host}:${x.path}`).join(', ')}`;
    problems.push(`served certificate (serial ${facts.serial}, NotAfter ${facts.notAfter}) differs from ${what}: ${h.target.startsWith('etcd') ? 'changed on disk after this handshake, or etcd cannot read the file?' : h.target.startsWith('kube-apiserver') ? 'renewed on disk and not loaded yet (kube-apiserver reloads its serving certificate within a minute), or its key does not match?' : 'renewed on disk but not restarted?'}`);
  }
  return { ...base, status: problems.length === 0 ? 'ok' : 'mismatch', problems, served: facts, ...(disk ? { disk } : {}) };
}

/** Runs one handshake and reads what it needs from the hosts involved. */
export async function verifyOne(h: Handshake, transport: (host: Host) => Promise<Transport>, now: Date): Promise<VerifyResult> {
  const from = await transport(h.from);
  const result = await from.run(sClientCommand(h), { timeoutMs: 30_000, readOnly: true });
  const servedPem = firstPemCertificate(result.stdout);
  const error = servedPem ? undefined : `no certificate from ${h.connect}: ${result.timedOut ? 'timed out' : result.stdout.trim().split('\n').slice(-2).join(' ').slice(0, 300) || `openssl exited ${result.code ?? 'on a signal'}`}`;
  const caPem = h.caFile ? (await from.readFile(h.caFile))?.toString('utf8') : undefined;
  const disk = await Promise.all(h.diskFiles.map(async (d) => ({ host: d.host.name, path: d.path, pem: (await (await transport(d.host)).readFile(d.path))?.toString('utf8') })));
  return judge(h, { servedPem, error, caPem, disk, now });
}

/** Every handshake the cluster file calls for, from the hosts that run them; a server that cannot be reached is a result, not a failure. */
export async function verifyFleet(options: { inventory: string; acceptNewHostKeys: boolean; passphrase?: PassphrasePrompt }, now: Date): Promise<VerifyResult[]> {
  const { cluster } = await loadClusterFile(options.inventory);
  const checks = handshakes(cluster);
  const hosts = cluster.hosts.filter((h) => checks.some((c) => c.from.name === h.name || c.diskFiles.some((d) => d.host.name === h.name)));
  const connections = await openFleet(hosts, options);
  try {
    // Few at a time: several checks share a host, and each is an SSH channel (sshd allows 10 per connection).
    const settled = await settleWithLimit(checks, 4, (c) => verifyOne(c, (h) => connections.get(h), now));
    return settled.map((s, i) =>
      s.status === 'fulfilled' ? s.value : { target: checks[i]!.target, host: checks[i]!.from.name, connect: checks[i]!.connect, status: 'unreachable' as const, problems: [String((s.reason as Error).message)] },
    );
  } finally {
    await connections.closeAll();
  }
}
