import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kbuild } from '../support/cli.js';
import { scratchDir } from '../support/scratch.js';

const root = join(import.meta.dirname, '../..');
describe('kbuild validate (CLI)', () => {
  it('exits 0 with a one-line summary for every example', async () => {
    for (const example of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yaml'))) {
      const result = await kbuild('validate', '-i', join(root, 'examples', example));
      expect(result.code, `${example}: ${result.stderr}`).toBe(0);
      expect(result.stdout.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toContain(': valid: cluster ');
    }
  });

  it('exits 1 with the overlap on one line and no stack trace', async () => {
    const dir = scratchDir('kbuild-cli-');
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'apiVersion: kbuild.io/v1alpha1\nkind: Cluster\nmetadata: {name: demo}\nspec:\n  networking:\n    podSubnet: 10.96.0.0/16\n  hosts:\n    - {name: cp1, address: 192.168.1.10, roles: [control-plane]}\n',
    );
    const result = await kbuild('validate', '-i', file);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.yaml:6: spec\.networking\.podSubnet: 10\.96\.0\.0\/16 .*spec\.networking\.serviceSubnet 10\.96\.0\.0\/12/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a keepalived interface that would inject a notify_master script, on one escaped line', async () => {
    const dir = scratchDir('kbuild-cli-');
    const file = join(dir, 'inject.yaml');
    writeFileSync(
      file,
      'apiVersion: kbuild.io/v1alpha1\nkind: Cluster\nmetadata: {name: demo}\nspec:\n  controlPlaneEndpoint: 192.168.1.100:8443\n  loadBalancer:\n    vip: 192.168.1.100\n' +
        '    interface: "eth0\\n    notify_master \\"/bin/sh -c touch /pwned\\""\n  hosts:\n    - {name: lb1, address: 192.168.1.5, roles: [load-balancer]}\n    - {name: cp1, address: 192.168.1.10, roles: [control-plane]}\n',
    );
    const result = await kbuild('validate', '-i', file);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/inject\.yaml:8: spec\.loadBalancer\.interface: "eth0\\u000a {4}notify_master .* contains a line break/);
  });

  it('exits 2 for usage errors', async () => {
    expect((await kbuild('validate')).code).toBe(2);
    expect((await kbuild('validate', '-i', 'x.yaml', '--bogus')).code).toBe(2);
    const typo = await kbuild('valdate', '-i', 'x');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Did you mean validate?');
    expect((await kbuild()).code).toBe(2);
  });

  it('answers --help on every command and --version', async () => {
    expect((await kbuild('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await kbuild('validate', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--inventory');
  });
});

describe('phase subcommands (CLI)', () => {
  it.each(['apply', 'init', 'join'])('%s phase --help lists each flag once, and the command\'s checks still hold', async (command) => {
    const help = await kbuild(command, 'phase', '--help');
    expect(help.code).toBe(0);
    // Option lines: "  -i, --inventory   Cluster file …"; the names are what precedes the description.
    const names = help.stdout.split('\n').filter((l) => /^\s+--?[a-z]/.test(l)).flatMap((l) => l.trim().split(/\s{2,}/)[0]!.split(/,\s*/));
    expect(names).toContain('--help');
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    expect(help.stdout).not.toMatch(/-(\w), -\1,|"text", "json", "text"/);
  });

  it('apply phase inherits apply\'s checks: --dry-run without -o is a usage error', async () => {
    const result = await kbuild('apply', 'phase', 'etcd', '-i', join(root, 'examples/ha-stacked.yaml'), '--dry-run');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--dry-run needs -o DIR');
  });
});
