// Push: `kbuild apply` of one cluster shape (cp1 with stacked etcd + workers, no load balancer) to
// N = 1, 8 and 24 test hosts (network-namespace machines with real sshd and the kubelet stand-in,
// test/support), against Debian's Ansible copying the identical `kbuild render` tree to the same
// hosts with its copy module. Same run, same hosts, every host wiped before every run.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import './lib/ts-loader.mjs';

const { createTestHosts } = await import('../test/support/testhosts.js');
const { installStandin } = await import('../test/support/standin/index.js');

const root = fileURLToPath(new URL('..', import.meta.url));
const SIZES = (process.env.KBUILD_BENCH_PUSH_SIZES ?? '1,8,24').split(',').map(Number);
const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook'; // Debian's, installed by scripts/ensure-bench-deps.mjs
const HOST_NAMES = ['cp1', ...Array.from({ length: Math.max(...SIZES) - 1 }, (_, i) => `w${String(i + 1).padStart(2, '0')}`)];
/** Everything kbuild or Ansible may have written, plus what the stand-in's pods keep. */
const WIPE = '/etc/kubernetes/* /var/lib/kubelet/* /var/lib/etcd/* /etc/systemd/system/kubelet.service.d/* /root/.ansible';
const TARGET_SCALING = 2;
const TARGET_VS_ANSIBLE = 5;

/** Runs a command to completion with a deadline; resolves with wall time, rejects on failure. */
function timed(argv, options = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d.toString()));
    child.stderr.on('data', (d) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - start;
      if (code === 0) resolve({ ms, output });
      else reject(new Error(`${argv.slice(0, 3).join(' ')} … exited ${code ?? signal} after ${ms.toFixed(0)} ms:\n${output.trim().split('\n').slice(-25).join('\n')}`));
    });
  });
}

const kbuild = (args) => timed([process.execPath, join(root, 'bin/kbuild.js'), ...args]);

function clusterFile(lab, dir, n) {
  const hosts = HOST_NAMES.slice(0, n).map((name) => ({ name, address: lab.host(name).address, roles: [name === 'cp1' ? 'control-plane' : 'worker'] }));
  const path = join(dir, `cluster-${n}.yaml`);
  writeFileSync(
    path,
    yaml.dump({
      apiVersion: 'kbuild.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'bench-push' },
      spec: {
        kubernetesVersion: 'v1.32.4',
        networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', nodeSubnets: [lab.cidr] },
        certificates: { encryptionAlgorithm: 'ECDSA-P256' },
        loadBalancer: { type: 'none' },
        ssh: lab.sshDefaults,
        hosts,
      },
    }),
  );
  return path;
}

/** Ansible's side: inventory, settings and a playbook copying each host's render tree to / as root. */
function ansibleProject(lab, dir, n, renderDir) {
  const project = join(dir, `ansible-${n}`);
  mkdirSync(join(project, 'cp'), { recursive: true });
  const hosts = Object.fromEntries(HOST_NAMES.slice(0, n).map((name) => [name, { ansible_host: lab.host(name).address }]));
  const inventory = {
    all: {
      hosts,
      vars: {
        ansible_user: 'root',
        ansible_port: lab.sshDefaults.port,
        ansible_ssh_private_key_file: lab.identityFile,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHostsFile} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
        ansible_python_interpreter: '/usr/bin/python3',
        render_dir: renderDir,
      },
    },
  };
  writeFileSync(join(project, 'inventory.yaml'), yaml.dump(inventory));
  // Ansible at its fastest: as many forks as hosts (kbuild gets --concurrency N), pipelining,
  // persistent SSH connections, no fact gathering.
  writeFileSync(
    join(project, 'ansible.cfg'),
    ['[defaults]', `forks = ${n}`, 'host_key_checking = True', 'gathering = explicit', 'retry_files_enabled = False', `local_tmp = ${join(project, 'tmp')}`, '', '[ssh_connection]', 'pipelining = True', `control_path_dir = ${join(project, 'cp')}`, ''].join('\n'),
  );
  writeFileSync(
    join(project, 'push.yaml'),
    yaml.dump([
      {
        name: 'copy the kbuild render tree',
        hosts: 'all',
        gather_facts: false,
        tasks: [{ name: 'every file of this host, with its mode', 'ansible.builtin.copy': { src: '{{ render_dir }}/{{ inventory_hostname }}/', dest: '/', mode: 'preserve' } }],
      },
    ]),
  );
  return project;
}

async function wipe(lab, names) {
  const script = `systemctl stop kubelet >/dev/null 2>&1; pkill -x etcd; pkill -x haproxy; rm -rf ${WIPE}; true`;
  await Promise.all(names.map((name) => lab.exec(name, script, { timeoutMs: 30_000 })));
}

/**
 * Where an apply's time went, from its JSON events (each carries its time): host steps (file
 * pushes, kubelet restarts: phase start to the last host done) versus waiting on health gates.
 */
function breakdown(output) {
  const events = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.time);
  let steps = 0;
  let gates = 0;
  let phaseStart;
  let lastHostDone;
  for (const e of events) {
    const t = Date.parse(e.time);
    if (e.type === 'phase-start') [phaseStart, lastHostDone] = [t, t];
    if (e.type === 'host-done' || e.type === 'host-failed') lastHostDone = t;
    if (e.type === 'phase-done' && phaseStart !== undefined) {
      steps += lastHostDone - phaseStart;
      gates += t - lastHostDone;
    }
  }
  return { steps, gates };
}

/** Mode and sha256 of every file under `dir`, keyed by its path on the host. */
function treeDigest(dir, prefix = '') {
  const digest = new Map();
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) for (const [p, d] of treeDigest(dir, path)) digest.set(p, d);
    else digest.set(path, `${(statSync(join(dir, path)).mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')}`);
  }
  return digest;
}

/** Proves a run left exactly the rendered files on every host: same bytes, same modes. */
async function verifyTree(lab, names, renderDir, who) {
  await Promise.all(
    names.map(async (name) => {
      const want = treeDigest(join(renderDir, name));
      const paths = [...want.keys()].sort();
      const got = await lab.exec(name, `for f in ${paths.join(' ')}; do printf '%s %s %s\\n' "$f" "$(stat -c %a "$f")" "$(sha256sum < "$f" | cut -d' ' -f1)"; done`, { timeoutMs: 30_000 });
      const wrong = got.stdout.trim().split('\n').filter((line) => {
        const [path, mode, sha] = line.split(' ');
        return want.get(path) !== `${mode} ${sha}`;
      });
      if (wrong.length > 0 || got.stdout.trim().split('\n').length !== paths.length) throw new Error(`${who} on ${name}: files differ from the render tree (mode or bytes): ${wrong.slice(0, 5).join('; ')}`);
    }),
  );
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-bench-push-'));
  const stateDir = join(dir, 'state');
  let lab;
  const rows = [];
  try {
    const labStart = performance.now();
    lab = await createTestHosts({ names: HOST_NAMES });
    await Promise.all(HOST_NAMES.map((name) => installStandin(lab, name, { kubernetesVersion: 'v1.32.4' })));
    console.log(`push: ${HOST_NAMES.length} test hosts with sshd and the kubelet stand-in ready in ${(performance.now() - labStart).toFixed(0)} ms`);
    const results = new Map();
    for (const n of SIZES) {
      const names = HOST_NAMES.slice(0, n);
      const file = clusterFile(lab, dir, n);
      const renderDir = join(dir, `render-${n}`);
      // The tree Ansible copies; it also creates the PKI, so no key generation lands in the apply timing.
      const rendered = await kbuild(['render', '-i', file, '--state-dir', stateDir, '-o', renderDir]);
      const files = /Rendered (\d+) files/.exec(rendered.output)?.[1] ?? '?';
      await wipe(lab, names);
      const k = await kbuild(['apply', '-i', file, '--state-dir', stateDir, '--format', 'json', '--concurrency', String(n)]);
      await verifyTree(lab, names, renderDir, 'kbuild apply');
      await wipe(lab, names);
      const project = ansibleProject(lab, dir, n, renderDir);
      const a = await timed([ANSIBLE_PLAYBOOK, '-i', join(project, 'inventory.yaml'), join(project, 'push.yaml')], { env: { ANSIBLE_CONFIG: join(project, 'ansible.cfg') }, timeoutMs: 600_000 });
      await verifyTree(lab, names, renderDir, 'Ansible');
      await wipe(lab, names);
      results.set(n, { kbuild: k.ms, ansible: a.ms });
      const { steps, gates } = breakdown(k.output);
      console.log(
        `push N=${String(n).padStart(2)} (${files} files): kbuild apply ${k.ms.toFixed(0)} ms (host steps ${steps} ms, health gates ${gates} ms), ` +
          `Ansible copy ${a.ms.toFixed(0)} ms, Ansible/kbuild ${(a.ms / k.ms).toFixed(1)}×; both trees verified on every host`,
      );
    }
    const first = results.get(SIZES[0]);
    const last = results.get(SIZES.at(-1));
    const scaling = last.kbuild / first.kbuild;
    const versus = last.ansible / last.kbuild;
    for (const n of SIZES) rows.push({ figure: `push N=${n}: kbuild apply`, value: `${results.get(n).kbuild.toFixed(0)} ms`, target: '-' });
    rows.push({ figure: 'push kbuild N=24 / N=1', value: `${scaling.toFixed(2)}×`, target: `≤ ${TARGET_SCALING}×`, met: scaling <= TARGET_SCALING });
    for (const n of SIZES) rows.push({ figure: `push N=${n}: Ansible copy`, value: `${results.get(n).ansible.toFixed(0)} ms`, target: '-' });
    rows.push({ figure: 'push Ansible / kbuild at N=24', value: `${versus.toFixed(1)}×`, target: `≥ ${TARGET_VS_ANSIBLE}×`, met: versus >= TARGET_VS_ANSIBLE });
    return rows;
  } finally {
    await lab?.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}
