/**
 * A local HTTPS API server (127.0.0.1, ephemeral port) for `kbuild join`: anonymous cluster-info with
 * a signature per valid token (HMAC by hand, as cluster-info-server.ts), and for a valid bearer
 * bootstrap token the reads a joining node makes: /api/v1 discovery, kube-system ConfigMaps
 * (kubeadm-config, kubelet-config) and Nodes (404 unless given). Every request is recorded.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwsByHand, type ServedToken } from './cluster-info-server.js';
import type { TlsFixture } from './tls-fixture.js';

export interface JoinApiServer {
  endpoint: string;
  requests: Array<{ method: string; path: string; bearer?: string }>;
  overrideSignature: Map<string, string>;
  close(): Promise<void>;
}

const status = (code: number, reason: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });

/** `kubeconfigFor` gets the server's own https URL, so cluster-info points back at it. */
export async function startJoinApiServer(tls: TlsFixture, kubeconfigFor: (url: string) => string, tokens: ServedToken[], configMaps: Record<string, Record<string, string>>): Promise<JoinApiServer> {
  const requests: JoinApiServer['requests'] = [];
  const overrideSignature = new Map<string, string>();
  let kubeconfig = '';
  const valid = (t: ServedToken) => t.expires.getTime() > Date.now();
  const server: Server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    requests.push({ method: req.method ?? '', path, bearer });
    const json = (code: number, body: string) => res.writeHead(code, { 'Content-Type': 'application/json' }).end(body);
    if (bearer !== undefined && !tokens.some((t) => `${t.id}.${t.secret}` === bearer && valid(t))) return json(401, status(401, 'Unauthorized'));
    if (req.method !== 'GET') return json(405, status(405, 'MethodNotAllowed'));
    if (path === '/api/v1/namespaces/kube-public/configmaps/cluster-info') {
      const data: Record<string, string> = { kubeconfig };
      for (const t of tokens) if (valid(t)) data[`jws-kubeconfig-${t.id}`] = jwsByHand(kubeconfig, t.id, t.secret);
      for (const [id, sig] of overrideSignature) data[`jws-kubeconfig-${id}`] = sig;
      return json(200, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data }));
    }
    if (bearer === undefined) return json(403, status(403, 'Forbidden'));
    if (path === '/api/v1') {
      const resource = (name: string, kind: string, namespaced: boolean) => ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['get'] });
      return json(200, JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [resource('configmaps', 'ConfigMap', true), resource('nodes', 'Node', false), resource('secrets', 'Secret', true)] }));
    }
    const configMap = /^\/api\/v1\/namespaces\/kube-system\/configmaps\/([^/]+)$/.exec(path)?.[1];
    if (configMap && configMaps[configMap]) {
      return json(200, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configMap, namespace: 'kube-system' }, data: configMaps[configMap] }));
    }
    return json(404, status(404, 'NotFound'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kubeconfig = kubeconfigFor(`https://127.0.0.1:${port}`);
  return { endpoint: `127.0.0.1:${port}`, requests, overrideSignature, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
