// Full PKI for a 3-control-plane stacked cluster (examples/ha-stacked.yaml), in-process with kbuild
// versus a plain openssl CLI script producing the same keys and certificates, measured in one run.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadClusterFile } from '../dist/config/load.js';
import { ensureClusterPki } from '../dist/pki/ensure.js';
import { StateDir } from '../dist/state/state-dir.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** kbuild, in-process: a fresh state directory, real key generation. Returns ms and the item count. */
async function kbuild(cluster) {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-bench-'));
  try {
    const start = performance.now();
    const pki = await ensureClusterPki(cluster, await StateDir.open(dir));
    return { ms: performance.now() - start, items: pki.actions.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same PKI as a shell script of openssl commands: 3 CAs, sa, 7 leaves + 4 kubeconfig clients per control plane, super-admin once. */
function opensslScript(cluster, algorithm) {
  const newkey = algorithm === 'ECDSA-P256' ? '-newkey ec -pkeyopt ec_paramgen_curve:P-256' : '-newkey rsa:2048';
  const lines = ['set -e'];
  const ext = (name, body) => lines.push(`cat > ${name}.ext <<'X'`, body, 'X');
  const ca = (base, cn) => {
    lines.push(`mkdir -p $(dirname ${base})`);
    lines.push(`openssl req -x509 ${newkey} -nodes -keyout ${base}.key -out ${base}.crt -subj "/CN=${cn}" -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign -addext subjectAltName=DNS:${cn} 2>/dev/null`);
  };
  let serial = 1;
  const leaf = (base, subject, caBase, extName) => {
    lines.push(`mkdir -p $(dirname ${base})`);
    lines.push(`openssl req -new ${newkey} -nodes -keyout ${base}.key -out ${base}.csr -subj "${subject}" 2>/dev/null`);
    lines.push(`openssl x509 -req -in ${base}.csr -CA ${caBase}.crt -CAkey ${caBase}.key -set_serial ${serial++} -days 365 -extfile ${extName}.ext -out ${base}.crt 2>/dev/null`);
  };
  ca('ca', 'kubernetes');
  ca('front-proxy-ca', 'front-proxy-ca');
  ca('etcd/ca', 'etcd-ca');
  lines.push(algorithm === 'ECDSA-P256' ? 'openssl ecparam -name prime256v1 -genkey -noout -out sa.key' : 'openssl genrsa -out sa.key 2048 2>/dev/null', 'openssl pkey -in sa.key -pubout -out sa.pub');
  const ku = 'keyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE';
  ext('client', `${ku}\nextendedKeyUsage=clientAuth`);
  const cps = cluster.hosts.filter((h) => h.roles.includes('control-plane'));
  cps.forEach((h, i) => {
    const d = `hosts/${h.name}`;
    ext(`${h.name}-apiserver`, `${ku}\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${h.name},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:${h.address}`);
    ext(`${h.name}-etcd`, `${ku}\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${h.name},DNS:localhost,IP:${h.address},IP:127.0.0.1,IP:::1`);
    leaf(`${d}/apiserver`, '/CN=kube-apiserver', 'ca', `${h.name}-apiserver`);
    leaf(`${d}/apiserver-kubelet-client`, '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client', 'ca', 'client');
    leaf(`${d}/front-proxy-client`, '/CN=front-proxy-client', 'front-proxy-ca', 'client');
    leaf(`${d}/etcd/server`, `/CN=${h.name}`, 'etcd/ca', `${h.name}-etcd`);
    leaf(`${d}/etcd/peer`, `/CN=${h.name}`, 'etcd/ca', `${h.name}-etcd`);
    leaf(`${d}/etcd/healthcheck-client`, '/CN=kube-etcd-healthcheck-client', 'etcd/ca', 'client');
    leaf(`${d}/apiserver-etcd-client`, '/CN=kube-apiserver-etcd-client', 'etcd/ca', 'client');
    leaf(`${d}/admin`, '/O=kubeadm:cluster-admins/CN=kubernetes-admin', 'ca', 'client');
    if (i === 0) leaf(`${d}/super-admin`, '/O=system:masters/CN=kubernetes-super-admin', 'ca', 'client');
    leaf(`${d}/controller-manager`, '/CN=system:kube-controller-manager', 'ca', 'client');
    leaf(`${d}/scheduler`, '/CN=system:kube-scheduler', 'ca', 'client');
    leaf(`${d}/kubelet`, `/O=system:nodes/CN=system:node:${h.name}`, 'ca', 'client');
  });
  return lines.join('\n') + '\n';
}

function openssl(cluster, algorithm) {
  const dir = mkdtempSync(join(tmpdir(), 'kbuild-bench-openssl-'));
  try {
    writeFileSync(join(dir, 'pki.sh'), opensslScript(cluster, algorithm));
    const start = performance.now();
    execFileSync('sh', ['pki.sh'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    return performance.now() - start;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run() {
  const { cluster: base } = await loadClusterFile(join(root, 'examples/ha-stacked.yaml'));
  const rows = [];
  for (const algorithm of ['RSA-2048', 'ECDSA-P256']) {
    const cluster = { ...base, certificates: { ...base.certificates, encryptionAlgorithm: algorithm } };
    const rounds = algorithm === 'ECDSA-P256' ? 5 : 3;
    await kbuild(cluster); // warm-up: module initialisation and JIT, not part of the figure
    const kbuildRuns = [];
    const opensslRuns = [];
    let items = 0;
    for (let i = 0; i < rounds; i++) {
      const k = await kbuild(cluster);
      items = k.items;
      kbuildRuns.push(k.ms);
      opensslRuns.push(openssl(cluster, algorithm));
    }
    const k = median(kbuildRuns);
    const o = median(opensslRuns);
    console.log(
      `PKI ${algorithm}, 3 control planes stacked (${items} items), median of ${rounds}: kbuild ${k.toFixed(0)} ms, openssl script ${o.toFixed(0)} ms, ` +
        `kbuild/openssl ratio ${(k / o).toFixed(2)}`,
    );
    rows.push({ figure: `PKI ${algorithm} full PKI (${items} items): kbuild in-process`, value: `${k.toFixed(0)} ms`, target: algorithm === 'ECDSA-P256' ? '< 150 ms' : '-', met: algorithm === 'ECDSA-P256' ? k < 150 : undefined });
    rows.push({ figure: `PKI ${algorithm}: openssl CLI script`, value: `${o.toFixed(0)} ms`, target: '-' });
    if (algorithm === 'RSA-2048') rows.push({ figure: 'PKI RSA-2048: kbuild / openssl', value: `${(k / o).toFixed(2)}`, target: '≤ 0.5', met: k / o <= 0.5 });
  }
  return rows;
}
