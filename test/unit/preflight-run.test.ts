import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClusterFile } from '../../src/config/load.js';
import { buildCluster, type Host } from '../../src/config/model.js';
import { PreflightError } from '../../src/errors/index.js';
import { gatherHostFacts, runPreflight } from '../../src/preflight/run.js';
import { recordingReporter } from '../../src/report/reporter.js';
import type { CommandResult, Transport } from '../../src/transport/transport.js';

const cluster = buildCluster(parseClusterFile(readFileSync(join(import.meta.dirname, '../../examples/single-node.yaml'), 'utf8'), 'single-node.yaml'));
const EPOCH = 1_763_700_000;

/** What a healthy node prints for the facts command, with the host's clock at `epoch`. */
const healthy = (name: string, epoch: number) =>
  [
    ['uid', '0'],
    ['hostname', name],
    ['epoch', String(epoch)],
    ['binaries', 'kubelet\nconntrack\nip\niptables\nmount\nnsenter\ncurl'],
    ['paths', '/var/run/containerd/containerd.sock'],
    ['swaps', 'Filename Type Size Used Priority'],
    ['ip_forward', '1'],
    ['ipv6_forwarding', '0'],
    ['listen', ''],
    ['addr', '[]'],
    ['route4', '[]'],
    ['route6', '[]'],
  ]
    .map(([k, v]) => `@@kbuild:${k}\n${v}`)
    .join('\n');

const transport = (name: string, run: () => Promise<CommandResult>): Transport => ({
  name,
  run,
  readFile: async () => undefined,
  writeFile: async () => Promise.reject(new Error('preflight must not write')),
  stat: async () => undefined,
  remove: async () => Promise.reject(new Error('preflight must not remove')),
  close: async () => {},
});

const hostsOf = (...names: string[]): Host[] => names.map((name, i) => ({ ...cluster.hosts[0]!, name, address: `192.168.10.${21 + i}` }));

describe('runPreflight', () => {
  it('compares each host clock with this machine at the moment that host answered, not after the slowest', async () => {
    let now = EPOCH;
    const transports: Record<string, Transport> = {
      // node1 is slow: 61 s pass on this machine while it answers (its clock is right).
      node1: transport('node1', async () => {
        const at = now;
        now += 61;
        return { code: 0, stdout: healthy('node1', at + 30), stderr: '' };
      }),
      node2: transport('node2', async () => ({ code: 0, stdout: healthy('node2', now), stderr: '' })),
    };
    const findings = await runPreflight(cluster, {
      hosts: hostsOf('node1', 'node2'),
      connect: async (h) => transports[h.name]!,
      concurrency: 1,
      ignore: [],
      reporter: recordingReporter(),
      nowSeconds: () => now,
    });
    expect(findings.filter((f) => f.name === 'ClockSkew')).toEqual([]);
  });

  it('reports facts that did not arrive as one error for that host, not as missing tools', async () => {
    const transports: Record<string, Transport> = {
      node1: transport('node1', async () => ({ code: null, stdout: healthy('node1', EPOCH).split('@@kbuild:binaries')[0]!, stderr: '', timedOut: true })),
      node2: transport('node2', async () => ({ code: 0, stdout: healthy('node2', EPOCH), stderr: '' })),
    };
    const error = await runPreflight(cluster, {
      hosts: hostsOf('node1', 'node2'),
      connect: async (h) => transports[h.name]!,
      concurrency: 2,
      ignore: [],
      reporter: recordingReporter(),
      nowSeconds: () => EPOCH,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreflightError);
    const message = (error as Error).message;
    // Exactly one finding, for node1, saying the facts did not arrive and why; node2 is fine.
    expect(message.match(/\[ERROR /g)).toHaveLength(1);
    expect(message).toMatch(/\tnode1: \[ERROR Connect\]: `preflight fact gathering [^`]*` exited with a signal:\n\s+timed out after 30 s/);
  });

  it('checks facts the operation already gathered (to render with them) without asking the host again', async () => {
    let asked = 0;
    const answering = transport('node1', async () => (asked++, { code: 0, stdout: healthy('node1', EPOCH + 300), stderr: '' }));
    const [node1] = hostsOf('node1');
    const gathered = await gatherHostFacts(cluster, node1!, answering, () => EPOCH);
    expect(gathered.localEpochSeconds).toBe(EPOCH);
    const findings = await runPreflight(cluster, {
      hosts: [node1!],
      connect: async () => Promise.reject(new Error('preflight must not connect again')),
      concurrency: 1,
      ignore: ['ClockSkew'],
      reporter: recordingReporter(),
      nowSeconds: () => EPOCH + 10_000,
      gathered: new Map([['node1', gathered]]),
    });
    expect(asked).toBe(1);
    // The clock compared is the one taken when the host answered, not preflight's own.
    expect(findings.find((f) => f.name === 'ClockSkew')?.message).toMatch(/differs from this machine by 300 s/);
  });
});
