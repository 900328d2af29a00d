import { describe, expect, it } from 'vitest';
import { handOffLeadership } from '../../../src/static-pods/etcd-leader.js';
import { apiUrlsOf, parseEtcdManifest } from '../../../src/static-pods/etcd-api.js';
import { FakeTransport } from '../../support/fake-transport.js';

const ENDPOINT = 'https://127.0.0.1:2382';
const status = (self: string, leader: string) => JSON.stringify({ header: { member_id: self }, leader });
const members = JSON.stringify({
  members: [
    { ID: '11', name: 'cp1' },
    { ID: '12', name: '', isLearner: true },
    { ID: '13', name: 'cp3', isLearner: true },
    { ID: '14', name: 'cp4' },
  ],
});

function host(statusOut: string, moveResult = { stdout: '{}' }): FakeTransport {
  return new FakeTransport('cp1', {
    rules: [
      { match: (c) => c.includes('/v3/maintenance/status'), result: { stdout: statusOut } },
      { match: (c) => c.includes('/v3/cluster/member/list'), result: { stdout: members } },
      { match: (c) => c.includes('/v3/maintenance/transfer-leadership'), result: moveResult },
    ],
  });
}

describe('etcd leadership hand-off before a restart', () => {
  it('the leader hands over to a started voting member (never a learner or a member not started yet)', async () => {
    const fake = host(status('11', '11'));
    expect(await handOffLeadership(fake, ENDPOINT)).toEqual({ moved: true, to: 'cp4' });
    const move = fake.commands.find((c) => c.includes('transfer-leadership'))!;
    expect(move).toContain('{"targetID":"14"}');
    expect(move).toContain(`${ENDPOINT}/v3/maintenance/transfer-leadership`);
  });

  it('a follower keeps things as they are', async () => {
    const fake = host(status('14', '11'));
    expect(await handOffLeadership(fake, ENDPOINT)).toEqual({ moved: false });
    expect(fake.commands.some((c) => c.includes('transfer-leadership') || c.includes('member/list'))).toBe(false);
  });

  it('an answer that is not etcd\'s, or a refused move, is a warning: the restart goes on', async () => {
    const warningOf = (handOff: Awaited<ReturnType<typeof handOffLeadership>>) => ('warning' in handOff ? handOff.warning : undefined);
    const garbage = await handOffLeadership(host('<html>proxy</html>'), ENDPOINT);
    expect(garbage.moved).toBe(false);
    expect(warningOf(garbage)).toMatch(/could not hand etcd leadership.*not the JSON etcd answers.*etcd hands it over itself/);
    const refused = await handOffLeadership(host(status('11', '11'), { code: 22, stderr: 'etcdserver: not leader' } as never), ENDPOINT);
    expect(refused.moved).toBe(false);
    expect(warningOf(refused)).toContain('not leader');
  });
});

describe("where kbuild reaches a member's HTTP API", () => {
  const manifest = (flags: string[]) => JSON.stringify({ spec: { containers: [{ command: ['etcd', '--name=cp1', '--initial-advertise-peer-urls=https://10.0.0.1:2380', '--initial-cluster=cp1=https://10.0.0.1:2380,cp2=https://10.0.0.2:2380', ...flags] }] } });
  const cp2 = { id: '2', name: 'cp2', peerURLs: ['https://10.0.0.2:2380'], clientURLs: ['https://10.0.0.2:2379'], isLearner: false };

  it("kbuild's members: on --listen-client-http-urls, and the others on their peer address at that port", () => {
    const local = parseEtcdManifest(manifest(['--listen-client-http-urls=https://127.0.0.1:2382,https://10.0.0.1:2382', '--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.1:2379']), 'etcd.yaml');
    expect(local.endpoints).toEqual(['https://127.0.0.1:2382', 'https://10.0.0.1:2382', 'https://10.0.0.2:2382']);
    expect(apiUrlsOf(cp2, local)).toEqual(['https://10.0.0.2:2382']);
  });

  it("kubeadm's (one port for gRPC and HTTP): the client URLs, as before", () => {
    const local = parseEtcdManifest(manifest(['--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.1:2379', '--advertise-client-urls=https://10.0.0.1:2379']), 'etcd.yaml');
    expect(local.endpoints).toEqual(['https://127.0.0.1:2379', 'https://10.0.0.1:2379', 'https://10.0.0.2:2379']);
    expect(apiUrlsOf(cp2, local)).toEqual(['https://10.0.0.2:2379']);
  });
});
