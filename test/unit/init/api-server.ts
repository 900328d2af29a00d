/**
 * A local HTTPS API server for init's API phases (127.0.0.1, ephemeral port): it requires a client
 * certificate chained to the cluster CA, records every request with the caller's CN, serves the
 * discovery documents @kubernetes/client-node reads, stores objects (server-side apply and merge
 * patch), and refuses kubernetes-admin (403) until ClusterRoleBinding kubeadm:cluster-admins exists,
 * as a fresh API server does. super-admin (O=system:masters) is always allowed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

const R = (group: string, name: string, kind: string, namespaced: boolean) => ({ group, name, kind, namespaced });
const RESOURCES = [
  R('', 'configmaps', 'ConfigMap', true),
  R('', 'secrets', 'Secret', true),
  R('', 'serviceaccounts', 'ServiceAccount', true),
  R('', 'services', 'Service', true),
  R('', 'nodes', 'Node', false),
  R('apps', 'daemonsets', 'DaemonSet', true),
  R('apps', 'deployments', 'Deployment', true),
  R('rbac.authorization.k8s.io', 'roles', 'Role', true),
  R('rbac.authorization.k8s.io', 'rolebindings', 'RoleBinding', true),
  R('rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', false),
  R('rbac.authorization.k8s.io', 'clusterrolebindings', 'ClusterRoleBinding', false),
];

export interface RecordedCall {
  method: string;
  path: string;
  user: string;
  contentType?: string;
  status: number;
}

export type Stored = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string; [k: string]: unknown }; [k: string]: unknown };

export interface TestApiServer {
  url: string;
  calls: RecordedCall[];
  objects: Map<string, Stored>;
  close(): Promise<void>;
}

function discovery(path: string): unknown {
  const list = (group: string) => ({
    kind: 'APIResourceList',
    groupVersion: group ? `${group}/v1` : 'v1',
    resources: RESOURCES.filter((r) => r.group === group).map((r) => ({ name: r.name, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch'] })),
  });
  if (path === '/api/v1') return list('');
  const m = /^\/apis\/([^/]+)\/v1$/.exec(path);
  return m ? list(m[1]!) : undefined;
}

export async function startApiServer(tls: { caCertPem: string; certPem: string; keyPem: string }, nodes: string[]): Promise<TestApiServer> {
  const calls: RecordedCall[] = [];
  const objects = new Map<string, Stored>();
  for (const name of nodes) objects.set(`/api/v1/nodes/${name}`, { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: randomUUID(), labels: { 'kubernetes.io/hostname': name } }, spec: {} });
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caCertPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    const user = /CN=([^\n]*)/.exec(peer?.subject ?? '')?.[1] ?? 'anonymous';
    const masters = /O=system:masters/.test(peer?.subject ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
      const send = (status: number, body: unknown) => {
        calls.push({ method: req.method ?? '', path, user, contentType: req.headers['content-type'], status });
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      };
      const status = (code: number, reason: string) => send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message: `${reason}: ${req.method} ${path}`, code });
      const doc = discovery(path);
      if (doc) return send(200, doc);
      if (req.method !== 'GET' && !masters && !objects.has('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins')) return status(403, 'Forbidden');
      const current = objects.get(path);
      if (req.method === 'GET') return current ? send(200, current) : status(404, 'NotFound');
      if (req.method === 'PATCH') {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Stored;
        if (req.headers['content-type'] === 'application/apply-patch+yaml') {
          const stored: Stored = { ...body, metadata: { ...body.metadata, uid: current?.metadata.uid ?? randomUUID() } };
          objects.set(path, stored);
          return send(current ? 200 : 201, stored);
        }
        if (!current) return status(404, 'NotFound');
        const merged = mergePatch(current, body) as Stored;
        objects.set(path, merged);
        return send(200, merged);
      }
      return status(405, 'MethodNotAllowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, objects, close: () => new Promise((r) => server.close(() => r())) };
}

/** RFC 7386. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
