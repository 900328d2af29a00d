/**
 * What kubeadm reads from the machine it runs on when it writes that machine's files, as kbuild's
 * renderers take it per host: `apply`, `init` and `join` learn it from preflight's facts command
 * (src/preflight/facts.ts); a render that asks no host (`kbuild render`) assumes what the cluster
 * file says (src/render/context.ts).
 */

/** The kubelet's resolvConf where systemd-resolved runs (componentconfigs/kubelet.go, kubeletSystemdResolverConfig). */
export const SYSTEMD_RESOLVED_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

/**
 * kubeadm's caCertsExtraVolumePaths (phases/controlplane/volumes.go, v1.31 to v1.33): directories that
 * /etc/ssl/certs may link into, mounted read-only into kube-apiserver and kube-controller-manager
 * when they exist on the host. kubeadm v1.30 mounts all of /etc/pki instead of its two directories;
 * kbuild uses this list for every release (src/render/README.md, on purpose).
 */
export const OPTIONAL_CA_DIRS = ['/etc/pki/ca-trust', '/etc/pki/tls/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'] as const;

export interface HostEnvironment {
  /**
   * systemd-resolved is active on the host, by kubeadm's test (initsystem: `systemctl is-active`
   * prints active or activating). Then the kubelet's resolvConf is systemd-resolved's upstream
   * list: its /etc/resolv.conf names the 127.0.0.53 stub, which pods cannot reach.
   */
  systemdResolved: boolean;
  /** Those of OPTIONAL_CA_DIRS that exist on the host (kubeadm: os.Stat succeeds), in that list's order. */
  caDirs: readonly string[];
}
