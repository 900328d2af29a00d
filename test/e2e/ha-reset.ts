/**
 * kbuild reset on the HA cluster of ha-stacked.test.ts: one control plane (it leaves etcd, the rest
 * stays healthy), the same host again, a host on its own, a dry run, the whole fleet (with and without
 * --force), then a second `apply` that brings the cluster back to the same working state, and last the
 * state directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKubectl, expectWorkingCluster } from './cluster-checks.js';
import { kbuild, repoRoot } from './cluster-lab.js';
import type { HaContext } from './ha-stacked.test.js';

const HOST_NAMES = ['lb1', 'lb2', 'cp1', 'cp2', 'cp3', 'w1', 'w2'];
const ETCD_CLIENT = '--cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key';
const RESET_TIMEOUT_MS = 5 * 60_000;

export function describeReset(ctx: HaContext): void {
  describe('kbuild reset, then apply again', () => {
    /**
     * Every path kbuild rendered and apply leaves, per host: a worker's bootstrap-kubelet.conf is removed
     * once its kubelet has its own credential (the first ha-stacked test checks that).
     */
    const rendered = new Map<string, string[]>();
    let caBefore = '';
    const base = () => ['reset', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir];
    const reset = (...args: string[]) => kbuild([...base(), ...args], RESET_TIMEOUT_MS);

    beforeAll(async () => {
      const out = `${ctx.cl.dir}/rendered-before-reset`;
      const render = await kbuild(['render', '-i', ctx.cl.clusterFile, '--state-dir', ctx.cl.stateDir, '-o', out]);
      expect(render.code, render.stderr).toBe(0);
      for (const name of HOST_NAMES) {
        const listing = execFileSync('sh', ['-c', `cd ${out}/${name} && find . -type f | sed 's|^\\.||' | sort`], { encoding: 'utf8' });
        rendered.set(name, listing.trim().split('\n').filter((path) => path !== '/etc/kubernetes/bootstrap-kubelet.conf'));
      }
      caBefore = (await ctx.cl.lab.exec('cp1', ['cat', '/etc/kubernetes/pki/ca.crt'])).stdout;
    });

    const present = async (host: string, paths: readonly string[]) => {
      const found = await ctx.cl.lab.exec(host, `for p in ${paths.join(' ')}; do [ -e "$p" ] && echo "$p"; done; true`);
      return found.stdout.trim().split('\n').filter(Boolean);
    };
    const etcdEntries = async (host: string) => (await ctx.cl.lab.exec(host, 'ls -A /var/lib/etcd')).stdout.trim().split('\n').filter(Boolean);
    const active = async (host: string, unit: string) => (await ctx.cl.lab.exec(host, `systemctl is-active ${unit}`, { allowFailure: true })).code === 0;
    const containers = async (host: string) => (await ctx.cl.lab.exec(host, 'crictl ps -q 2>/dev/null')).stdout.trim().split('\n').filter(Boolean);
    const memberNames = async (host: string) => {
      const list = await ctx.cl.lab.exec(host, `curl -sS --fail-with-body --max-time 5 ${ETCD_CLIENT} -X POST -d '{}' https://127.0.0.1:2382/v3/cluster/member/list`);
      return (JSON.parse(list.stdout) as { members: Array<{ name: string }> }).members.map((m) => m.name).sort();
    };

    it('resets one control plane: it leaves etcd first, its pods and files go, the others stay healthy', async () => {
      expect(await memberNames('cp1')).toEqual(['cp1', 'cp2', 'cp3']);
      const result = await reset('--hosts', 'cp3', '--force');
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      expect(result.stdout).toMatch(/^\s+removed etcd member cp3 \([0-9a-f]+\) via https:\/\/[\d.]+:2382$/m);
      expect(result.stdout).toMatch(/^\s+removed \d+ pods \(crictl rmp\)$/m);
      expect(await present('cp3', rendered.get('cp3')!)).toEqual([]);
      expect(await etcdEntries('cp3')).toEqual([]);
      expect(await active('cp3', 'kubelet')).toBe(false);
      expect(await containers('cp3')).toEqual([]);
      expect(await memberNames('cp1')).toEqual(['cp1', 'cp2']);
      expect(await memberNames('cp2')).toEqual(['cp1', 'cp2']);
      const health = await ctx.cl.lab.exec('cp1', `curl -sS --fail-with-body --max-time 5 ${ETCD_CLIENT} https://127.0.0.1:2382/health`);
      expect(health.stdout).toMatch(/"health"\s*:\s*"true"/);
      expect((await ctx.kubectl(['get', '--raw', '/readyz'])).stdout.trim()).toBe('ok');
      // Nothing else was touched.
      for (const name of HOST_NAMES.filter((h) => h !== 'cp3')) expect(await present(name, rendered.get(name)!), name).toEqual(rendered.get(name));
    }, RESET_TIMEOUT_MS);

    it('resetting the same host again changes nothing and says so', async () => {
      const result = await reset('--hosts', 'cp3', '--force');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^cp3: already clean, nothing to remove$/m);
    });

    it('kbuild reset on the host itself (no cluster file) cleans that host, its pods and its pod network', async () => {
      const result = await ctx.cl.lab.exec('w2', [process.execPath, `${repoRoot}/bin/kbuild.js`, 'reset'], { allowFailure: true, timeoutMs: RESET_TIMEOUT_MS });
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      expect(result.stdout).toMatch(/^w2: reset\n\s+stopped kubelet$/m);
      expect(await present('w2', rendered.get('w2')!)).toEqual([]);
      expect(await active('w2', 'kubelet')).toBe(false);
      expect(await containers('w2')).toEqual([]);
      const network = await ctx.cl.lab.exec('w2', 'ip -o link show kbuild0; ip route show root 10.244.0.0/16; iptables -t nat -S POSTROUTING | grep "kbuild pod network"; true');
      expect(network.stdout.trim()).toBe('');
    }, RESET_TIMEOUT_MS);

    it('a dry run of the fleet lists what it would remove and changes nothing', async () => {
      const out = `${ctx.cl.dir}/dry-run`;
      const result = await reset('--dry-run', '-o', out);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^cp1:\n(\s+would .*\n)*\s+would remove \/etc\/kubernetes\/pki$/m);
      expect(result.stdout).toMatch(/^cp3: nothing would change \(already clean\)$/m);
      expect(await present('cp1', rendered.get('cp1')!)).toEqual(rendered.get('cp1'));
      expect(await memberNames('cp1')).toEqual(['cp1', 'cp2']);
    });

    it('resets the fleet without a terminal or --force: members leave one by one, etcd data is kept and the run says so', async () => {
      const result = await reset();
      expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
      expect(result.stdout).toMatch(/cp1: removed etcd member cp1/);
      expect(result.stdout).toMatch(/"cp2" is the last etcd member: not removed; it stops with the kubelet/);
      expect(result.stdout).toMatch(/cp2: etcd data in \/var\/lib\/etcd kept: no terminal to confirm on; pass --force to remove it/);
      for (const name of HOST_NAMES) expect(await present(name, rendered.get(name)!), name).toEqual([]);
      for (const name of ['cp1', 'cp2']) expect(await etcdEntries(name), name).not.toEqual([]);
      for (const name of ['lb1', 'lb2']) {
        expect(await active(name, 'haproxy'), `${name} haproxy`).toBe(false);
        expect(await active(name, 'keepalived'), `${name} keepalived`).toBe(false);
      }
      for (const name of ['cp1', 'cp2', 'w1']) {
        expect(await active(name, 'kubelet'), name).toBe(false);
        expect(await containers(name), name).toEqual([]);
      }
      expect(existsSync(ctx.cl.stateDir)).toBe(true);
    }, RESET_TIMEOUT_MS);

    it('with --force the etcd data goes too; the state directory stays', async () => {
      const result = await reset('--force');
      expect(result.code, result.stderr).toBe(0);
      for (const name of ['cp1', 'cp2']) expect(await etcdEntries(name), name).toEqual([]);
      for (const name of ['lb1', 'lb2', 'cp3', 'w1', 'w2']) expect(result.stdout).toMatch(new RegExp(`^${name}: already clean, nothing to remove$`, 'm'));
      expect(existsSync(`${ctx.cl.stateDir}/pki/ca.key`)).toBe(true);
    }, RESET_TIMEOUT_MS);

    it('a second apply brings the cluster back to the same working state, with the same CA', async () => {
      const result = await ctx.apply();
      expect(result.code, `${result.stderr}\n${result.stdout.slice(-4000)}`).toBe(0);
      ctx.kubectl = await adminKubectl(ctx.cl);
      await expectWorkingCluster(ctx.cl, ctx.kubectl, { controlPlanes: ['cp1', 'cp2', 'cp3'], workers: ['w1', 'w2'], stackedEtcd: true, dnsFrom: 'w1' });
      expect(await memberNames('cp1')).toEqual(['cp1', 'cp2', 'cp3']);
      for (const name of HOST_NAMES) expect(await present(name, rendered.get(name)!), name).toEqual(rendered.get(name));
      expect((await ctx.cl.lab.exec('cp1', ['cat', '/etc/kubernetes/pki/ca.crt'])).stdout).toBe(caBefore);
    }, 20 * 60_000);

    it('--purge-state resets the fleet and removes the state directory', async () => {
      const result = await reset('--force', '--purge-state');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`removed state directory ${ctx.cl.stateDir}`);
      expect(existsSync(ctx.cl.stateDir)).toBe(false);
    }, RESET_TIMEOUT_MS);
  });
}
