/**
 * The facts that decide a host's files (src/kubeadm/host-environment.ts): whether systemd-resolved
 * is active, by kubeadm's test (util/initsystem), and which optional CA directories exist. Parsed
 * from scripted output, and from the real facts command run by a real /bin/sh against stand-in
 * systemctl / openrc programs on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTIONAL_CA_DIRS } from '../../src/kubeadm/host-environment.js';
import { factsCommand, hostEnvironment, parseFacts } from '../../src/preflight/facts.js';
import { factsOutput } from '../support/facts.js';

const work = mkdtempSync(join(tmpdir(), 'kbuild-facts-env-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('systemd-resolved, as kubeadm tells it', () => {
  it.each([
    ['systemd\nactive', true],
    ['systemd\nactivating', true],
    ['systemd\ninactive', false],
    ['systemd\nfailed', false],
    // systemctl where systemd is not PID 1 (a container) prints nothing on stdout.
    ['systemd', false],
    ['systemd\nactive\nactive', false],
    [' * status: started', false],
    ['openrc\n * status: started', true],
    ['openrc\n * status: stopped', false],
    ["openrc\n * rc-service: service `systemd-resolved' does not exist", false],
    // Neither systemctl nor openrc on PATH: kubeadm cannot tell and takes it as not active.
    ['', false],
  ])('%j → %s', (resolved, active) => {
    expect(parseFacts(factsOutput({ resolved })).systemdResolved).toBe(active);
  });

  it('an old facts output without the section is not active', () => {
    expect(parseFacts(factsOutput().replace(/@@kbuild:resolved\n[^@]*/, '')).systemdResolved).toBe(false);
  });
});

describe('optional CA directories', () => {
  it("keeps kubeadm's list and its order, whatever order the host printed, and nothing else", () => {
    const facts = parseFacts(factsOutput({ ca_dirs: '/usr/local/share/ca-certificates\n/etc/pki/ca-trust\n/etc/pki\n/etc/passwd' }));
    expect(facts.caDirs).toEqual(['/etc/pki/ca-trust', '/usr/local/share/ca-certificates']);
  });

  it('none printed, none there', () => {
    expect(parseFacts(factsOutput()).caDirs).toEqual([]);
  });

  it('the render gets only what it needs, as a copy', () => {
    const facts = parseFacts(factsOutput({ resolved: 'systemd\nactive', ca_dirs: '/etc/ca-certificates' }));
    const env = hostEnvironment(facts);
    expect(env).toEqual({ systemdResolved: true, caDirs: ['/etc/ca-certificates'] });
    expect(env.caDirs).not.toBe(facts.caDirs);
  });
});

describe('the real facts command', () => {
  const stub = (dir: string, name: string, script: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  /** Runs the facts command with only `dir` on PATH: the other sections come out empty (its exit status is ip's: not found). */
  const run = (dir: string) => parseFacts(spawnSync('/bin/sh', ['-c', factsCommand([])], { encoding: 'utf8', env: { PATH: dir } }).stdout);

  it('asks systemctl is-active systemd-resolved when systemctl is on PATH', () => {
    const dir = mkdtempSync(join(work, 'systemd-'));
    stub(dir, 'systemctl', '[ "$1 $2" = "is-active systemd-resolved" ] && echo active || echo unknown; exit 0');
    expect(run(dir).systemdResolved).toBe(true);
    stub(dir, 'systemctl', 'echo inactive; exit 3');
    expect(run(dir).systemdResolved).toBe(false);
  });

  it("asks rc-service without systemctl, with openrc on PATH, reading its stderr too", () => {
    const dir = mkdtempSync(join(work, 'openrc-'));
    stub(dir, 'openrc', 'exit 0');
    stub(dir, 'rc-service', '[ "$1 $2" = "systemd-resolved status" ] && echo " * status: started" || echo " * status: stopped"');
    expect(run(dir).systemdResolved).toBe(true);
    stub(dir, 'rc-service', "echo \" * rc-service: service \\`$1' does not exist\" >&2; exit 1");
    expect(run(dir).systemdResolved).toBe(false);
  });

  it('neither on PATH: not active', () => {
    expect(run(mkdtempSync(join(work, 'none-'))).systemdResolved).toBe(false);
  });

  it("lists exactly this machine's optional CA directories, and still runs to its last section", () => {
    const output = execFileSync('/bin/sh', ['-c', factsCommand([])], { encoding: 'utf8' });
    expect(output).toContain('@@kbuild:route6');
    expect(parseFacts(output).caDirs).toEqual(OPTIONAL_CA_DIRS.filter((d) => existsSync(d)));
  });
});
