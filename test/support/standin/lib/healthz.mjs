// /healthz servers: kube-controller-manager (10257) and kube-scheduler (10259) over HTTPS with a
// self-signed certificate, as the real ones make for themselves, healthy only while their
// kubeconfig exists and parses; the kubelet's plain-HTTP /healthz on 10248 while its config does.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { log } from './log.mjs';
import { flag } from './manifest.mjs';

/** Why a YAML file cannot serve as this component's config, or undefined when it can. */
export function configProblem(file, requiredKeys) {
  if (!existsSync(file)) return `${file} does not exist`;
  try {
    const doc = yaml.load(readFileSync(file, 'utf8'));
    const missing = requiredKeys.filter((key) => doc?.[key] === undefined);
    return missing.length ? `${file} has no ${missing.join(', ')}` : undefined;
  } catch (error) {
    return `${file} does not parse: ${error.message}`;
  }
}

/** A self-signed serving certificate (made once per component and kept in the state dir). */
function selfSigned(stateDir, component) {
  const cert = join(stateDir, `${component}-serving.crt`);
  const key = join(stateDir, `${component}-serving.key`);
  if (!existsSync(cert) || !existsSync(key)) {
    const result = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365', '-subj', `/CN=localhost@${Math.floor(Date.now() / 1000)}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8', timeout: 20_000 });
    if (result.status !== 0) throw new Error(`openssl could not make the ${component} self-signed certificate: ${result.stderr}`);
  }
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

function close(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

class HealthzPod {
  constructor({ name, status }) {
    Object.assign(this, { name, status });
    this.server = undefined;
  }

  answer(req, res) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const problem = this.problem();
    if (problem) log(`${this.name}: /healthz failing: ${problem}`);
    res.writeHead(problem ? 500 : 200, { 'content-type': 'text/plain; charset=utf-8' }).end(problem ? `[-]config failed: ${problem}\nhealthz check failed\n` : 'ok');
  }

  async stop() {
    if (this.server) await close(this.server);
    this.server = undefined;
    this.status.set(this.name, { state: 'stopped', pid: undefined });
  }

  killNow() {
    this.server?.close();
  }
}

/** kube-controller-manager or kube-scheduler from its manifest argv. */
export class ComponentHealthzPod extends HealthzPod {
  constructor({ name, argv, file, stateDir, status, defaultPort }) {
    super({ name, status });
    Object.assign(this, { argv, file, stateDir, defaultPort });
    this.kubeconfig = flag(argv, 'kubeconfig');
  }

  problem() {
    if (!this.kubeconfig) return `${this.file} has no --kubeconfig`;
    return configProblem(this.kubeconfig, ['clusters', 'users', 'contexts']);
  }

  async start() {
    const certFile = flag(this.argv, 'tls-cert-file');
    const keyFile = flag(this.argv, 'tls-private-key-file');
    const tls = certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : selfSigned(this.stateDir, this.name);
    const port = Number(flag(this.argv, 'secure-port') ?? this.defaultPort);
    const bind = flag(this.argv, 'bind-address') ?? '0.0.0.0';
    const server = createHttpsServer(tls, (req, res) => this.answer(req, res));
    await listen(server, port, bind);
    this.server = server;
    this.status.set(this.name, { state: 'running', pid: process.pid, listen: `${bind}:${port}`, error: undefined });
    log(`${this.name}: /healthz on https://${bind}:${port} (kubeconfig ${this.kubeconfig})`);
  }
}

/** The kubelet's own /healthz, served while /var/lib/kubelet/config.yaml exists and parses. */
export class KubeletHealthzPod extends HealthzPod {
  constructor({ configFile, status }) {
    super({ name: 'kubelet', status });
    this.configFile = configFile;
  }

  problem() {
    return configProblem(this.configFile, ['kind']);
  }

  async start() {
    const config = yaml.load(readFileSync(this.configFile, 'utf8')) ?? {};
    const port = Number(config.healthzPort ?? 10248);
    const bind = config.healthzBindAddress ?? '127.0.0.1';
    const server = createHttpServer((req, res) => this.answer(req, res));
    await listen(server, port, bind);
    this.server = server;
    this.status.set(this.name, { state: 'running', pid: process.pid, listen: `${bind}:${port}`, error: undefined });
    log(`kubelet: /healthz on http://${bind}:${port}`);
  }
}
