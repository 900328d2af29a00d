/**
 * Where the PKI master copy lives inside the state directory, and where each item lands on a host.
 *
 *   pki/ca.{crt,key}  pki/front-proxy-ca.{crt,key}  pki/etcd/ca.{crt,key}  pki/sa.{key,pub}
 *   hosts/<host>/pki/<base>.{crt,key}       per-host leaves, e.g. hosts/cp1/pki/etcd/server.crt
 *   hosts/<host>/<name>.conf                per-host kubeconfigs, e.g. hosts/cp1/admin.conf
 *
 * The per-host part mirrors /etc/kubernetes on that host.
 */
import { caRow, type CaName, type KubeconfigRow, type LeafRow } from './table.js';

export const statePaths = {
  caCert: (ca: CaName) => `pki/${caRow(ca).base}.crt`,
  caKey: (ca: CaName) => `pki/${caRow(ca).base}.key`,
  saKey: 'pki/sa.key',
  saPub: 'pki/sa.pub',
  leafCert: (host: string, row: LeafRow) => `hosts/${host}/pki/${row.base}.crt`,
  leafKey: (host: string, row: LeafRow) => `hosts/${host}/pki/${row.base}.key`,
  kubeconfig: (host: string, row: KubeconfigRow) => `hosts/${host}/${row.name}`,
};
