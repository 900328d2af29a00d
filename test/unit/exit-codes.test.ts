/**
 * Exit codes by meaning: what a run finds on the cluster, a host or this machine is a user
 * condition — exit 1, one message, no stack — never UsageError's 2 ('bad command line') or the
 * internal error's 70 ('a bug, report it'). Each case drives the real code to the condition and
 * maps the error as the CLI does.
 */
import { PassThrough } from 'node:stream';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { reportError } from '../../src/cli.js';
import { loadClusterFile } from '../../src/config/load.js';
import { ApiError, ExitCode } from '../../src/errors/index.js';
import type { ApiClient } from '../../src/kube/client.js';
import { markNode } from '../../src/kube/node.js';
import { readClusterConfiguration } from '../../src/kube/published-cluster.js';
import { decryptCertsSecret, downloadSharedCerts } from '../../src/kube/upload-certs.js';
import type { InitContext } from '../../src/operations/init/context.js';
import { INIT_PHASES } from '../../src/operations/init/phases.js';
import { resolveInitTarget } from '../../src/operations/init/target.js';
import type { JoinContext } from '../../src/operations/join/context.js';
import { publishedKubeletConfig } from '../../src/operations/join/kubelet-files.js';
import { JOIN_PHASES } from '../../src/operations/join/phases.js';
import { defaultRouteAddress, localAddresses } from '../../src/operations/machine.js';
import { captureOutput } from '../../src/report/output.js';
import { recordingReporter } from '../../src/report/reporter.js';
import { loadTemplates } from '../../src/templates/index.js';
import type { Phase } from '../../src/workflow/types.js';
import { phasePaths, selectPhases } from '../../src/workflow/select.js';
import { FakeTransport } from '../support/fake-transport.js';
import { parseFacts } from '../../src/preflight/facts.js';
import { examplePath } from './render/fixture.js';

const caught = (run: () => Promise<unknown>): Promise<unknown> => run().then(
  () => new Error('expected the condition to fail the run'),
  (error: unknown) => error,
);

/** An API client that answers reads from `objects` (by kind/name), 404 for the rest. */
function api(objects: Record<string, KubernetesObject> = {}, failWith?: number): ApiClient {
  const notFound = (what: string) => new ApiError('https://10.0.0.1:6443', 404, `${what} not found`);
  return {
    read: (_v, kind, _ns, name) => (failWith ? Promise.reject(new ApiError('https://10.0.0.1:6443', failWith, 'refused')) : Promise.resolve(objects[`${kind}/${name}`])),
    list: () => Promise.resolve([]),
    apply: (o) => Promise.resolve([...o]),
    delete: () => Promise.resolve(false),
    mergePatch: (_v, kind, _ns, name) => Promise.reject(notFound(`${kind} ${name}`)),
  };
}

const phase = <C>(tree: readonly Phase<C>[], path: string): Phase<C> => {
  expect(phasePaths(tree)).toContain(path);
  return selectPhases(tree, { only: path })[0]!.phase;
};

const quick = { intervalMs: 1, timeoutMs: 5 };

async function joinContext(overrides: Partial<JoinContext>): Promise<JoinContext> {
  const { cluster } = await loadClusterFile(examplePath('ha-stacked'));
  return {
    cluster,
    host: cluster.hosts.find((h) => h.name === 'cp2')!,
    controlPlane: true,
    discovered: { kubeconfig: '', server: 'https://10.0.0.1:6443', caCertPem: '' },
    token: 'abcdef.0123456789abcdef',
    transport: new FakeTransport('cp2', { unmatched: { code: 0 } }),
    // A machine that told nothing (none of these conditions reads its facts).
    facts: { facts: parseFacts(''), localEpochSeconds: 0 },
    reporter: recordingReporter(),
    templates: await loadTemplates(),
    ignorePreflightErrors: [],
    bootstrapApi: () => api(),
    adminApi: () => Promise.resolve(api()),
    now: () => new Date(),
    apiRetry: quick,
    ...overrides,
  };
}

const USER_CONDITIONS: Array<[name: string, run: () => Promise<unknown>, says: RegExp]> = [
  [
    'etcd does not promote the learner in time',
    async () => {
      // etcd's JSON gateway lists cp2 as a learner and refuses to promote it, every time.
      const learner = { ID: '2', name: 'cp2', peerURLs: ['https://192.168.10.12:2380'], isLearner: true };
      const rules = [
        { match: /member\/list/, result: { code: 0, stdout: JSON.stringify({ members: [{ ID: '1', name: 'cp1', peerURLs: ['https://192.168.10.11:2380'] }, learner] }) } },
        { match: /member\/promote/, result: { code: 22, stdout: '{"error":"etcdserver: can only promote a learner member which is in sync with leader"}' } },
      ];
      const ctx = await joinContext({ transport: new FakeTransport('cp2', { rules, unmatched: { code: 0 } }) });
      let clock = 0;
      ctx.apiRetry = { now: () => (clock += 60_000), delay: () => Promise.resolve() };
      return phase(JOIN_PHASES, 'etcd-join').run!(ctx, ctx.host);
    },
    /etcd did not promote learner cp2 within .*can only promote a learner member which is in sync/,
  ],
  [
    'an etcd member answers the member list with something that is not JSON',
    async () => {
      const ctx = await joinContext({ transport: new FakeTransport('cp2', { rules: [{ match: /member\/list/, result: { code: 0, stdout: '<html>proxy error</html>' } }], unmatched: { code: 0 } }) });
      return phase(JOIN_PHASES, 'etcd-join').run!(ctx, ctx.host);
    },
    /etcd's member list is not the JSON etcd answers.*<html>proxy error/,
  ],
  [
    'a Ready Node already has the joining name',
    async () => {
      const ready: V1Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cp2' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
      const ctx = await joinContext({ bootstrapApi: () => api({ 'Node/cp2': ready }) });
      return phase(JOIN_PHASES, 'kubelet-start').runOnce!(ctx);
    },
    /a Node named "cp2" already exists in the cluster and is Ready/,
  ],
  ['the cluster has no kubelet-config ConfigMap', () => publishedKubeletConfig(api()), /no kube-system\/kubelet-config ConfigMap/],
  ['the cluster has no kubeadm-config ConfigMap', () => readClusterConfiguration(api()), /no kube-system\/kubeadm-config/],
  ['the kubeadm-certs Secret is gone', () => downloadSharedCerts(api(), true, 'c'.repeat(64), ''), /kubeadm-certs does not exist/],
  ['the kubeadm-certs Secret lacks a file', async () => decryptCertsSecret({ data: {} }, Buffer.alloc(32), ['ca.crt']), /kubeadm-certs lacks ca\.crt/],
  ['the kubelet never registers the Node', () => markNode(api(), 'cp1', { labels: {}, taints: [] }, quick), /Node cp1 is not registered/],
  ['this machine has no default route', () => defaultRouteAddress(new FakeTransport('local', { rules: [{ match: /^ip -j route get/, result: { code: 2, stderr: 'RTNETLINK answers: Network is unreachable' } }] })), /no default route/],
  ['ip cannot list this machine\'s addresses', () => localAddresses(new FakeTransport('local', { rules: [{ match: 'ip -j addr show', result: { code: 1, stderr: 'ip: command not found' } }] })), /`ip -j addr show` exited with 1/],
  [
    'init runs on a control plane that is not the first',
    () => resolveInitTarget(new FakeTransport('local'), { config: examplePath('ha-stacked'), nodeName: 'cp2' }),
    /cp2 is not the first control plane/,
  ],
  [
    'init is asked for an addon on a host render gave none',
    async () => {
      const { cluster } = await loadClusterFile(examplePath('ha-stacked'));
      const ctx = { cluster, host: cluster.hosts.find((h) => h.name === 'cp2')!, files: [], transport: new FakeTransport('cp2', { unmatched: { code: 0 } }), api: () => Promise.resolve(api()) } as unknown as InitContext;
      return phase(INIT_PHASES, 'addon/coredns').runOnce!(ctx);
    },
    /render gave cp2 no files for addon\/coredns/,
  ],
];

describe('user conditions exit 1 with a message and no stack', () => {
  it.each(USER_CONDITIONS)('%s', async (_name, run, says) => {
    const error = await caught(run);
    const output = captureOutput();
    const code = reportError(error, { ...output, streams: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() } });
    expect(output.stderr.join('\n')).toMatch(says);
    expect(code, String((error as Error).stack)).toBe(ExitCode.failed);
    expect(code).not.toBe(ExitCode.internal);
    expect(output.stderr.join('\n')).not.toMatch(/\n\s+at |internal error/);
  });
});
