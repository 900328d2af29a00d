import { describe, expect, it } from 'vitest';
import { handOffLeadership } from '../../../src/static-pods/etcd-leader.js';
import { FakeTransport } from '../../support/fake-transport.js';

const ENDPOINT = 'https://127.0.0.1:2379';
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
