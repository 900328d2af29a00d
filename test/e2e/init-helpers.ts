/**
 * `kbuild init` / `kbuild join` run INSIDE test hosts through their own shell: the built CLI is at the
 * repo path (hosts see this machine's files) and node is on PATH. The kubelet stand-in does not
 * register Nodes, so `registerNode` plays that part of the kubelet: once the host's API answers, it
 * creates the Node object the way a kubelet registers itself (init/join then label and taint it).
 */
import { join } from 'node:path';
import type { TestLab } from '../support/testhosts.js';
import { repoRoot } from './cluster-lab.js';

export const CLI = join(repoRoot, 'bin/kbuild.js');

export interface HostRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function kbuildOnHost(lab: TestLab, host: string, args: readonly string[], timeoutMs = 300_000): Promise<HostRun> {
  const result = await lab.exec(host, [process.execPath, CLI, ...args], { allowFailure: true, timeoutMs });
  return { code: result.code, stdout: result.stdout, stderr: result.stderr };
}

/** Creates Node `name` through `kubeconfig` on `apiHost` as soon as the API accepts it (bounded: 180 s). */
export async function registerNode(lab: TestLab, apiHost: string, name: string, kubeconfig = '/etc/kubernetes/super-admin.conf'): Promise<void> {
  const node = JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } });
  const deadline = Date.now() + 180_000;
  let last = '';
  while (Date.now() < deadline) {
    const result = await lab.exec(apiHost, `test -f ${kubeconfig} && kubectl --kubeconfig ${kubeconfig} --request-timeout=5s create --validate=false -f - <<'EOF'\n${node}\nEOF`, { allowFailure: true, timeoutMs: 20_000 });
    if (result.code === 0 || /AlreadyExists|already exists/.test(result.stderr)) return;
    last = result.stderr.trim();
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`could not register Node ${name} through ${apiHost} within 180 s: ${last}`);
}
