/**
 * Golden trees: `kbuild render` of every example with a real PKI (fixture keys), normalised
 * (normalise.ts) and compared file by file with test/golden/<example>/ (modes in files.txt).
 * `UPDATE_GOLDEN=1` rewrites them. Also: two renders with the same state are byte-identical.
 * test/e2e/kubeconfig-kubectl.test.ts runs every rendered kubeconfig through `kubectl config view`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadClusterFile } from '../../../src/config/load.js';
import type { Cluster } from '../../../src/config/model.js';
import { renderPlan } from '../../../src/operations/apply/plan.js';
import { ensureClusterPki } from '../../../src/pki/ensure.js';
import { renderCluster, type RenderedCluster } from '../../../src/render/cluster.js';
import type { RenderSecrets } from '../../../src/render/context.js';
import { writeRenderedTree } from '../../../src/operations/render/tree.js';
import { loadRenderSecrets } from '../../../src/state/secrets.js';
import { StateDir } from '../../../src/state/state-dir.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { testOptions } from '../../support/pki.js';
import { examplePath } from './fixture.js';
import { normalise } from './normalise.js';

const EXAMPLES = ['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'] as const;
const GOLDEN_ROOT = join(import.meta.dirname, '../../golden');
const work = mkdtempSync(join(tmpdir(), 'kbuild-golden-'));
const renders = new Map<string, { cluster: Cluster; rendered: RenderedCluster; secrets: RenderSecrets; stateDir: string }>();

async function renderExample(example: string) {
  const { cluster } = await loadClusterFile(examplePath(example));
  const stateDir = join(work, 'state', example);
  const state = await StateDir.open(stateDir);
  const pki = await ensureClusterPki(cluster, state, testOptions());
  const secrets = await loadRenderSecrets(state);
  return { cluster, rendered: renderCluster({ cluster, pki, secrets, templates: await loadTemplates() }), secrets, stateDir };
}

beforeAll(async () => {
  const results = await Promise.all(EXAMPLES.map(async (example) => [example, await renderExample(example)] as const));
  for (const [example, result] of results) renders.set(example, result);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

describe.each(EXAMPLES)('%s', (example) => {
  test('matches the golden tree (UPDATE_GOLDEN=1 rewrites it)', () => {
    const { rendered, secrets } = renders.get(example)!;
    const expected = new Map<string, string>();
    const modes: string[] = [];
    for (const [host, files] of rendered.hosts) {
      for (const file of files) {
        expected.set(join(host, file.path), normalise(file.content, secrets));
        modes.push(`${file.mode.toString(8).padStart(4, '0')} ${host}${file.path}${file.secret ? ' (secret)' : ''}`);
      }
    }
    expected.set('PLAN.md', renderPlan(renders.get(example)!.cluster));
    expected.set('files.txt', `${modes.join('\n')}\n`);
    const goldenDir = join(GOLDEN_ROOT, example);
    if (process.env.UPDATE_GOLDEN === '1') {
      rmSync(goldenDir, { recursive: true, force: true });
      for (const [path, content] of expected) {
        mkdirSync(dirname(join(goldenDir, path)), { recursive: true });
        writeFileSync(join(goldenDir, path), content);
      }
    }
    expect(listFiles(goldenDir)).toEqual([...expected.keys()].sort());
    for (const [path, content] of expected) expect(content, path).toBe(readFileSync(join(goldenDir, path), 'utf8'));
  });

  test('two renders with the same state write byte-identical trees, modes included', async () => {
    const first = await renderExample(example);
    const second = await renderExample(example);
    const [a, b] = [join(work, 'tree', example, 'a'), join(work, 'tree', example, 'b')];
    await writeRenderedTree(a, first.rendered.hosts, renderPlan(first.cluster));
    await writeRenderedTree(b, second.rendered.hosts, renderPlan(second.cluster));
    const files = listFiles(a);
    expect(files).toEqual(listFiles(b));
    expect(files).toContain('PLAN.md');
    for (const file of files) {
      expect(readFileSync(join(b, file)).equals(readFileSync(join(a, file))), file).toBe(true);
      expect(statSync(join(b, file)).mode, file).toBe(statSync(join(a, file)).mode);
    }
  });
});
