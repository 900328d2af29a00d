import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { controlPlaneMarks, markPatch, workerMarks } from '../../../src/kube/node.js';
import type { Host } from '../../../src/config/model.js';
import { CONTROL_PLANE_LABELS } from '../../../src/kubeadm/constants.js';

const host = (roles: Host['roles'], extra: Partial<Host> = {}): Host => ({
  name: 'n1',
  address: '10.0.0.1',
  roles,
  ssh: { address: '10.0.0.1', user: 'root', port: 22, knownHostsFile: '', sudo: false, connectTimeoutMs: 1, serverAliveIntervalMs: 1 },
  ...extra,
});
const node = (labels: Record<string, string>, taints: V1Taint[] = []): V1Node => ({ metadata: { name: 'n1', labels }, spec: { taints } });

describe("a Node's marks", () => {
  test("a control plane: kubeadm's two labels and taint; with the worker role no taint; the host's taints replace kubeadm's", () => {
    expect(controlPlaneMarks(host(['control-plane']))).toEqual({ labels: CONTROL_PLANE_LABELS, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });
    expect(controlPlaneMarks(host(['control-plane', 'worker'])).taints).toEqual([]);
    expect(controlPlaneMarks(host(['control-plane'], { taints: [] })).taints).toEqual([]);
    expect(controlPlaneMarks(host(['control-plane'], { labels: { zone: 'a' }, taints: [{ key: 'x', effect: 'NoExecute' }] }))).toEqual({
      labels: { zone: 'a', ...CONTROL_PLANE_LABELS },
      taints: [{ key: 'x', effect: 'NoExecute' }],
    });
  });

  test('a worker: only what the cluster file gives', () => {
    expect(workerMarks(host(['worker']))).toEqual({ labels: {}, taints: [] });
  });

  test('the patch adds missing labels and taints, updates a taint of the same key and effect, keeps the others', () => {
    const marks = { labels: { zone: 'a', disk: 'ssd' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const }, { key: 'spot', effect: 'NoExecute' as const }] };
    const current = node({ zone: 'b', other: 'kept' }, [
      { key: 'dedicated', value: 'cpu', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'cpu', effect: 'NoExecute' },
      { key: 'theirs', effect: 'PreferNoSchedule' },
    ]);
    expect(markPatch(current, marks)).toEqual({
      metadata: { labels: { zone: 'a', disk: 'ssd' } },
      spec: {
        taints: [
          { key: 'dedicated', value: 'cpu', effect: 'NoExecute' },
          { key: 'theirs', effect: 'PreferNoSchedule' },
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'spot', effect: 'NoExecute' },
        ],
      },
    });
  });

  test('nothing to patch when the Node has its marks, whatever else it carries (a second apply changes nothing)', () => {
    const marks = { labels: { zone: 'a' }, taints: [{ key: 'spot', effect: 'NoExecute' as const }] };
    expect(markPatch(node({ zone: 'a', more: 'x' }, [{ key: 'spot', effect: 'NoExecute' }, { key: 'y', effect: 'NoSchedule' }]), marks)).toBeUndefined();
    expect(markPatch(node({ zone: 'a' }, [{ key: 'spot', effect: 'NoExecute' }]), { labels: {}, taints: [] })).toBeUndefined();
  });

  test('only labels change: the patch leaves the taint list alone', () => {
    expect(markPatch(node({}, [{ key: 'spot', effect: 'NoExecute' }]), { labels: { zone: 'a' }, taints: [{ key: 'spot', effect: 'NoExecute' }] })).toEqual({ metadata: { labels: { zone: 'a' } } });
  });
});
