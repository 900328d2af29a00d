/**
 * Fleet expiry report: every certificate on every host, read over each host's transport — the PKI
 * under /etc/kubernetes/pki, the client certificates embedded in kubeconfigs, the kubelet's own
 * client and serving certificates, and the CA file HAProxy checks backends with.
 */
import { X509Certificate } from 'node:crypto';
import type { Host } from '../../config/model.js';
import { parseKubeconfig } from '../../kubeconfig/kubeconfig.js';
import { hostFilePath } from '../../pki/host-files.js';
import { firstPemCertificate } from '../../pki/inspect.js';
import { CA_ROWS, KUBECONFIG_ROWS, LEAF_ROWS } from '../../pki/table.js';
import { PATHS } from '../../kubeadm/constants.js';
import type { Transport } from '../../transport/transport.js';
import { readFiles } from '../../transport/sync.js';

export type CertificateSource = 'ca' | 'certificate' | 'kubeconfig' | 'kubelet' | 'load-balancer';

export interface FleetCertificate {
  host: string;
  /** kubeadm's name (apiserver, etcd-ca, admin.conf) or the kubelet's (kubelet-client, kubelet-serving). */
  name: string;
  source: CertificateSource;
  /** Absolute path on the host. */
  path: string;
  subject: string;
  notAfter: Date;
  residualSeconds: number;
  serial: string;
  /** The issuing CA by kubeadm name when it is one of the host's CAs, "self-signed", or the issuer DN. */
  issuer: string;
}

export interface CertificateProblem {
  host: string;
  path: string;
  problem: string;
}

export interface HostCertificates {
  certificates: FleetCertificate[];
  problems: CertificateProblem[];
}

interface Candidate {
  name: string;
  source: CertificateSource;
  path: string;
  /** Pulls the certificate PEM out of the file text (a kubeconfig embeds it). */
  extract: (text: string) => string | undefined;
}

const path = (name: string) => hostFilePath(name);

/** Every file that may hold a certificate, in report order: CAs, leaves, kubeconfigs, kubelet, load balancer. */
export const CANDIDATES: readonly Candidate[] = [
  ...CA_ROWS.map((r) => ({ name: r.phase, source: 'ca' as const, path: path(`pki/${r.base}.crt`), extract: firstPemCertificate })),
  ...LEAF_ROWS.map((r) => ({ name: r.phase, source: 'certificate' as const, path: path(`pki/${r.base}.crt`), extract: firstPemCertificate })),
  ...KUBECONFIG_ROWS.map((r) => ({ name: r.name, source: 'kubeconfig' as const, path: path(r.name), extract: (t: string) => parseKubeconfig(t).clientCertPem })),
  { name: 'kubelet-client', source: 'kubelet', path: PATHS.kubeletClientPem, extract: firstPemCertificate },
  { name: 'kubelet-serving', source: 'kubelet', path: PATHS.kubeletServingCert, extract: firstPemCertificate },
  { name: 'haproxy-ca', source: 'load-balancer', path: PATHS.haproxyCa, extract: firstPemCertificate },
];

/** Reads every candidate file on one host and decodes what it finds; unreadable files become problems. */
export async function gatherHostCertificates(host: Host, transport: Transport, now: Date): Promise<HostCertificates> {
  const texts = await readFiles(transport, CANDIDATES.map((c) => c.path));
  return certificatesFromFiles(host.name, new Map(CANDIDATES.flatMap((c, i) => (texts[i] === undefined ? [] : [[c.path, texts[i].toString('utf8')] as const]))), now);
}

/** Pure: path → file text on one host, to the report rows. */
export function certificatesFromFiles(host: string, files: ReadonlyMap<string, string>, now: Date): HostCertificates {
  const problems: CertificateProblem[] = [];
  const decoded: Array<{ candidate: Candidate; cert: X509Certificate }> = [];
  for (const candidate of CANDIDATES) {
    const text = files.get(candidate.path);
    if (text === undefined) continue;
    let pem: string | undefined;
    try {
      pem = candidate.extract(text);
    } catch (error) {
      problems.push({ host, path: candidate.path, problem: `unreadable: ${(error as Error).message}` });
      continue;
    }
    if (pem === undefined) {
      // kubelet.conf pointing at the rotated client certificate file embeds none: that file is reported itself.
      if (candidate.source !== 'kubeconfig') problems.push({ host, path: candidate.path, problem: 'holds no PEM certificate' });
      continue;
    }
    try {
      decoded.push({ candidate, cert: new X509Certificate(pem) });
    } catch (error) {
      problems.push({ host, path: candidate.path, problem: `not a readable certificate: ${(error as Error).message}` });
    }
  }
  const cas = decoded.filter((d) => d.candidate.source === 'ca');
  const certificates = decoded.map(({ candidate, cert }) => {
    const notAfter = new Date(cert.validTo);
    return {
      host,
      name: candidate.name,
      source: candidate.source,
      path: candidate.path,
      subject: cert.subject.replace(/\n/g, ', '),
      notAfter,
      residualSeconds: Math.floor((notAfter.getTime() - now.getTime()) / 1000),
      serial: cert.serialNumber.toLowerCase(),
      issuer: issuerOf(cert, cas),
    };
  });
  return { certificates, problems };
}

function issuerOf(cert: X509Certificate, cas: ReadonlyArray<{ candidate: Candidate; cert: X509Certificate }>): string {
  if (cert.checkIssued(cert) && cert.verify(cert.publicKey)) return 'self-signed';
  const ca = cas.find((c) => cert.checkIssued(c.cert) && cert.verify(c.cert.publicKey));
  return ca ? ca.candidate.name : cert.issuer.replace(/\n/g, ', ');
}
