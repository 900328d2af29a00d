/**
 * kubeadm reset's cleanup-node: stop the kubelet (the static pods stop with it), remove what the
 * container runtime still runs for Kubernetes, stop kbuild's load-balancer services, remove every
 * kbuild path that exists and, only when decided so, etcd's data. Only what exists is touched, so
 * a clean host reports no changes.
 */
import type { Host } from '../../config/model.js';
import { RemoteCommandError } from '../../errors/index.js';
import { runChecked } from '../../transport/run.js';
import type { StepOutcome } from '../../workflow/types.js';
import { PATHS } from '../../kubeadm/constants.js';
import { shellQuote } from '../../transport/quote.js';
import type { Transport } from '../../transport/transport.js';
import type { ResetContext } from './context.js';
import { etcdDataDirOf } from './etcd-data.js';
import { KBUILD_PATHS, LOAD_BALANCER_SERVICES, REMOVED_ONLY_IF_KBUILDS, writtenByKbuild } from './paths.js';

const READ = { readOnly: true, timeoutMs: 15_000 } as const;
const CRICTL_MISSING = 127;

async function isActive(transport: Transport, unit: string): Promise<boolean> {
  return (await transport.run(`systemctl is-active ${unit}`, READ)).code === 0;
}

/** Which of the paths exist, asked in one round trip rather than one per path. */
export async function existingPaths(transport: Transport, paths: readonly string[]): Promise<Set<string>> {
  const command = `for p in ${paths.map(shellQuote).join(' ')}; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done`;
  const result = await transport.run(command, READ);
  if (result.code !== 0) throw new RemoteCommandError(transport.name, command, result.code, result.stderr);
  return new Set(result.stdout.split('\n').filter(Boolean));
}

/** Present and kbuild's: a file at a shared path must carry kbuild's header. */
async function ours(transport: Transport, path: string, present: ReadonlySet<string>): Promise<boolean> {
  if (!present.has(path)) return false;
  if (!REMOVED_ONLY_IF_KBUILDS.has(path)) return true;
  const content = await transport.readFile(path);
  return content !== undefined && writtenByKbuild(content);
}

/** Whether a directory has any entry; false when it is missing. */
export async function hasEntries(transport: Transport, dir: string): Promise<boolean> {
  const result = await transport.run(`find ${shellQuote(dir)} -mindepth 1 -maxdepth 1 -print -quit`, READ);
  return result.code === 0 && result.stdout !== '';
}

/**
 * Removes a directory's contents, not the directory (it may be a mount point), in one command: find
 * hands the names to rm itself, so a name holding a line break never turns into a path of its own.
 */
export function removeEntriesCommand(dir: string): string {
  return `find ${shellQuote(dir)} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +`;
}

/**
 * crictl against the runtime the kubelet was given (kubeadm-flags.env, as kubeadm reset reads it), with
 * a timeout long enough for a pod's containers to stop: crictl's own 2 s fails every real pod with
 * DeadlineExceeded.
 */
const CRICTL = `crictl --timeout 120s $(sed -n 's/.*--container-runtime-endpoint=\\([^ "]*\\).*/--runtime-endpoint \\1/p' ${PATHS.kubeletFlags} 2>/dev/null)`;
const CRICTL_TIMEOUT_MS = 180_000;

/**
 * containerd refuses to remove a container the kubelet was still starting when it stopped ("container is
 * in starting state"); like kubeadm's reset (RemoveContainerRetry), the pods still listed are tried
 * again, a second apart, a bounded number of times.
 */
const RMP_ATTEMPTS = 5;
const RMP_RETRY_DELAY_MS = 1000;

const listPodsCommand = `if command -v crictl >/dev/null 2>&1; then ${CRICTL} pods -q; else exit ${CRICTL_MISSING}; fi`;

/** The kubelet's pods outlive it under a real runtime; kubeadm removes them through the CRI, as here. */
export async function removePods(ctx: Pick<ResetContext, 'reporter'>, host: Host, transport: Transport, retryDelayMs = RMP_RETRY_DELAY_MS): Promise<string[]> {
  const list = async () => {
    const listed = await transport.run(listPodsCommand, READ);
    return { listed, pods: listed.stdout.split('\n').map((l) => l.trim()).filter(Boolean) };
  };
  const first = await list();
  if (first.listed.code === CRICTL_MISSING) return [];
  if (first.listed.code !== 0) {
    ctx.reporter.event({ type: 'warn', host: host.name, message: `crictl pods failed, pods left to the container runtime: ${first.listed.stderr.trim().slice(0, 200)}` });
    return [];
  }
  if (first.pods.length === 0) return [];
  let pods = first.pods;
  for (let attempt = 1; ; attempt++) {
    try {
      await runChecked(transport, `${CRICTL} rmp -f ${pods.map(shellQuote).join(' ')}`, CRICTL_TIMEOUT_MS);
      break;
    } catch (error) {
      if (attempt >= RMP_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      const again = await list();
      pods = again.listed.code === 0 ? again.pods : pods;
      if (pods.length === 0) break;
    }
  }
  return [`removed ${first.pods.length} pod${first.pods.length === 1 ? '' : 's'} (crictl rmp)`];
}

async function removeEtcdData(ctx: ResetContext, host: Host, transport: Transport, dir: string | undefined): Promise<string[]> {
  if (dir === undefined || !(await hasEntries(transport, dir))) return [];
  const decision = ctx.etcdData ?? { remove: false, reason: 'preflight was skipped, so nobody confirmed' };
  if (!decision.remove) {
    ctx.reporter.event({ type: 'info', host: host.name, message: `etcd data in ${dir} kept: ${decision.reason}` });
    return [];
  }
  await runChecked(transport, removeEntriesCommand(dir));
  return [`removed etcd data in ${dir}`];
}

export async function cleanupNode(ctx: ResetContext, host: Host): Promise<StepOutcome> {
  const transport = await ctx.transport(host);
  const changed: string[] = [];
  // Before the manifest that names it goes.
  const etcdDataDir = await etcdDataDirOf(ctx, host, transport);
  if (await isActive(transport, 'kubelet')) {
    await runChecked(transport, 'systemctl stop kubelet');
    changed.push('stopped kubelet');
  }
  changed.push(...(await removePods(ctx, host, transport)));
  const present = await existingPaths(transport, KBUILD_PATHS);
  for (const service of LOAD_BALANCER_SERVICES) {
    const configured = (await Promise.all(service.configs.map((c) => ours(transport, c, present)))).some(Boolean);
    if (configured && (await isActive(transport, service.unit))) {
      await runChecked(transport, `systemctl stop ${service.unit}`);
      changed.push(`stopped ${service.unit}`);
    }
  }
  if (await ours(transport, PATHS.podNetworkScript, present)) {
    await runChecked(transport, `${PATHS.podNetworkScript} remove`);
    changed.push('removed the builtin pod network (routes, masquerading, bridge)');
  }
  for (const path of KBUILD_PATHS) {
    if (!(await ours(transport, path, present))) {
      if (present.has(path)) ctx.reporter.event({ type: 'info', host: host.name, message: `${path} kept: not written by kbuild` });
      continue;
    }
    await transport.remove(path);
    changed.push(`removed ${path}`);
  }
  if (changed.includes(`removed ${PATHS.kubeletDropIn}`)) await runChecked(transport, 'systemctl daemon-reload');
  changed.push(...(await removeEtcdData(ctx, host, transport, etcdDataDir)));
  return { changed };
}
