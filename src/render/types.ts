/** What every renderer produces: files for one host, by absolute path on that host. */
export interface RenderedFile {
  /** Absolute path on the host, e.g. /etc/kubernetes/manifests/etcd.yaml. */
  path: string;
  /** Unix permission bits, e.g. 0o600. */
  mode: number;
  content: string | Buffer;
  /** "user:group"; defaults to root:root. */
  owner?: string;
  /** Holds key material or a secret: never printed, diffed or logged. */
  secret?: boolean;
}

export const byPath = (a: RenderedFile, b: RenderedFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
