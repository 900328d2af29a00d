/**
 * Secrets hygiene: every command, run with its fullest output, never shows a private key (PEM or the
 * base64 a kubeconfig embeds), the bootstrap-token secret, the certificate key or keepalived's
 * auth_pass — except where kubeadm shows them on purpose: the `kbuild join` commands printed by
 * apply/init, init's "Using certificate key" line, `token create`'s answer and `token list`'s TOKEN
 * column. Every file kbuild
 * writes that holds a secret (locally and on hosts) is mode 0600.
 */
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterLab, kbuild, repoRoot, type CliResult, type ClusterLab } from './cluster-lab.js';

interface Run {
  name: string;
  result: CliResult;
  /** Lines of stdout allowed to carry the token / certificate key (join commands, token create's answer). */
  allowed: (line: string) => boolean;
}

const CERT_KEY = '5eed'.repeat(16);
const joinLine = (line: string) => /kbuild join \S+ --token /.test(line) || line.includes('"type":"join-command"');
const nothingAllowed = () => false;

let cl: ClusterLab;
let offline: { file: string; state: string; out: string; renew: string; initOut: string };
let lab: { state: string; out: string; dry: string; dryJson: string };
const runs: Run[] = [];

async function record(name: string, args: string[], allowed: (line: string) => boolean = nothingAllowed, expectCode: number | number[] = 0): Promise<CliResult> {
  const result = await kbuild(args, 10 * 60_000);
  runs.push({ name, result, allowed });
  expect([expectCode].flat(), `${name}: exit ${result.code}\n${result.stderr}\n${result.stdout.slice(-2000)}`).toContain(result.code);
  return result;
}

function walk(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(root, e.name)) : e.isFile() ? [join(root, e.name)] : []));
}

const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/g;

/** Distinctive pieces of every secret kbuild holds, each with the name it is reported under. */
function secretNeedles(): Map<string, string> {
  const needles = new Map<string, string>();
  for (const root of [offline.state, lab.state, offline.out, lab.out]) {
    for (const file of walk(root)) {
      const text = readFileSync(file, 'utf8');
      for (const pem of text.match(PEM_KEY) ?? []) {
        const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
        needles.set(body[1] ?? body[0]!, `private key line from ${file}`);
        // A kubeconfig's client-key-data is the base64 of the whole PEM.
        const b64 = Buffer.from(pem).toString('base64');
        needles.set(b64.slice(80, 140), `base64 private key from ${file}`);
      }
    }
  }
  for (const state of [offline.state, lab.state]) {
    const token = readFileSync(join(state, 'bootstrap-token'), 'utf8').trim();
    needles.set(token.split('.')[1]!, `bootstrap-token secret (${state})`);
  }
  needles.set(readFileSync(join(offline.state, 'keepalived/auth-pass'), 'utf8').trim(), 'keepalived auth_pass');
  needles.set(CERT_KEY, 'certificate key');
  return needles;
}

beforeAll(async () => {
  cl = await createClusterLab('secrets', [
    { name: 'cp1', roles: ['control-plane'] },
    { name: 'w1', roles: ['worker'] },
  ]);
  // The offline half uses the HA example: a VIP brings keepalived's auth_pass in. It never connects anywhere.
  const doc = yaml.load(readFileSync(join(repoRoot, 'examples/ha-stacked.yaml'), 'utf8')) as { spec: { certificates: Record<string, unknown> } };
  doc.spec.certificates.encryptionAlgorithm = 'ECDSA-P256';
  offline = { file: join(cl.dir, 'ha.yaml'), state: join(cl.dir, 'ha-state'), out: join(cl.dir, 'ha-out'), renew: join(cl.dir, 'ha-renew'), initOut: join(cl.dir, 'ha-init') };
  writeFileSync(offline.file, yaml.dump(doc));
  lab = { state: cl.stateDir, out: join(cl.dir, 'lab-out'), dry: join(cl.dir, 'lab-dry'), dryJson: join(cl.dir, 'lab-dry-json') };
});
afterAll(async () => {
  await cl?.lab.teardown();
});

describe('secrets never leave their files', () => {
  it('runs every command with its fullest output', async () => {
    await record('validate', ['validate', '-i', offline.file]);
    await record('render', ['render', '-i', offline.file, '--state-dir', offline.state, '-o', offline.out]);
    await record('certs generate', ['certs', 'generate', '-i', offline.file, '--state-dir', offline.state]);
    const pki = join(offline.out, 'cp1/etc/kubernetes/pki');
    const kubeconfigs = join(offline.out, 'cp1/etc/kubernetes');
    await record('certs check-expiration', ['certs', 'check-expiration', '--cert-dir', pki, '--kubeconfig-dir', kubeconfigs]);
    await record('certs check-expiration json', ['certs', 'check-expiration', '--cert-dir', pki, '--kubeconfig-dir', kubeconfigs, '-o', 'json']);
    cpSync(kubeconfigs, offline.renew, { recursive: true });
    await record('certs renew all', ['certs', 'renew', 'all', '--cert-dir', join(offline.renew, 'pki'), '--kubeconfig-dir', offline.renew]);
    const init = ['init', '--config', offline.file, '--node-name', 'cp1', '--state-dir', offline.state, '--dry-run', '-o', offline.initOut, '--upload-certs', '--certificate-key', CERT_KEY, '--ignore-preflight-errors', 'all'];
    // kubeadm prints the certificate key and the join commands on purpose; nothing else may.
    await record('init --dry-run --upload-certs', init, (line) => joinLine(line) || line === CERT_KEY);

    await record('render (lab)', ['render', '-i', cl.clusterFile, '--state-dir', lab.state, '-o', lab.out]);
    await record('apply --dry-run', ['apply', '-i', cl.clusterFile, '--state-dir', lab.state, '--dry-run', '-o', lab.dry]);
    await record('apply --dry-run json', ['apply', '-i', cl.clusterFile, '--state-dir', lab.state, '--dry-run', '-o', lab.dryJson, '--format', 'json']);
    await record('apply json', ['apply', '-i', cl.clusterFile, '--state-dir', lab.state, '--format', 'json'], joinLine);
    await record('apply text', ['apply', '-i', cl.clusterFile, '--state-dir', lab.state], joinLine);
    await record('certs check-expiration fleet', ['certs', 'check-expiration', '-i', cl.clusterFile, '-o', 'json']);
    const admin = join(lab.out, 'cp1/etc/kubernetes/admin.conf');
    const created = await record('token create', ['token', 'create', '--kubeconfig', admin, '--print-join-command'], joinLine);
    expect(created.stdout).toMatch(/kbuild join \S+ --token [a-z0-9]{6}\.[a-z0-9]{16} /);
    // As `kubeadm token list`, the list shows whole tokens (that is how an admin finds one to join with).
    await record('token list', ['token', 'list', '--kubeconfig', admin], (line) => /^[a-z0-9]{6}\.[a-z0-9]{16}\s/.test(line));
  });

  it('no private key, token secret, certificate key or auth_pass on stdout or stderr', () => {
    expect(runs.length).toBeGreaterThan(10);
    const needles = secretNeedles();
    // The token made by `token create` is a secret too: only its own answer may show it.
    const created = runs.find((r) => r.name === 'token create')!.result.stdout.match(/--token [a-z0-9]{6}\.([a-z0-9]{16})/)![1]!;
    needles.set(created, 'token created by token create');
    const leaks: string[] = [];
    for (const { name, result, allowed } of runs) {
      for (const [stream, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
        if (/PRIVATE KEY-----/.test(text)) leaks.push(`${name} ${stream}: a PEM private key`);
        for (const line of text.split('\n')) {
          if (stream === 'stdout' && allowed(line)) continue;
          for (const [needle, what] of needles) if (line.includes(needle)) leaks.push(`${name} ${stream}: ${what}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  it('no secret in any report or log kbuild writes (PLAN.md, dry-run listings, state notes)', () => {
    const needles = secretNeedles();
    const reports = [offline.out, lab.out, lab.dry, lab.dryJson, offline.initOut, offline.state, lab.state].flatMap(walk).filter((f) => /\.(md|log|txt|json|jsonl)$/.test(f));
    expect(reports.some((f) => f.endsWith('PLAN.md'))).toBe(true);
    const leaks = reports.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [...needles].filter(([needle]) => text.includes(needle)).map(([, what]) => `${file}: ${what}`);
    });
    expect(leaks).toEqual([]);
  });

  it('every local file holding a secret is 0600', () => {
    const needles = secretNeedles();
    const roots = [offline.state, offline.out, offline.renew, offline.initOut, lab.state, lab.out, lab.dry, lab.dryJson];
    const loose = roots
      .flatMap(walk)
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return /PRIVATE KEY-----|client-key-data:/.test(text) || [...needles.keys()].some((n) => text.includes(n));
      })
      .map((file) => `${(statSync(file).mode & 0o777).toString(8)} ${file}`)
      .filter((line) => !line.startsWith('600 '));
    expect(loose).toEqual([]);
    // The state directory itself is private.
    for (const state of [offline.state, lab.state]) expect((statSync(state).mode & 0o777).toString(8)).toBe('700');
  });

  it('every file on the hosts holding a secret is 0600, including kbuild backups', async () => {
    const needles = [...secretNeedles().keys()];
    const pattern = join(cl.dir, 'needles.txt');
    writeFileSync(pattern, ['PRIVATE KEY-----', 'client-key-data:', ...needles].join('\n'));
    for (const host of ['cp1', 'w1']) {
      // Only files kbuild put there: everything it renders for the host, and its backups.
      const rendered = walk(join(lab.out, host)).map((f) => f.slice(join(lab.out, host).length));
      expect(rendered.length).toBeGreaterThan(3);
      const listing = await cl.lab.exec(host, `cd / && { printf '%s\\n' ${rendered.map((p) => `'${p}'`).join(' ')}; find /var/lib/kbuild* /etc/kubernetes/tmp -type f 2>/dev/null; } | sort -u | while read -r f; do [ -f "$f" ] && grep -qF -f '${pattern}' "$f" && stat -c '%a %n' "$f"; done; true`);
      const found = listing.stdout.trim().split('\n').filter(Boolean);
      if (host === 'w1') {
        // A worker's only rendered secret is bootstrap-kubelet.conf, which apply removes once the kubelet has its own credential.
        expect(rendered, host).toContain('/etc/kubernetes/bootstrap-kubelet.conf');
        expect((await cl.lab.exec(host, 'test -e /etc/kubernetes/bootstrap-kubelet.conf', { allowFailure: true })).code, `${host}: bootstrap-kubelet.conf left behind`).toBe(1);
      } else {
        expect(found.length, `${host}: no secret files found`).toBeGreaterThan(0);
      }
      expect(found.filter((l) => !l.startsWith('600 ')), host).toEqual([]);
    }
  });
});
