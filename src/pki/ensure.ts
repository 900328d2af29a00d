/**
 * ensureClusterPki: brings the master copy in the state directory in line with the cluster file.
 * Plan first (what exists, what is valid, why not), then generate every missing key at once
 * (concurrently), sign, and write only what changed. The CA is never overwritten.
 */
import type { Cluster, Host } from '../config/model.js';
import { PkiError } from '../errors/index.js';
import { caPlan, type CaState } from './ca.js';
import { evaluateCertificate, evaluateKubeconfig, type Expected, type Verdict } from './evaluate.js';
import { issueCertificate, randomSerial, signerOf, validity, type Signer } from './issue.js';
import { importPrivateKeyPem, publicKeyPem, webCryptoKeySource, type KeyPair, type KeySource } from './keys.js';
import { statePaths } from './layout.js';
import { buildClusterPki } from './cluster-pki.js';
import { altNamesFor } from './sans.js';
import { selectRenewable } from './renew.js';
import { CA_ROWS, KUBECONFIG_ROWS, LEAF_ROWS, SA_ROW, hostsInScope, organizationOf, type CaName, type KubeconfigRow, type LeafRow } from './table.js';
import { kubeconfigServer } from './servers.js';
import { renderKubeconfig } from '../kubeconfig/kubeconfig.js';
import type { ClusterPki, PkiAction, PkiStore } from './types.js';

export interface PkiOptions {
  /** The run's start time; every certificate of the run is dated from it. */
  now?: () => Date;
  keySource?: KeySource;
  serial?: () => bigint;
  /**
   * `certs renew`: re-issue these valid items anyway (fresh key, same identity), by renewable name
   * (`all`, `apiserver`, `etcd-server`, `admin.conf`...). CAs, sa and kubelet.conf are never renewed.
   */
  renew?: readonly string[];
}

interface Item {
  row: LeafRow | KubeconfigRow;
  host: Host;
  expected: Expected;
  verdict: Verdict;
}

export async function ensureClusterPki(cluster: Cluster, state: PkiStore, options: PkiOptions = {}): Promise<ClusterPki> {
  const start = options.now?.() ?? new Date();
  const keySource = options.keySource ?? webCryptoKeySource;
  const serial = options.serial ?? randomSerial;
  const algorithm = cluster.certificates.encryptionAlgorithm;
  const contents = new Map<string, string>();
  const writes: Array<{ path: string; content: string; mode: number }> = [];
  const read = async (path: string) => {
    const text = await state.read(path);
    if (text !== undefined) contents.set(path, text);
    return text;
  };
  const put = (path: string, content: string, mode: number) => {
    contents.set(path, content);
    writes.push({ path, content, mode });
  };

  // 1. Plan: CAs, sa, then every leaf and kubeconfig.
  const cas = new Map<CaName, CaState>();
  for (const row of CA_ROWS) cas.set(row.name, await caPlan(row, await read(statePaths.caCert(row.name)), await read(statePaths.caKey(row.name)), start));
  const saKeyPem = await read(statePaths.saKey);
  const saPubPem = await read(statePaths.saPub);

  const renewing = new Set(options.renew ? selectRenewable(options.renew).map((r) => r.name) : []);
  const items: Item[] = [];
  for (const row of [...LEAF_ROWS, ...KUBECONFIG_ROWS]) {
    const ca = cas.get(row.ca)!;
    for (const host of hostsInScope(cluster, row.scope)) {
      const expected: Expected = {
        subject: { cn: row.cn(host), o: organizationOf(row, cluster) },
        usages: row.kind === 'leaf' ? row.usages : ['clientAuth'],
        altNames: row.kind === 'leaf' ? altNamesFor(row.sans, cluster, host) : { dns: [], ips: [] },
        caName: row.ca,
        caCertPem: ca.certPem ?? '',
        algorithm: ca.mode === 'external' ? undefined : algorithm,
        now: start,
      };
      let verdict: Verdict;
      if (ca.mode === 'create') {
        const exists = row.kind === 'leaf' ? await read(statePaths.leafCert(host.name, row)) : await read(statePaths.kubeconfig(host.name, row));
        verdict = exists === undefined ? { status: 'missing', what: 'certificate' } : { status: 'stale', reason: `its CA ${row.ca} is new in this run` };
      } else if (row.kind === 'leaf') {
        const where = statePaths.leafCert(host.name, row);
        verdict = evaluateCertificate(await read(where), await read(statePaths.leafKey(host.name, row)), expected, state.path(where));
      } else {
        const where = statePaths.kubeconfig(host.name, row);
        verdict = evaluateKubeconfig(await read(where), kubeconfigServer(cluster, host, row), cluster.clusterName, expected, state.path(where));
      }
      if (verdict.status === 'valid' && ca.mode === 'reuse' && renewing.has(row.phase)) verdict = { status: 'stale', reason: 'renewal requested' };
      items.push({ row, host, expected, verdict });
    }
  }
  rejectInvalidExternal(items, cas, state);

  // 2. Keys: everything new at once, so generation runs in parallel on the thread pool; each
  // certificate is signed as soon as its key (and its CA) exist, overlapping signing with generation.
  const newCas = CA_ROWS.filter((r) => cas.get(r.name)!.mode === 'create');
  const toIssue = items.filter((i) => i.verdict.status !== 'valid');
  const caKeys = newCas.map(() => keySource.generate(algorithm));
  const saKeyPending = saKeyPem === undefined ? keySource.generate(algorithm) : undefined;
  const leafKeys = toIssue.map(() => keySource.generate(algorithm));
  // Awaited below; a failure surfaces there, not as an unhandled rejection while others are awaited.
  for (const pending of [...caKeys, ...leafKeys, ...(saKeyPending ? [saKeyPending] : [])]) pending.catch(() => undefined);

  // 3. Sign: CAs first, then everything they sign.
  const actions: PkiAction[] = [];
  const signers = new Map<CaName, Signer>();
  const newCaCerts = await Promise.all(
    newCas.map(async (row, index) => {
      const key = await caKeys[index]!;
      const certPem = await issueCertificate(
        { subject: { cn: row.cn }, isCa: true, usages: [], altNames: { dns: [row.cn], ips: [] }, serial: serial(), ...validity(start, cluster.certificates.caValidityDays) },
        key,
      );
      return { certPem, key };
    }),
  );
  for (const row of CA_ROWS) {
    const ca = cas.get(row.name)!;
    if (ca.mode === 'create') {
      const { certPem, key } = newCaCerts[newCas.indexOf(row)]!;
      ca.certPem = certPem;
      put(statePaths.caCert(row.name), certPem, 0o644);
      put(statePaths.caKey(row.name), key.privateKeyPem, 0o600);
      signers.set(row.name, signerOf(certPem, key));
      actions.push({ name: row.name, outcome: 'created' });
    } else {
      if (ca.key) signers.set(row.name, signerOf(ca.certPem!, ca.key));
      actions.push({ name: row.name, outcome: ca.mode === 'external' ? 'external' : 'reused' });
    }
  }

  const issued = await Promise.all(
    toIssue.map(async (item, index) => {
      const signer = signers.get(item.row.ca)!;
      const key: KeyPair = await leafKeys[index]!;
      const { subject, usages, altNames } = item.expected;
      const spec = { subject, usages, altNames, isCa: false, serial: serial(), ...validity(start, cluster.certificates.validityDays) };
      const certPem = await issueCertificate(spec, key, signer);
      return { item, certPem, key };
    }),
  );
  const saKey = await saKeyPending;
  if (saKey) {
    put(statePaths.saKey, saKey.privateKeyPem, 0o600);
    put(statePaths.saPub, publicKeyPem(saKey.privateKeyPem), 0o644);
    actions.push({ name: SA_ROW.name, outcome: 'created' });
  } else {
    await importPrivateKeyPem(saKeyPem!, state.path(statePaths.saKey)); // fail early on a broken key
    if (saPubPem === undefined) put(statePaths.saPub, publicKeyPem(saKeyPem!), 0o644);
    actions.push({ name: SA_ROW.name, outcome: 'reused' });
  }
  const byItem = new Map(issued.map((i) => [i.item, i]));
  for (const item of items) {
    const { row, host, verdict } = item;
    const done = byItem.get(item);
    if (done) {
      if (row.kind === 'leaf') {
        put(statePaths.leafCert(host.name, row), done.certPem, 0o644);
        put(statePaths.leafKey(host.name, row), done.key.privateKeyPem, 0o600);
      } else {
        const server = kubeconfigServer(cluster, host, row);
        const text = renderKubeconfig({ server, caCertPem: cas.get('ca')!.certPem!, user: item.expected.subject.cn, clientCertPem: done.certPem, clientKeyPem: done.key.privateKeyPem, clusterName: cluster.clusterName });
        put(statePaths.kubeconfig(host.name, row), text, 0o600);
      }
    }
    const outcome = verdict.status === 'valid' ? (cas.get(row.ca)!.mode === 'external' ? 'external' : 'reused') : verdict.status === 'missing' ? 'created' : 're-issued';
    actions.push({ name: row.name, host: host.name, outcome, ...(verdict.status === 'stale' ? { reason: verdict.reason } : {}) });
  }

  // 4. Write: only what changed; a second run with nothing to do writes nothing. As one batch, so
  // the fsyncs overlap and each directory is synced once.
  await state.writeMany(writes);
  return buildClusterPki(cluster, contents, actions);
}

function rejectInvalidExternal(items: readonly Item[], cas: Map<CaName, CaState>, state: PkiStore): void {
  const problems: string[] = [];
  for (const { row, host, verdict } of items) {
    if (cas.get(row.ca)!.mode !== 'external' || verdict.status === 'valid') continue;
    const file = state.path(row.kind === 'leaf' ? statePaths.leafCert(host.name, row) : statePaths.kubeconfig(host.name, row));
    const why = verdict.status === 'missing' ? `is missing` : `cannot be used: ${verdict.reason}`;
    problems.push(`  ${file} ${why}`);
  }
  if (problems.length === 0) return;
  const external = [...cas.entries()].filter(([, c]) => c.mode === 'external').map(([name]) => state.path(statePaths.caCert(name)));
  throw new PkiError(
    `external-CA mode (${external.join(', ')} present without its key): kbuild signs nothing, so these must be provided:\n${problems.join('\n')}\n` +
      'Sign each with your CA as listed in docs/pki.md (same CN, O, SANs and usages) and place certificate and key at those paths, ' +
      'or put the CA key beside its certificate to let kbuild sign them.',
  );
}
