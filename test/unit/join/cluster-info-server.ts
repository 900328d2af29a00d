/**
 * A local HTTPS server (127.0.0.1, ephemeral port) playing the parts of an API server that discovery
 * touches: anonymous GET of kube-public/cluster-info, the bootstrap signer (a signature per token
 * that has not expired, computed here with node:crypto HMAC independently of src/kube/jws.ts),
 * and bootstrap-token authentication (401 for an unknown or expired bearer token).
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsFixture } from './tls-fixture.js';

export interface ServedToken {
  id: string;
  secret: string;
  expires: Date;
}

export interface ClusterInfoServer {
  endpoint: string;
  requests: Array<{ path: string; authorization?: string }>;
  /** Replace the served signature for a token id (tampering), or keep stale ones for expired tokens. */
  overrideSignature: Map<string, string>;
  close(): Promise<void>;
}

export function jwsByHand(content: string, id: string, secret: string): string {
  const key = Buffer.alloc(32);
  Buffer.from(secret).copy(key);
  const header = Buffer.from(`{"alg":"HS256","kid":"${id}"}`).toString('base64url');
  const payload = Buffer.from(content).toString('base64url');
  const mac = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}..${mac}`;
}

export async function startClusterInfoServer(tls: TlsFixture, kubeconfig: string, tokens: ServedToken[], now: () => Date = () => new Date()): Promise<ClusterInfoServer> {
  const requests: ClusterInfoServer['requests'] = [];
  const overrideSignature = new Map<string, string>();
  const valid = (t: ServedToken) => t.expires.getTime() > now().getTime();
  const server: Server = createServer({ cert: tls.serverCertPem, key: tls.serverKeyPem }, (req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && !tokens.some((t) => `${t.id}.${t.secret}` === bearer && valid(t))) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"kind":"Status","status":"Failure","reason":"Unauthorized","code":401}');
      return;
    }
    if (req.method !== 'GET' || req.url !== '/api/v1/namespaces/kube-public/configmaps/cluster-info') {
      res.writeHead(404).end();
      return;
    }
    const data: Record<string, string> = { kubeconfig };
    for (const t of tokens) if (valid(t)) data[`jws-kubeconfig-${t.id}`] = jwsByHand(kubeconfig, t.id, t.secret);
    for (const [id, sig] of overrideSignature) data[`jws-kubeconfig-${id}`] = sig;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `127.0.0.1:${port}`,
    requests,
    overrideSignature,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
