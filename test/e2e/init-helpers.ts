/**
 * `kbuild init` / `kbuild join` run INSIDE test hosts through their own shell: the built CLI is at the
 * repo path (hosts see this machine's files) and node is on PATH.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestLab } from '../support/testhosts.js';
import { repoRoot, type ClusterLab } from './cluster-lab.js';

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

/** Several control planes need an endpoint; with no load balancer it is cp1's own address. */
export function endpointAtCp1(cl: ClusterLab): void {
  writeFileSync(cl.clusterFile, readFileSync(cl.clusterFile, 'utf8').replace('spec:\n', `spec:\n  controlPlaneEndpoint: ${cl.address('cp1')}:6443\n`));
}

/** Runs `kbuild init --upload-certs` on cp1 and returns the control-plane join command it printed, as `kbuild` arguments. */
export async function initForControlPlaneJoin(cl: ClusterLab): Promise<string[]> {
  const init = await kbuildOnHost(cl.lab, 'cp1', ['init', '--config', cl.clusterFile, '--node-name', 'cp1', '--state-dir', cl.stateDir, '--upload-certs'], 10 * 60_000);
  if (init.code !== 0) throw new Error(`init on cp1 failed:\n${init.stdout}\n${init.stderr}`);
  const printed = /kbuild join (\S+ --token \S+ --discovery-token-ca-cert-hash \S+ --control-plane --certificate-key \S+)/.exec(init.stdout);
  if (!printed) throw new Error(`init printed no control-plane join command:\n${init.stdout}`);
  return ['join', ...printed[1]!.split(' ')];
}
