/**
 * The real binary (bin/kbuild.js → dist/, built by `npm test` before vitest) on bad cluster files and
 * a bad command line: exit codes and messages as a user sees them, from a process of its own. The
 * same cases run in-process in test/unit/fuzz-cli.test.ts.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '../..');

describe('the real binary', () => {
  const kbuild = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin/kbuild.js'), ...args], { encoding: 'utf8', cwd: repoRoot, timeout: 60_000 });
  const kbuildAsync = (...args: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [join(repoRoot, 'bin/kbuild.js'), ...args], { encoding: 'utf8', cwd: repoRoot, timeout: 60_000 }, (_error, _stdout, stderr) => resolve({ status: child.exitCode, stderr }));
    });
  it.each([
    ['alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 7 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`, /expands to more than 100000 values/],
    ['binary garbage', Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x0a, 0x80]), /YAML syntax error/],
    ['over 1 MiB', `#${'x'.repeat(1 << 20)}\n`, /at most 1 MiB/],
    ['wrong type', 'apiVersion: kbuild.io/v1alpha1\nkind: Cluster\nmetadata: {name: demo}\nspec:\n  hosts: 5\n', /:5: spec\.hosts: /],
    ['empty', '', /is not a cluster file/],
  ])('%s: exit 1, message names the file, no stack', async (_name, content, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'kbuild-fuzz-bin-'));
    try {
      const file = join(dir, 'cluster.yaml');
      writeFileSync(file, content);
      const commands = [['validate', '-i', file], ['render', '-i', file, '-o', join(dir, 'out')], ['apply', '-i', file, '--dry-run', '-o', join(dir, 'dry')]];
      // The three processes at once: each starts Node and loads the CLI, which is most of the time.
      const results = await Promise.all(commands.map((args) => kbuildAsync(...args)));
      for (const [i, result] of results.entries()) {
        expect(result.status, `${commands[i]![0]}: ${result.stderr}`).toBe(1);
        expect(result.stderr.startsWith(file)).toBe(true);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).not.toMatch(/\n\s+at |internal error/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a usage error exits 2 without a stack', () => {
    const result = kbuild('apply', '-i', 'examples/ha-stacked.yaml', '--dry-run');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--dry-run needs -o DIR');
    expect(result.stderr).not.toMatch(/\n\s+at |internal error/);
  });
});
