/** The ClusterPki view of the master copy: which files each host gets, at kubeadm's paths and modes. */
import { byPath, type FileOwner, type RenderedFile } from '../kubeadm/files.js';
import type { Cluster, Host } from '../config/model.js';
import { statePaths } from './layout.js';
import { CA_ROWS, KUBECONFIG_ROWS, LEAF_ROWS, SA_ROW, hostsInScope, initPhaseOf, type HostScope } from './table.js';
import type { ClusterPki, PkiAction } from './types.js';
import { PATHS } from '../kubeadm/constants.js';

const cert = (path: string, content: string, owner: FileOwner): RenderedFile => ({ path, mode: 0o644, content, ...owner });
const secret = (path: string, content: string, owner: FileOwner): RenderedFile => ({ path, mode: 0o600, content, secret: true, ...owner });

/** `contents` maps state-dir relative paths (statePaths) to file text. */
export function buildClusterPki(cluster: Cluster, contents: ReadonlyMap<string, string>, actions: readonly PkiAction[]): ClusterPki {
  const get = (path: string) => contents.get(path);
  const required = (path: string) => {
    const text = get(path);
    if (text === undefined) throw new Error(`PKI master copy lacks ${path} after ensureClusterPki`);
    return text;
  };
  // Each scope's host names, computed once: asking per host and row would scan every host each
  // time, quadratic in the cluster size (seconds at 5,000 workers).
  const scopeNames = new Map<HostScope, ReadonlySet<string>>();
  const inScope = (scope: HostScope, host: Host): boolean => {
    let names = scopeNames.get(scope);
    if (names === undefined) {
      names = new Set(hostsInScope(cluster, scope).map((h) => h.name));
      scopeNames.set(scope, names);
    }
    return names.has(host.name);
  };
  const filesForHost = (host: Host): RenderedFile[] => {
    const files: RenderedFile[] = [];
    for (const row of CA_ROWS) {
      const phase = initPhaseOf(row);
      if (inScope(row.certScope, host)) files.push(cert(`${PATHS.pki}/${row.base}.crt`, required(statePaths.caCert(row.name)), { component: row.certComponent, phase }));
      const key = get(statePaths.caKey(row.name)); // absent for an external CA
      if (key !== undefined && inScope(row.keyScope, host)) files.push(secret(`${PATHS.pki}/${row.base}.key`, key, { component: row.keyComponent, phase }));
    }
    if (inScope(SA_ROW.scope, host)) {
      const owner = { component: SA_ROW.component, phase: initPhaseOf(SA_ROW) };
      files.push(secret(`${PATHS.pki}/sa.key`, required(statePaths.saKey), owner), cert(`${PATHS.pki}/sa.pub`, required(statePaths.saPub), owner));
    }
    for (const row of LEAF_ROWS) {
      if (!inScope(row.scope, host)) continue;
      const owner = { component: row.component, phase: initPhaseOf(row) };
      files.push(cert(`${PATHS.pki}/${row.base}.crt`, required(statePaths.leafCert(host.name, row)), owner));
      files.push(secret(`${PATHS.pki}/${row.base}.key`, required(statePaths.leafKey(host.name, row)), owner));
    }
    for (const row of KUBECONFIG_ROWS) {
      if (inScope(row.scope, host)) files.push(secret(`${PATHS.kubernetesDir}/${row.name}`, required(statePaths.kubeconfig(host.name, row)), { component: row.component, phase: initPhaseOf(row) }));
    }
    return files.sort(byPath);
  };
  return {
    caCertPem: required(statePaths.caCert('ca')),
    frontProxyCaCertPem: required(statePaths.caCert('front-proxy-ca')),
    etcdCaCertPem: required(statePaths.caCert('etcd/ca')),
    filesForHost,
    actions,
  };
}
