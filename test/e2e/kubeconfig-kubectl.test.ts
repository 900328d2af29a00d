/**
 * Every kubeconfig `kbuild render` writes, and those embedded in the addon ConfigMaps (cluster-info,
 * kube-proxy's kubeconfig.conf), passes `kubectl config view`. Moved here from the golden test: one
 * kubectl run per kubeconfig.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { loadClusterFile } from '../../src/config/load.js';
import { ensureClusterPki } from '../../src/pki/ensure.js';
import { renderCluster } from '../../src/render/cluster.js';
import { loadRenderSecrets } from '../../src/state/secrets.js';
import { StateDir } from '../../src/state/state-dir.js';
import { loadTemplates } from '../../src/templates/index.js';
import { repoRoot, testOptions } from '../support/pki.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-kubectl-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function renderExample(example: string) {
  const { cluster } = await loadClusterFile(join(repoRoot, 'examples', `${example}.yaml`));
  const state = await StateDir.open(join(work, 'state', example));
  const pki = await ensureClusterPki(cluster, state, testOptions());
  return { rendered: renderCluster({ cluster, pki, secrets: await loadRenderSecrets(state), templates: await loadTemplates() }) };
}

describe.each(['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'])('%s', (example) => {
  test('every kubeconfig passes `kubectl config view`', async () => {
    const { rendered } = await renderExample(example);
    const kubeconfigs: Array<[string, string]> = [];
    for (const [host, files] of rendered.hosts) {
      for (const file of files) {
        if (file.path.endsWith('.conf') && file.path.startsWith('/etc/kubernetes/')) kubeconfigs.push([`${host}${file.path}`, String(file.content)]);
        // Kubeconfigs embedded in addon ConfigMaps: cluster-info and kube-proxy's kubeconfig.conf.
        if (file.path.startsWith('/etc/kubernetes/addons/')) {
          for (const doc of yaml.loadAll(String(file.content)) as Array<{ kind?: string; data?: Record<string, string> }>) {
            if (doc.kind !== 'ConfigMap') continue;
            for (const key of ['kubeconfig', 'kubeconfig.conf']) if (doc.data?.[key]) kubeconfigs.push([`${host}${file.path}#${key}`, doc.data[key]]);
          }
        }
      }
    }
    expect(kubeconfigs.length).toBeGreaterThan(2);
    for (const [where, text] of kubeconfigs) {
      const path = join(work, 'kubeconfig');
      writeFileSync(path, text, { mode: 0o600 });
      const view = execFileSync('kubectl', ['config', 'view', '--kubeconfig', path, '-o', 'json'], { encoding: 'utf8' });
      const parsed = JSON.parse(view) as { clusters: { cluster: { server: string } }[] };
      expect(parsed.clusters[0]!.cluster.server, where).toMatch(/^https:\/\//);
    }
  });
});
