import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const kbuild = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/kbuild.js'), ...args], { encoding: 'utf8', cwd: root });

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
});

describe('kbuild validate (CLI)', () => {
  it('exits 0 with a one-line summary for every example', () => {
    for (const example of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml'))) {
      const result = kbuild('validate', '-i', `examples/${example}`);
      expect(result.status, `${example}: ${result.stderr}`).toBe(0);
      expect(result.stdout.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toContain(': valid: cluster ');
    }
  });

  it('exits 1 with the overlap on one line and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbuild-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: kbuild.io/v1alpha1\nkind: Cluster\nmetadata: {name: demo}\nspec:\n  networking:\n    podSubnet: 10.96.0.0/16\n  hosts:\n    - {name: cp1, address: 192.168.1.10, roles: [control-plane]}\n',
    );
    const result = kbuild('validate', '-i', file);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.yaml:6: spec\.networking\.podSubnet: 10\.96\.0\.0\/16 .*spec\.networking\.serviceSubnet 10\.96\.0\.0\/12/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for usage errors', () => {
    expect(kbuild('validate').status).toBe(2);
    expect(kbuild('validate', '-i', 'x.yaml', '--bogus').status).toBe(2);
    const typo = kbuild('valdate', '-i', 'x');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('Did you mean validate?');
    expect(kbuild().status).toBe(2);
  });

  it('answers --help on every command and --version', () => {
    expect(kbuild('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = kbuild('validate', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--inventory');
  });
});
