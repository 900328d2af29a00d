/**
 * A worker's join waits for the kubelet's TLS bootstrap (kubelet.conf with a client certificate)
 * within a bound, and when the CSR is never signed fails naming the file, not after a bare test
 * timeout. The wait is the phase tree's own gate, driven here with an injected clock; that a real
 * controller-manager does sign it is the e2e init-join test.
 */
import { describe, expect, test } from 'vitest';
import { loadClusterFile } from '../../../src/config/load.js';
import { HealthGateError } from '../../../src/errors/index.js';
import { renderKubeconfig } from '../../../src/kubeconfig/kubeconfig.js';
import type { JoinContext } from '../../../src/operations/join/context.js';
import { JOIN_PHASES } from '../../../src/operations/join/phases.js';
import { recordingReporter } from '../../../src/report/reporter.js';
import { loadTemplates } from '../../../src/templates/index.js';
import { runPhases } from '../../../src/workflow/engine.js';
import { selectPhases } from '../../../src/workflow/select.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { examplePath } from '../render/fixture.js';

const FIVE_MINUTES = 5 * 60_000;

async function workerContext(transport: FakeTransport): Promise<JoinContext> {
  const { cluster } = await loadClusterFile(examplePath('ha-stacked'));
  const unused = () => Promise.reject(new Error('the TLS bootstrap wait needs no API'));
  return {
    cluster,
    host: cluster.hosts.find((h) => h.name === 'worker1')!,
    controlPlane: false,
    discovered: { kubeconfig: '', server: 'https://192.168.10.100:6443', caCertPem: '' },
    token: 'abcdef.0123456789abcdef',
    transport,
    reporter: recordingReporter(),
    templates: await loadTemplates(),
    ignorePreflightErrors: [],
    bootstrapApi: unused,
    adminApi: unused,
    now: () => new Date(),
  } as unknown as JoinContext;
}

async function waitForBootstrap(transport: FakeTransport) {
  let clock = 0;
  const phases = selectPhases(JOIN_PHASES, { only: 'kubelet-wait-bootstrap' });
  const run = runPhases(phases, await workerContext(transport), { concurrency: 1, reporter: recordingReporter(), now: () => clock, delay: (ms: number) => Promise.resolve(void (clock += ms)) });
  return { outcome: await run.then(() => undefined, (error: unknown) => error), elapsed: () => clock };
}

describe('join waits for the TLS bootstrap', () => {
  test('a CSR that is never signed fails the wait after 5 minutes, naming kubelet.conf', async () => {
    const { outcome, elapsed } = await waitForBootstrap(new FakeTransport('worker1', { unmatched: { code: 0 } }));
    expect(outcome).toBeInstanceOf(HealthGateError);
    expect((outcome as Error).message).toContain('/etc/kubernetes/kubelet.conf does not exist yet');
    expect(elapsed()).toBeGreaterThanOrEqual(FIVE_MINUTES - 1000);
    expect(elapsed()).toBeLessThanOrEqual(FIVE_MINUTES);
  });

  test('a kubelet.conf with the server and the rotated client certificate ends the wait at once', async () => {
    // As the kubelet writes it after its CSR is signed: the client certificate by file, where it rotates it.
    const kubeletConf = renderKubeconfig({ server: 'https://192.168.10.100:6443', caCertPem: 'CA', user: 'system:node:worker1' }).replace(
      /^users:.*$/ms,
      'users:\n- name: default-auth\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n',
    );
    const { outcome, elapsed } = await waitForBootstrap(new FakeTransport('worker1', { unmatched: { code: 0 }, files: { '/etc/kubernetes/kubelet.conf': kubeletConf } }));
    expect(outcome).toBeUndefined();
    expect(elapsed()).toBeLessThan(1000);
  });
});
