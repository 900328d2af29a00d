/** Everything a renderer reads. Renderers are pure: the same context gives the same bytes. */
import type { Cluster, Host } from '../config/model.js';
import type { HostEnvironment } from '../kubeadm/host-environment.js';
import type { ClusterPki } from '../pki/types.js';
import type { Templates } from '../templates/index.js';

/** Secrets generated once and kept in the state directory (see secrets.ts). */
export interface RenderSecrets {
  /** `<id>.<secret>`, [a-z0-9]{6}.[a-z0-9]{16}. */
  bootstrapToken: string;
  /** RFC 3339 UTC instant the bootstrap token stops working. */
  bootstrapTokenExpires: string;
  /** keepalived's virtual_router_id (1-255) and PASS authentication secret, shared by every LB. */
  keepalived: { routerId: number; authPass: string };
}

export interface RenderContext {
  cluster: Cluster;
  pki: ClusterPki;
  secrets: RenderSecrets;
  templates: Templates;
  /** The text of spec.networking.cni.manifest, read by prepare.ts; absent for the other pod networks. */
  podNetworkManifest?: string;
  /**
   * What apply, init and join learned of each host from its facts, by host name. A host without
   * one (every host of `kbuild render`) is rendered as the cluster file assumes (assumedEnvironment).
   */
  hostEnvironments?: ReadonlyMap<string, HostEnvironment>;
}

/**
 * A host nobody asked: as spec.hostFacts says; by default no systemd-resolved and none of the
 * optional CA directories (a mount of a directory the host lacks would create it empty).
 */
export const assumedEnvironment = (cluster: Cluster): HostEnvironment => cluster.hostFacts;

export const environmentOf = (ctx: RenderContext, host: Host): HostEnvironment => ctx.hostEnvironments?.get(host.name) ?? assumedEnvironment(ctx.cluster);
