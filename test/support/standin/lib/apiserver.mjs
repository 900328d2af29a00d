// kube-apiserver played by an HTTPS server with the manifest's serving certificate, x509 client
// authentication against --client-ca-file, bootstrap-token authentication, RBAC, health checks that
// really ask etcd, and the API kbuild's phases use, stored in the real etcd. Every request is
// recorded (method, path, user, status) in api-requests.jsonl.
import { Buffer } from 'node:buffer';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { discovery, findResource } from './api-resources.mjs';
import { ApiError, ApiObjects, statusBody } from './api-objects.mjs';
import { EtcdClient } from './etcd-client.mjs';
import { log, writeJsonAtomic } from './log.mjs';
import { requireFlag, flag } from './manifest.mjs';
import { authorize } from './rbac.mjs';

const HEALTH_PATHS = new Set(['/readyz', '/livez', '/healthz']);
const MAX_BODY = 4 * 1024 * 1024;

/** One user as the apiserver sees it, or an Error for a credential it rejects (401). */
async function authenticate(req, objects) {
  const cert = req.socket.getPeerCertificate();
  if (cert && Object.keys(cert).length > 0) {
    if (!req.socket.authorized) return new Error(`client certificate rejected: ${req.socket.authorizationError}`);
    const groups = [cert.subject.O ?? []].flat();
    return { name: cert.subject.CN, groups: [...groups, 'system:authenticated'], via: 'x509' };
  }
  const bearer = /^Bearer\s+([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(req.headers.authorization ?? '');
  if (bearer) {
    const secret = (await objects.objects('secrets', 'kube-system')).find((s) => s.metadata.name === `bootstrap-token-${bearer[1]}`);
    const data = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    const expired = data.expiration !== undefined && Date.parse(data.expiration) < Date.now();
    if (secret?.type !== 'bootstrap.kubernetes.io/token' || data['token-secret'] !== bearer[2] || data['usage-bootstrap-authentication'] !== 'true' || expired) return new Error('invalid bootstrap token');
    const extra = (data['auth-extra-groups'] ?? '').split(',').filter(Boolean);
    return { name: `system:bootstrap:${bearer[1]}`, groups: ['system:bootstrappers', ...extra, 'system:authenticated'], via: 'bootstrap-token' };
  }
  if (req.headers.authorization) return new Error('unsupported Authorization header');
  return { name: 'system:anonymous', groups: ['system:unauthenticated'], via: 'anonymous' };
}

/** The resource a path names, or undefined: /api/v1/..., /apis/<group>/<version>/... */
function parseResourcePath(path) {
  const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  let group, version, rest;
  if (parts[0] === 'api' && parts.length >= 3) [group, version, rest] = ['', parts[1], parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
  else return undefined;
  let namespace;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const r = findResource(group, version, rest[0]);
  if (!r || rest.length > 2 || (namespace !== undefined && !r.namespaced)) return { unknown: true };
  return { r, namespace, name: rest[1] };
}

const VERB = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export class ApiServerPod {
  constructor({ argv, file, stateDir, status, kubernetesVersion }) {
    Object.assign(this, { argv, file, stateDir, status, kubernetesVersion });
    this.servers = [];
    this.requestsFile = join(stateDir, 'api-requests.jsonl');
    this.objectsFile = join(stateDir, 'api-objects.json');
  }

  async start() {
    const argv = this.argv;
    const etcdServers = requireFlag(argv, 'etcd-servers', this.file).split(',');
    const etcd = new EtcdClient(etcdServers, { ca: requireFlag(argv, 'etcd-cafile', this.file), cert: requireFlag(argv, 'etcd-certfile', this.file), key: requireFlag(argv, 'etcd-keyfile', this.file) });
    this.etcd = etcd;
    this.objects = new ApiObjects(etcd, () => this.dumpObjects());
    const tls = {
      cert: readFileSync(requireFlag(argv, 'tls-cert-file', this.file)),
      key: readFileSync(requireFlag(argv, 'tls-private-key-file', this.file)),
      ca: readFileSync(requireFlag(argv, 'client-ca-file', this.file)),
      requestCert: true,
      rejectUnauthorized: false,
    };
    const port = Number(flag(argv, 'secure-port') ?? 6443);
    const advertise = requireFlag(argv, 'advertise-address', this.file);
    const bind = flag(argv, 'bind-address') ?? (advertise.includes(':') ? '::' : '0.0.0.0');
    const server = createServer(tls, (req, res) => void this.handle(req, res));
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, bind, () => resolve());
    });
    this.servers.push(server);
    this.status.set('kube-apiserver', { state: 'running', pid: process.pid, listen: `${bind}:${port}`, etcdServers, error: undefined });
    log(`kube-apiserver: serving on ${bind}:${port}, etcd ${etcdServers.join(',')}`);
  }

  async stop() {
    await Promise.all(this.servers.map((s) => new Promise((resolve) => { s.close(() => resolve()); s.closeAllConnections(); })));
    this.servers = [];
    this.status.set('kube-apiserver', { state: 'stopped', pid: undefined });
  }

  killNow() {
    for (const s of this.servers) s.close();
  }

  async dumpObjects() {
    try {
      writeJsonAtomic(this.objectsFile, await this.objects.all());
    } catch (error) {
      log(`kube-apiserver: could not write ${this.objectsFile}: ${error.message}`);
    }
  }

  async readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'request body too large');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      // JSON is YAML; apply-patch bodies may be either.
      return (req.headers['content-type'] ?? '').includes('yaml') ? yaml.load(text) : JSON.parse(text);
    } catch (error) {
      throw new ApiError(400, 'BadRequest', `the request body does not parse: ${error.message}`);
    }
  }

  async handle(req, res) {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const record = { time: new Date().toISOString(), method: req.method, path: url.pathname, query: url.search.slice(1) || undefined, contentType: req.headers['content-type'] };
    const send = (code, body, type = 'application/json') => {
      record.status = code;
      appendFileSync(this.requestsFile, `${JSON.stringify(record)}\n`);
      res.writeHead(code, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      const user = await this.authenticateSafely(req);
      if (user instanceof Error) return send(401, statusBody(401, 'Unauthorized', 'Unauthorized'));
      Object.assign(record, { user: user.name, groups: user.groups, authenticatedBy: user.via });
      const path = url.pathname;
      const resource = parseResourcePath(path);
      if (!resource) {
        const attrs = { verb: 'get', nonResourcePath: path };
        if (HEALTH_PATHS.has(path)) return await this.health(path, url, (code, text) => send(code, text, 'text/plain; charset=utf-8'));
        if (!(await this.allowed(user, attrs))) return send(403, statusBody(403, 'Forbidden', `forbidden: User "${user.name}" cannot get path "${path}"`));
        if (path === '/version') return send(200, this.version());
        const doc = discovery(path);
        return doc ? send(200, doc) : send(404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
      }
      if (resource.unknown) return send(404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
      const { r, namespace, name } = resource;
      const verb = req.method === 'GET' && name === undefined ? 'list' : VERB[req.method];
      if (!verb) return send(405, statusBody(405, 'MethodNotAllowed', `method ${req.method} is not allowed`));
      const attrs = { verb, group: r.group, resource: r.name, namespace, name };
      if (!(await this.allowed(user, attrs))) {
        const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
        return send(403, statusBody(403, 'Forbidden', `${r.name}${r.group ? `.${r.group}` : ''}${name ? ` "${name}"` : ''} is forbidden: User "${user.name}" cannot ${verb} resource "${r.name}" in API group "${r.group}"${where}`));
      }
      if (r.namespaced && namespace === undefined && verb !== 'list') return send(404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
      const body = ['POST', 'PUT', 'PATCH'].includes(req.method) ? await this.readBody(req) : undefined;
      if (verb === 'list') return send(200, await this.objects.list(r, namespace, url.searchParams.get('labelSelector') ?? undefined));
      if (verb === 'get') return send(200, await this.objects.get(r, namespace, name));
      if (verb === 'create') {
        if (name !== undefined) return send(405, statusBody(405, 'MethodNotAllowed', 'POST to a named object is not allowed'));
        return send(201, await this.objects.create(r, namespace, body));
      }
      if (name === undefined) return send(405, statusBody(405, 'MethodNotAllowed', `${req.method} needs an object name`));
      if (verb === 'update') return send(200, await this.objects.replace(r, namespace, name, body));
      if (verb === 'patch') {
        const { created, object } = await this.objects.patch(r, namespace, name, req.headers['content-type'], body);
        return send(created ? 201 : 200, object);
      }
      return send(200, await this.objects.delete(r, namespace, name));
    } catch (error) {
      if (error instanceof ApiError) return send(error.code, statusBody(error.code, error.reason, error.message));
      log(`kube-apiserver: ${req.method} ${url.pathname}: ${error.message}`);
      return send(500, statusBody(500, 'InternalError', `Internal error occurred: ${error.message}`));
    }
  }

  async authenticateSafely(req) {
    // Bootstrap tokens live in etcd: with etcd down, token users cannot be authenticated (401).
    try {
      return await authenticate(req, this.objects);
    } catch (error) {
      return new Error(error.message);
    }
  }

  allowed(user, attrs) {
    return authorize((resourceName, namespace) => this.objects.objects(resourceName, namespace), user, attrs);
  }

  version() {
    const match = /^v?(\d+)\.(\d+)/.exec(this.kubernetesVersion) ?? [];
    return { major: match[1] ?? '', minor: match[2] ?? '', gitVersion: this.kubernetesVersion, platform: 'linux/amd64' };
  }

  /** /readyz, /livez, /healthz: ok only when etcd answers /health true with our client certificate. */
  async health(path, url, send) {
    const etcd = await this.etcd.health();
    if (etcd.ok) {
      // The default namespaces exist as soon as the apiserver is ready, as with the real bootstrap controller.
      if (!this.namespacesEnsured) {
        try {
          await this.objects.ensureDefaultNamespaces();
          this.namespacesEnsured = true;
          await this.dumpObjects();
        } catch (error) {
          log(`kube-apiserver: default namespaces: ${error.message}`);
        }
      }
    }
    const verbose = url.searchParams.has('verbose');
    if (etcd.ok) return send(200, verbose ? `[+]ping ok\n[+]etcd ok\n${path.slice(1)} check passed\n` : 'ok');
    log(`kube-apiserver: ${path}: etcd not healthy: ${etcd.detail.map((d) => `${d.server}: ${d.seen}`).join('; ')}`);
    return send(500, `[+]ping ok\n[-]etcd failed: reason withheld\n${path.slice(1)} check failed\n`);
  }
}
