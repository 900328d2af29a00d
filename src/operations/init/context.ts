/** What the `kbuild init` phases share: this host, its rendered files, one transport, the API. */
import type { Cluster, Host } from '../../config/model.js';
import type { ClusterFile } from '../../config/schema.js';
import type { ApiClient } from '../../kube/client.js';
import type { RenderSecrets } from '../../render/context.js';
import type { RandomInt } from '../../kube/token.js';
import type { RenderedFile } from '../../kubeadm/files.js';
import type { Reporter } from '../../report/reporter.js';
import type { Transport } from '../../transport/transport.js';
import type { RetryOptions } from '../../kube/retry.js';
import type { GatheredFacts } from '../../preflight/run.js';

export interface JoinCommands {
  worker: string;
  /** Only when the certificates were uploaded (the key is part of it). */
  controlPlane?: string;
}

export interface InitContext {
  /** The cluster file as written; upload-config publishes it for `kbuild join`. */
  file: ClusterFile;
  cluster: Cluster;
  /** The host init runs on: the cluster's first control plane. */
  host: Host;
  /** Exactly `kbuild render`'s files for this host, given its facts. */
  files: readonly RenderedFile[];
  /** This machine's facts, gathered before rendering; preflight checks them. */
  facts: GatheredFacts;
  caCertPem: string;
  secrets: RenderSecrets;
  /** This machine (LocalTransport), or the dry-run pair writing under DIR. */
  transport: Transport;
  reporter: Reporter;
  ignorePreflightErrors: readonly string[];
  /** The API as admin.conf; a recording client in a dry-run. */
  api(): Promise<ApiClient>;
  /** super-admin.conf (system:masters), only for the RBAC that admin.conf itself relies on. */
  superAdminApi(): Promise<ApiClient>;
  /** Set with --upload-certs: the hex key (given or generated). */
  certificateKey?: string;
  now: () => Date;
  /** Randomness for the upload-certs token (node:crypto unless a test injects one). */
  random?: RandomInt;
  apiRetry?: RetryOptions;
  /** show-join-command fills this; the command prints it. */
  joinCommands?: JoinCommands;
}
