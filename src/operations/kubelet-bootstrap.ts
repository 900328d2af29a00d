/**
 * The end of a kubelet's TLS bootstrap, shared by join and apply: kubelet.conf holds its own
 * credential, so bootstrap-kubelet.conf (a bootstrap token valid for the whole cluster until it
 * expires) should not stay on disk, and need not be written again.
 */
import { parseKubeconfig } from '../kubeconfig/kubeconfig.js';
import { PATHS } from '../kubeadm/constants.js';
import type { Transport } from '../transport/transport.js';
import type { GateCheck } from '../health/probes.js';

/** kubelet.conf exists and names a server and a client credential: the TLS bootstrap is done. */
export async function kubeletConfUsable(transport: Transport): Promise<GateCheck> {
  const text = await transport.readFile(PATHS.kubeletKubeconfig);
  if (!text) return { ok: false, seen: `${PATHS.kubeletKubeconfig} does not exist yet (the kubelet's CSR is not signed yet)` };
  try {
    const parsed = parseKubeconfig(text.toString());
    if (!parsed.server || !(parsed.clientCertPem || /client-certificate:/.test(text.toString()))) return { ok: false, seen: `${PATHS.kubeletKubeconfig} has no server or client certificate yet` };
    return { ok: true };
  } catch (error) {
    return { ok: false, seen: `${PATHS.kubeletKubeconfig} does not parse: ${(error as Error).message}` };
  }
}

/** Removes bootstrap-kubelet.conf when it is there; says so. */
export async function removeBootstrapKubeconfig(transport: Transport): Promise<string[]> {
  if (!(await transport.stat(PATHS.bootstrapKubeconfig))) return [];
  await transport.remove(PATHS.bootstrapKubeconfig);
  return [`removed ${PATHS.bootstrapKubeconfig}`];
}
