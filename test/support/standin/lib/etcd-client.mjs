// The apiserver stand-in's storage: the real etcd cluster from --etcd-servers, through etcd's v3
// JSON gateway over TLS with the apiserver's etcd client certificate. A broken certificate or a
// lost quorum therefore breaks the API exactly as it breaks a real apiserver.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const REQUEST_TIMEOUT_MS = 3_000;
const b64 = (text) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text) => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The end of etcd's range for every key starting with `prefix`. */
function prefixEnd(prefix) {
  const bytes = Buffer.from(prefix, 'utf8');
  bytes[bytes.length - 1] += 1;
  return bytes.toString('base64');
}

export class EtcdClient {
  /** @param servers URLs from --etcd-servers; @param tls { ca, cert, key } file paths */
  constructor(servers, tls) {
    this.servers = servers;
    this.tls = tls;
  }

  credentials() {
    return { ca: readFileSync(this.tls.ca), cert: readFileSync(this.tls.cert), key: readFileSync(this.tls.key) };
  }

  call(server, method, path, body) {
    const url = new URL(path, server);
    return new Promise((resolve, reject) => {
      let creds;
      try {
        creds = this.credentials();
      } catch (error) {
        reject(new Error(`etcd client credentials: ${error.message}`));
        return;
      }
      const req = request(url, { method, ...creds, timeout: REQUEST_TIMEOUT_MS, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${server}${path}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`))));
      });
      req.on('timeout', () => req.destroy(new Error(`${server}${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (error) => reject(new Error(`${server}: ${error.message}`)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** First server that answers; the error lists every server's failure. */
  async anyServer(method, path, body) {
    const errors = [];
    for (const server of this.servers) {
      try {
        return JSON.parse(await this.call(server, method, path, body));
      } catch (error) {
        errors.push(error.message);
      }
    }
    throw new Error(errors.join('; '));
  }

  /** /health of every server: { ok, detail } where ok means at least one reports health true. */
  async health() {
    const details = await Promise.all(
      this.servers.map(async (server) => {
        try {
          const body = JSON.parse(await this.call(server, 'GET', '/health'));
          return { server, healthy: body.health === 'true', seen: JSON.stringify(body) };
        } catch (error) {
          return { server, healthy: false, seen: error.message };
        }
      }),
    );
    return { ok: details.some((d) => d.healthy), detail: details };
  }

  async get(key) {
    const body = await this.anyServer('POST', '/v3/kv/range', { key: b64(key) });
    const kv = body.kvs?.[0];
    return kv ? { value: JSON.parse(unb64(kv.value)), revision: kv.mod_revision } : undefined;
  }

  async list(prefix) {
    const body = await this.anyServer('POST', '/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
    return { items: (body.kvs ?? []).map((kv) => ({ value: JSON.parse(unb64(kv.value)), revision: kv.mod_revision })), revision: body.header?.revision };
  }

  /** Creates the key only if it does not exist; undefined when it already did. */
  async create(key, value) {
    const body = await this.anyServer('POST', '/v3/kv/txn', {
      compare: [{ target: 'CREATE', key: b64(key), create_revision: '0', result: 'EQUAL' }],
      success: [{ request_put: { key: b64(key), value: b64(JSON.stringify(value)) } }],
    });
    return body.succeeded ? body.header.revision : undefined;
  }

  async put(key, value) {
    const body = await this.anyServer('POST', '/v3/kv/put', { key: b64(key), value: b64(JSON.stringify(value)) });
    return body.header.revision;
  }

  async delete(key) {
    const body = await this.anyServer('POST', '/v3/kv/deleterange', { key: b64(key) });
    return Number(body.deleted ?? 0) > 0;
  }
}
