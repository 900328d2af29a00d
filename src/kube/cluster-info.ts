/**
 * kube-public/cluster-info: the ConfigMap init publishes (the cluster's endpoint and CA, signed with
 * the bootstrap token as kube-controller-manager's bootstrap signer does), and kubeadm's
 * bootstrap-token discovery of it on a joining node (discovery/token/token.go):
 *  1. GET kube-public/cluster-info without trusting the server, polling until the signature for our
 *     token id appears (the bootstrap signer adds it a little after the token is created);
 *  2. verify the detached JWS over the exact kubeconfig string with the token secret;
 *  3. require every CA certificate in that kubeconfig to match one of the `sha256:` pins (kubeadm needs
 *     one match; an unpinned certificate beside it would become trusted too, so kbuild refuses it);
 *  4. GET it again over TLS verified with that CA (anonymously, as kubeadm) and require byte-equal content;
 *  5. present the token to the verified server: a 401 means it no longer accepts the token (expired or deleted).
 * The token is only ever sent on a verified connection (step 5), so a man in the middle of step 1 never sees it.
 */
import { request } from 'node:https';
import type { V1ConfigMap } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { endpointUrl, type Cluster } from '../config/model.js';
import { renderClusterInfoKubeconfig } from '../kubeconfig/kubeconfig.js';
import { caCertHash } from '../pki/ca-hash.js';
import { pemCertificates } from '../pki/inspect.js';
import { DiscoveryError, UsageError, describe } from '../errors/index.js';
import { sleep } from '../util/pool.js';
import { computeDetachedSignature, detachedSignatureIsValid, jwsKey } from './jws.js';
import { parseToken } from './token.js';

/** kube-public/cluster-info: one cluster (the endpoint, the CA), readable anonymously. */
export function clusterInfoConfigMap(cluster: Cluster, caCertPem: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cluster-info', namespace: 'kube-public' },
    data: { kubeconfig: renderClusterInfoKubeconfig(endpointUrl(cluster), caCertPem) },
  };
}

/** cluster-info as the bootstrap signer leaves it: the kubeconfig plus a signature for the token. */
export function signedClusterInfo(clusterInfo: V1ConfigMap, tokenId: string, tokenSecret: string): V1ConfigMap {
  const kubeconfig = clusterInfo.data?.kubeconfig ?? '';
  return { ...clusterInfo, data: { ...clusterInfo.data, [jwsKey(tokenId)]: computeDetachedSignature(kubeconfig, tokenId, tokenSecret) } };
}

export const DISCOVERY_TIMEOUT_MS = 5 * 60_000;
export const DISCOVERY_INTERVAL_MS = 5_000;
const CLUSTER_INFO_PATH = '/api/v1/namespaces/kube-public/configmaps/cluster-info';

export interface DiscoveryOptions {
  /** host:port of the API server (as `kbuild join ENDPOINT`). */
  endpoint: string;
  token: string;
  caCertHashes: readonly string[];
  timeoutMs?: number;
  intervalMs?: number;
  now?: () => number;
  delay?: (ms: number) => Promise<void>;
  /** Called on each retry with what was seen (progress output). */
  onRetry?: (seen: string) => void;
}

export interface DiscoveredCluster {
  /** The kubeconfig string from cluster-info, verified. */
  kubeconfig: string;
  server: string;
  caCertPem: string;
}

/** Normalises and checks the pins: sha256:<64 hex>, case-insensitive. */
export function parsePins(pins: readonly string[]): string[] {
  if (pins.length === 0) throw new UsageError('--discovery-token-ca-cert-hash is required: pass sha256:<hash> as printed by `kbuild init` or `kbuild token ca-hash`');
  return pins.map((pin) => {
    const match = /^sha256:([0-9a-f]{64})$/i.exec(pin.trim());
    if (!match) throw new UsageError(`--discovery-token-ca-cert-hash: "${pin}" is not sha256:<64 hex characters>`);
    return `sha256:${match[1]!.toLowerCase()}`;
  });
}

interface HttpAnswer {
  status: number;
  body: string;
}

function get(url: URL, options: { ca?: string; token?: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json', ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}) },
        ...(options.ca ? { ca: options.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

type ConfigMapData = Record<string, string>;

function configMapData(answer: HttpAnswer): ConfigMapData {
  const parsed = JSON.parse(answer.body) as { data?: ConfigMapData };
  return parsed.data ?? {};
}

export async function discoverClusterInfo(options: DiscoveryOptions): Promise<DiscoveredCluster> {
  const token = parseToken(options.token);
  const pins = parsePins(options.caCertHashes);
  const url = new URL(`https://${options.endpoint}${CLUSTER_INFO_PATH}`);
  const now = options.now ?? Date.now;
  const delay = options.delay ?? sleep;
  const timeoutMs = options.timeoutMs ?? DISCOVERY_TIMEOUT_MS;
  const intervalMs = Math.min(options.intervalMs ?? DISCOVERY_INTERVAL_MS, timeoutMs);
  const deadline = now() + timeoutMs;

  // 1. Untrusted fetch, until the signature for our token id is there.
  let insecure: ConfigMapData | undefined;
  let lastProblem: DiscoveryError | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await get(url, {});
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 200)}`);
      const data = configMapData(answer);
      if (data[jwsKey(token.id)]) {
        insecure = data;
        break;
      }
      lastProblem = new DiscoveryError(
        'no-signature',
        `kube-public/cluster-info on ${options.endpoint} has no signature for token id "${token.id}": the token has expired or does not exist on this cluster. Create a new one with \`kbuild token create\` on a control plane`,
      );
    } catch (error) {
      lastProblem = new DiscoveryError('unreachable', `cannot fetch kube-public/cluster-info from https://${options.endpoint}: ${describe(error)}`, { cause: error });
    }
    options.onRetry?.(lastProblem.message);
    if (now() + intervalMs > deadline || attempt > 100_000) throw lastProblem;
    await delay(intervalMs);
  }

  // 2. The signature proves the content comes from someone holding the token.
  const kubeconfig = insecure.kubeconfig ?? '';
  if (kubeconfig === '') throw new DiscoveryError('malformed', 'kube-public/cluster-info has no kubeconfig key: this API server is not set up for token bootstrapping');
  if (!detachedSignatureIsValid(insecure[jwsKey(token.id)]!, kubeconfig, token.id, token.secret)) {
    throw new DiscoveryError('bad-signature', `the JWS signature of kube-public/cluster-info does not verify with token id "${token.id}": cannot trust this API server (wrong token, or the content was tampered with)`);
  }
  const { server, caCertPem } = clusterOf(kubeconfig);

  // 3. The CA must be the one the operator pinned. Every certificate of the bundle, not one of them:
  //    the bundle becomes the node's whole trust (the next fetch, the API client, pki/ca.crt), so an
  //    unpinned one beside the real CA would let whoever signed with a stolen token add its own CA.
  const found = caCertsOf(caCertPem).map(caCertHash);
  if (!found.some((hash) => pins.includes(hash))) {
    throw new DiscoveryError('ca-hash-mismatch', `the cluster CA in kube-public/cluster-info has public key hash ${found.join(', ')}, which matches no --discovery-token-ca-cert-hash (${pins.join(', ')}); check the hash with \`kbuild token ca-hash\` on a control plane`);
  }
  const unpinned = found.filter((hash) => !pins.includes(hash));
  if (unpinned.length > 0) {
    throw new DiscoveryError(
      'unpinned-ca',
      `kube-public/cluster-info on ${options.endpoint} carries ${found.length} CA certificates and ${unpinned.join(', ')} matches no --discovery-token-ca-cert-hash: refusing to trust a certificate nobody pinned (a forged answer signed with a leaked token looks like this). If the cluster really carries several CAs (a CA rotation), pass one --discovery-token-ca-cert-hash per CA`,
    );
  }

  // 4. Again over TLS verified with that CA, anonymously as kubeadm does (cluster-info is readable by
  //    system:anonymous only, so a bootstrap-token user would get 403): the same bytes.
  let secure: HttpAnswer;
  try {
    secure = await get(url, { ca: caCertPem });
  } catch (error) {
    throw new DiscoveryError('unreachable', `second fetch of kube-public/cluster-info over TLS verified with the pinned CA failed: ${describe(error)}`, { cause: error });
  }
  if (secure.status !== 200) throw new DiscoveryError('unreachable', `second fetch of kube-public/cluster-info answered HTTP ${secure.status}: ${secure.body.slice(0, 200)}`);
  if (configMapData(secure).kubeconfig !== kubeconfig) {
    throw new DiscoveryError('content-changed', 'the kubeconfig in kube-public/cluster-info fetched over verified TLS differs from the first copy; refusing to continue');
  }

  // 5. Only now, to the verified server, the token itself: 401 means it expired or was deleted (a stale
  //    signature can outlive it briefly). 403 is fine: authenticated, just not allowed to read this object.
  let authenticated: HttpAnswer;
  try {
    authenticated = await get(url, { ca: caCertPem, token: `${token.id}.${token.secret}` });
  } catch (error) {
    throw new DiscoveryError('unreachable', `checking the token with the verified API server failed: ${describe(error)}`, { cause: error });
  }
  if (authenticated.status === 401) throw new DiscoveryError('token-rejected', `the API server rejected bootstrap token id "${token.id}" (401 Unauthorized): it has expired or was deleted. Create a new one with \`kbuild token create\``);
  return { kubeconfig, server, caCertPem };
}

function clusterOf(kubeconfig: string): { server: string; caCertPem: string } {
  let doc: { clusters?: Array<{ cluster?: Record<string, string> }> };
  try {
    doc = yaml.load(kubeconfig) as typeof doc;
  } catch (error) {
    throw new DiscoveryError('malformed', 'the kubeconfig in kube-public/cluster-info does not parse', { cause: error });
  }
  const clusters = doc?.clusters ?? [];
  if (clusters.length !== 1) throw new DiscoveryError('malformed', `the kubeconfig in kube-public/cluster-info must hold exactly 1 cluster, it holds ${clusters.length}`);
  const cluster = clusters[0]!.cluster ?? {};
  const caData = cluster['certificate-authority-data'];
  if (!cluster.server || !caData) throw new DiscoveryError('malformed', 'the cluster in kube-public/cluster-info lacks server or certificate-authority-data');
  return { server: cluster.server, caCertPem: Buffer.from(caData, 'base64').toString('utf8') };
}

/** Every certificate in a PEM bundle. */
function caCertsOf(bundle: string): string[] {
  const certs = pemCertificates(bundle);
  if (certs.length === 0) throw new DiscoveryError('malformed', 'kube-public/cluster-info carries no CA certificate');
  return certs.map((c) => `${c}\n`);
}
