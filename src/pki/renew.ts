/**
 * On-host renewal with kubeadm's semantics (`kubeadm certs renew`): fresh key, same CN/O/SANs/EKUs,
 * new serial, signed by the CA on disk; kubeconfig client data replaced in place. CAs, kubelet.conf
 * and sa are never touched; certificates whose CA key is absent are skipped as externally managed.
 * Added: every replaced file is first copied to a timestamped backup directory.
 */
import { copyFile, chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { PkiError, UsageError } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hostFilePath, readLocalHostFiles } from './host-files.js';
import { readCertificate } from './inspect.js';
import { issueCertificate, randomSerial, validity } from './issue.js';
import { importPrivateKeyPem, webCryptoKeySource, type KeySource } from './keys.js';
import { KUBECONFIG_ROWS, LEAF_ROWS, caRow, type CaName, type KubeconfigRow, type LeafRow } from './table.js';
import { STATIC_POD_OF, type StaticPod } from '../kubeadm/files.js';
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';

interface Renewable {
  name: string;
  /** Also accepted on the command line (the table name, e.g. etcd/server). */
  alias?: string;
  file: string;
  keyFile?: string;
  ca: CaName;
  staticPod?: string;
}

/** The static pod that must restart to load a renewed row: its component's, when the pod loads it. */
const podLoading = (row: LeafRow | KubeconfigRow): StaticPod | undefined => (row.loadedByPod ? STATIC_POD_OF[row.component] : undefined);

export const RENEWABLE: readonly Renewable[] = [
  ...LEAF_ROWS.map((r) => ({ name: r.phase, alias: r.name, file: `pki/${r.base}.crt`, keyFile: `pki/${r.base}.key`, ca: r.ca, staticPod: podLoading(r) })),
  ...KUBECONFIG_ROWS.filter((r) => r.renewable).map((r) => ({ name: r.phase, file: r.name, ca: r.ca, staticPod: podLoading(r) })),
].sort((a, b) => (a.name < b.name ? -1 : 1));

export interface RenewOptions {
  certDir: string;
  kubeconfigDir: string;
  /** ["all"] or renewable names. */
  names: readonly string[];
  validityDays: number;
  now?: () => Date;
  keySource?: KeySource;
  serial?: () => bigint;
}

export interface RenewResult {
  renewed: string[];
  skipped: Array<{ name: string; reason: string }>;
  backupDir?: string;
  /** Static pods that must restart to load the new certificates. */
  restart: string[];
}

export function selectRenewable(names: readonly string[]): Renewable[] {
  if (names.includes('all')) return [...RENEWABLE];
  const unknown = names.filter((n) => !RENEWABLE.some((r) => r.name === n || r.alias === n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown certificate ${unknown.map((n) => `"${n}"`).join(', ')}; valid names: all, ${RENEWABLE.map((r) => r.name).join(', ')}`);
  }
  return RENEWABLE.filter((r) => names.includes(r.name) || (r.alias !== undefined && names.includes(r.alias)));
}

/** `kbuild-backup-20261121T080017Z` */
export const backupDirName = (now: Date) => `kbuild-backup-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;

export async function renewCertificates(options: RenewOptions): Promise<RenewResult> {
  const start = options.now?.() ?? new Date();
  const keySource = options.keySource ?? webCryptoKeySource;
  const serial = options.serial ?? randomSerial;
  const selected = selectRenewable(options.names);
  const files = await readLocalHostFiles(options.certDir, options.kubeconfigDir);
  const path = (name: string) => hostFilePath(name, options.certDir, options.kubeconfigDir);
  const result: RenewResult = { renewed: [], skipped: [], restart: [] };

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

  const signers = new Map<CaName, { certPem: string; key: Awaited<ReturnType<typeof importPrivateKeyPem>> }>();
  for (const ca of new Set(planned.map((p) => p.item.ca))) {
    const base = `pki/${caRow(ca).base}`;
    signers.set(ca, { certPem: files.get(`${base}.crt`) ?? missing(path(`${base}.crt`)), key: await importPrivateKeyPem(files.get(`${base}.key`)!, path(`${base}.key`)) });
  }
  const issued = await Promise.all(
    planned.map(async ({ item, oldCertPem }) => {
      const old = readCertificate(oldCertPem, path(item.file));
      const key = await keySource.generate(old.algorithm ?? 'RSA-2048');
      const spec = { subject: { cn: old.cn, o: old.o }, isCa: false, usages: old.usages, altNames: old.altNames, serial: serial(), ...validity(start, options.validityDays) };
      return { item, certPem: await issueCertificate(spec, key, signers.get(item.ca)), keyPem: key.privateKeyPem };
    }),
  );

  // Back up every file about to change, then replace each atomically.
  const backupDir = await createBackupDir(join(options.kubeconfigDir, 'tmp'), backupDirName(start));
  for (const { item } of issued) {
    for (const name of [item.file, ...(item.keyFile ? [item.keyFile] : [])]) {
      if (!files.has(name)) continue;
      const target = join(backupDir, name);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await copyFile(path(name), target);
      await chmod(target, (await stat(path(name))).mode & 0o777);
    }
  }
  for (const { item, certPem, keyPem } of issued) {
    if (item.keyFile) {
      await writeFileAtomic(path(item.keyFile), keyPem, 0o600);
      await writeFileAtomic(path(item.file), certPem, 0o644);
    } else {
      const mode = (await stat(path(item.file))).mode & 0o777;
      await writeFileAtomic(path(item.file), replaceClientData(files.get(item.file)!, certPem, keyPem, path(item.file)), mode);
    }
    result.renewed.push(item.name);
    if (item.staticPod && !result.restart.includes(item.staticPod)) result.restart.push(item.staticPod);
  }
  result.backupDir = backupDir;
  result.restart.sort();
  return result;
}

/** A new directory every time: two renewals in the same second must not share (and overwrite) a backup. */
async function createBackupDir(parent: string, name: string): Promise<string> {
  await mkdir(parent, { recursive: true, mode: 0o700 });
  for (let attempt = 1; attempt <= 100; attempt++) {
    const dir = join(parent, attempt === 1 ? name : `${name}-${attempt}`);
    try {
      await mkdir(dir, { mode: 0o700 });
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new PkiError(`${parent}: could not create a backup directory ${name}; remove old kbuild-backup-* directories there`);
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
