/**
 * Renewal with kubeadm's semantics (`kubeadm certs renew`) from a host's own files: fresh key, same
 * CN/O/SANs/EKUs, new serial, signed by the CA found beside them; kubeconfig client data replaced in
 * place. CAs, kubelet.conf and sa are never touched; certificates whose CA key is absent are skipped
 * as externally managed. Pure: it works on the files read (host-files.ts) and returns the new
 * contents; the operation backs the old ones up and writes these.
 */
import yaml from 'js-yaml';
import { PkiError, UsageError } from '../errors/index.js';
import { STATIC_POD_OF, type StaticPod } from '../kubeadm/files.js';
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import { hostFilePath, type HostPkiDirs, type HostPkiFiles } from './host-files.js';
import { readCertificate } from './inspect.js';
import { issueCertificate, randomSerial, signerOf, validity, type Signer } from './issue.js';
import { importPrivateKeyPem, webCryptoKeySource, type KeySource } from './keys.js';
import { KUBECONFIG_ROWS, LEAF_ROWS, caRow, type CaName, type KubeconfigRow, type LeafRow } from './table.js';

interface Renewable {
  name: string;
  /** Also accepted on the command line (the table name, e.g. etcd/server). */
  alias?: string;
  file: string;
  keyFile?: string;
  ca: CaName;
  staticPod?: StaticPod;
}

/** The static pod that must restart to load a renewed row: its component's, when the pod loads it. */
const podLoading = (row: LeafRow | KubeconfigRow): StaticPod | undefined => (row.loadedByPod ? STATIC_POD_OF[row.component] : undefined);

export const RENEWABLE: readonly Renewable[] = [
  ...LEAF_ROWS.map((r) => ({ name: r.phase, alias: r.name, file: `pki/${r.base}.crt`, keyFile: `pki/${r.base}.key`, ca: r.ca, staticPod: podLoading(r) })),
  ...KUBECONFIG_ROWS.filter((r) => r.renewable).map((r) => ({ name: r.phase, file: r.name, ca: r.ca, staticPod: podLoading(r) })),
].sort((a, b) => (a.name < b.name ? -1 : 1));

export interface RenewOptions {
  /** ["all"] or renewable names. */
  names: readonly string[];
  validityDays: number;
  now?: () => Date;
  keySource?: KeySource;
  serial?: () => bigint;
}

/** A renewed file: its new content, and its mode (undefined: keep the host file's, as for a kubeconfig). */
export interface RenewedFile {
  path: string;
  content: string;
  mode?: number;
}

export interface Renewal {
  /** Renewed names, each with its files (key before certificate). */
  renewed: Array<{ name: string; files: RenewedFile[] }>;
  skipped: Array<{ name: string; reason: string }>;
  /** Static pods that must restart to load the new certificates, sorted. */
  restart: StaticPod[];
  /** The run's start, which the certificates are dated from. */
  start: Date;
}

export function selectRenewable(names: readonly string[]): Renewable[] {
  if (names.includes('all')) return [...RENEWABLE];
  const unknown = names.filter((n) => !RENEWABLE.some((r) => r.name === n || r.alias === n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown certificate ${unknown.map((n) => `"${n}"`).join(', ')}; valid names: all, ${RENEWABLE.map((r) => r.name).join(', ')}`);
  }
  return RENEWABLE.filter((r) => names.includes(r.name) || (r.alias !== undefined && names.includes(r.alias)));
}

/** Re-issues the selected items found in `files` (the host's, read from `dirs`). */
export async function renewHostFiles(files: HostPkiFiles, dirs: HostPkiDirs, options: RenewOptions): Promise<Renewal> {
  const start = options.now?.() ?? new Date();
  const keySource = options.keySource ?? webCryptoKeySource;
  const serial = options.serial ?? randomSerial;
  const selected = selectRenewable(options.names);
  const path = (name: string) => hostFilePath(name, dirs);
  const result: Renewal = { renewed: [], skipped: [], restart: [], start };

  const planned: Array<{ item: Renewable; oldCertPem: string }> = [];
  for (const item of selected) {
    const text = files.get(item.file);
    if (text === undefined) {
      result.skipped.push({ name: item.name, reason: `${path(item.file)} is not on this host` });
      continue;
    }
    if (!files.has(`pki/${caRow(item.ca).base}.key`)) {
      result.skipped.push({ name: item.name, reason: `externally managed (no ${path(`pki/${caRow(item.ca).base}.key`)})` });
      continue;
    }
    const oldCertPem = item.keyFile ? text : parseKubeconfig(text).clientCertPem;
    if (oldCertPem === undefined) {
      result.skipped.push({ name: item.name, reason: `${path(item.file)} has no embedded client certificate` });
      continue;
    }
    planned.push({ item, oldCertPem });
  }
  if (planned.length === 0) return result;

  const signers = new Map<CaName, Signer>();
  for (const ca of new Set(planned.map((p) => p.item.ca))) {
    const base = `pki/${caRow(ca).base}`;
    signers.set(ca, signerOf(files.get(`${base}.crt`) ?? missing(path(`${base}.crt`)), await importPrivateKeyPem(files.get(`${base}.key`)!, path(`${base}.key`))));
  }
  const issued = await Promise.all(
    planned.map(async ({ item, oldCertPem }) => {
      const old = readCertificate(oldCertPem, path(item.file));
      const key = await keySource.generate(old.algorithm ?? 'RSA-2048');
      const spec = { subject: { cn: old.cn, o: old.o }, isCa: false, usages: old.usages, altNames: old.altNames, serial: serial(), ...validity(start, options.validityDays) };
      return { item, certPem: await issueCertificate(spec, key, signers.get(item.ca)), keyPem: key.privateKeyPem };
    }),
  );

  for (const { item, certPem, keyPem } of issued) {
    const renewed = item.keyFile
      ? [
          { path: path(item.keyFile), content: keyPem, mode: 0o600 },
          { path: path(item.file), content: certPem, mode: 0o644 },
        ]
      : [{ path: path(item.file), content: replaceClientData(files.get(item.file)!, certPem, keyPem, path(item.file)) }];
    result.renewed.push({ name: item.name, files: renewed });
    if (item.staticPod && !result.restart.includes(item.staticPod)) result.restart.push(item.staticPod);
  }
  result.restart.sort();
  return result;
}

function missing(file: string): never {
  throw new PkiError(`${file} is missing; the CA certificate must be beside its key to renew what it signed`);
}

type KubeconfigDoc = { 'current-context'?: string; contexts?: Array<{ name: string; context: { user: string } }>; users?: Array<{ name: string; user: Record<string, string> }> };

/** Replaces the current user's client data; everything else (server, CA) is kept as it is. */
function replaceClientData(text: string, certPem: string, keyPem: string, where: string): string {
  const doc = yaml.load(text) as KubeconfigDoc;
  const userName = doc.contexts?.find((c) => c.name === doc['current-context'])?.context.user;
  const user = doc.users?.find((u) => u.name === userName);
  if (!user) throw new PkiError(`${where}: the current context has no user; cannot replace its client certificate`);
  user.user['client-certificate-data'] = Buffer.from(certPem).toString('base64');
  user.user['client-key-data'] = Buffer.from(keyPem).toString('base64');
  return yaml.dump(doc, { lineWidth: -1, noRefs: true });
}
