/** check-expiration: one row per certificate found on a host (CAs, leaves, kubeconfig client certs). */
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import type { HostPkiFiles } from './host-files.js';
import { readCertificate } from './inspect.js';
import { CA_ROWS, KUBECONFIG_ROWS, LEAF_ROWS, caRow, type CaName } from './table.js';

export interface ExpirationRow {
  /** kubeadm's name: apiserver, etcd-server, admin.conf, ca, etcd-ca... */
  name: string;
  kind: 'ca' | 'certificate' | 'kubeconfig';
  /** Relative name on the host: pki/apiserver.crt, admin.conf. */
  file: string;
  notAfter: Date;
  residualSeconds: number;
  /** The CA that signed it (kubeadm name); undefined for CAs. */
  certificateAuthority?: string;
  /** Its CA's key is not on the host: kbuild cannot renew it. */
  externallyManaged: boolean;
  renewable: boolean;
}

export function expirationRows(files: HostPkiFiles, now: Date): ExpirationRow[] {
  const hasKey = (ca: CaName) => files.has(`pki/${caRow(ca).base}.key`);
  const residual = (d: Date) => Math.floor((d.getTime() - now.getTime()) / 1000);
  const rows: ExpirationRow[] = [];
  for (const row of LEAF_ROWS) {
    const file = `pki/${row.base}.crt`;
    const pem = files.get(file);
    if (pem === undefined) continue;
    const facts = readCertificate(pem, file);
    rows.push({ name: row.phase, kind: 'certificate', file, notAfter: facts.notAfter, residualSeconds: residual(facts.notAfter), certificateAuthority: caRow(row.ca).phase, externallyManaged: !hasKey(row.ca), renewable: true });
  }
  for (const row of KUBECONFIG_ROWS) {
    const text = files.get(row.name);
    if (text === undefined) continue;
    const cert = parseKubeconfig(text).clientCertPem;
    if (cert === undefined) continue; // kubelet.conf pointing at the kubelet's rotated certificate file
    const facts = readCertificate(cert, row.name);
    rows.push({ name: row.phase, kind: 'kubeconfig', file: row.name, notAfter: facts.notAfter, residualSeconds: residual(facts.notAfter), certificateAuthority: 'ca', externallyManaged: !hasKey('ca'), renewable: row.renewable });
  }
  rows.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const row of CA_ROWS) {
    const file = `pki/${row.base}.crt`;
    const pem = files.get(file);
    if (pem === undefined) continue;
    const facts = readCertificate(pem, file);
    rows.push({ name: row.phase, kind: 'ca', file, notAfter: facts.notAfter, residualSeconds: residual(facts.notAfter), externallyManaged: !hasKey(row.name), renewable: false });
  }
  return rows;
}
