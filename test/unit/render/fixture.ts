/** Test-only render context: fixture CA PEMs (made with openssl) instead of the real PKI. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasRole, type Host } from '../../../src/config/model.js';
import { loadClusterFile } from '../../../src/config/load.js';
import type { ClusterPki } from '../../../src/pki/types.js';
import type { RenderContext, RenderSecrets } from '../../../src/render/context.js';
import type { RenderedFile } from '../../../src/kubeadm/files.js';
import { loadTemplates } from '../../../src/templates/index.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

export const FIXTURE_SECRETS: RenderSecrets = {
  bootstrapToken: 'abcdef.0123456789abcdef',
  bootstrapTokenExpires: '2030-01-02T03:04:05Z',
  keepalived: { routerId: 51, authPass: 'Pa55w0rd' },
};

export function fixturePki(): ClusterPki {
  const caCertPem = fixture('ca.crt');
  const keyPem = fixture('apiserver.key');
  return {
    caCertPem,
    frontProxyCaCertPem: fixture('front-proxy-ca.crt'),
    etcdCaCertPem: fixture('etcd-ca.crt'),
    actions: [],
    filesForHost(host: Host): RenderedFile[] {
      if (!hasRole(host, 'control-plane')) return [];
      return [
        { path: '/etc/kubernetes/pki/ca.crt', mode: 0o644, content: caCertPem, component: 'kubelet', phase: 'certs/ca' },
        { path: '/etc/kubernetes/pki/apiserver.key', mode: 0o600, content: keyPem, secret: true, component: 'apiserver', phase: 'certs/apiserver' },
      ];
    },
  };
}

export const examplePath = (name: string) => join(import.meta.dirname, '../../../examples', `${name}.yaml`);

export async function fixtureContext(example: string): Promise<RenderContext> {
  const { cluster } = await loadClusterFile(examplePath(example));
  return { cluster, pki: fixturePki(), secrets: FIXTURE_SECRETS, templates: await loadTemplates() };
}
