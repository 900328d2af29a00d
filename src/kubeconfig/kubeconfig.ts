/** kubeconfig files in kubeadm's layout: cluster `<clusterName>` (kubeadm's default `kubernetes`), user = CN, context `<user>@<clusterName>`. */
import yaml from 'js-yaml';
import { CLUSTER_NAME } from '../kubeadm/constants.js';

export interface KubeconfigSpec {
  server: string;
  caCertPem: string;
  user: string;
  /** Client certificate auth (embedded, as kubeadm writes them). */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Bearer/bootstrap token auth (bootstrap-kubelet.conf). */
  token?: string;
  /** Cluster entry name; kubeadm's cluster-info uses "". */
  clusterName?: string;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

export function kubeconfigObject(spec: KubeconfigSpec): Record<string, unknown> {
  const cluster = spec.clusterName ?? CLUSTER_NAME;
  const context = `${spec.user}@${cluster}`;
  const user: Record<string, string> = {};
  if (spec.clientCertPem !== undefined) user['client-certificate-data'] = b64(spec.clientCertPem);
  if (spec.clientKeyPem !== undefined) user['client-key-data'] = b64(spec.clientKeyPem);
  if (spec.token !== undefined) user.token = spec.token;
  return {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(spec.caCertPem), server: spec.server }, name: cluster }],
    contexts: [{ context: { cluster, user: spec.user }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [{ name: spec.user, user }],
  };
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  return yaml.dump(kubeconfigObject(spec), { lineWidth: -1, noRefs: true });
}

/** The `kubeconfig` value of kube-public/cluster-info: one cluster named "", no users or contexts. */
export function renderClusterInfoKubeconfig(server: string, caCertPem: string): string {
  return yaml.dump(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': b64(caCertPem), server }, name: '' }],
      contexts: null,
      'current-context': '',
      kind: 'Config',
      preferences: {},
      users: null,
    },
    { lineWidth: -1, noRefs: true },
  );
}

export interface ParsedKubeconfig {
  server: string;
  caCertPem: string;
  user: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  /** The current context's cluster entry name. */
  clusterName: string;
}

/** Reads back a kubeconfig in the layout above (current context's cluster and user). */
export function parseKubeconfig(text: string): ParsedKubeconfig {
  type Named<T> = { name: string } & T;
  const doc = yaml.load(text) as {
    clusters?: Named<{ cluster: Record<string, string> }>[];
    contexts?: Named<{ context: { cluster: string; user: string } }>[];
    users?: Named<{ user: Record<string, string> }>[];
    'current-context'?: string;
  };
  const context = doc.contexts?.find((c) => c.name === doc['current-context'])?.context;
  const cluster = doc.clusters?.find((c) => c.name === context?.cluster)?.cluster ?? doc.clusters?.[0]?.cluster;
  const user = doc.users?.find((u) => u.name === context?.user);
  if (!cluster) throw new Error('kubeconfig has no cluster');
  const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));
  return {
    server: cluster.server ?? '',
    caCertPem: unb64(cluster['certificate-authority-data']) ?? '',
    user: user?.name ?? '',
    clientCertPem: unb64(user?.user['client-certificate-data']),
    clientKeyPem: unb64(user?.user['client-key-data']),
    token: user?.user.token,
    clusterName: doc.clusters?.find((c) => c.name === context?.cluster)?.name ?? doc.clusters?.[0]?.name ?? '',
  };
}
