/**
 * PLAN.md is made of the apply phases' own plan steps; this checks the result reads as the tree
 * runs: the plan's steps, mapped to the phases that carry them out, come in the tree's order, for
 * every example.
 */
import { describe, expect, test } from 'vitest';
import { APPLY_PHASES } from '../../../src/operations/apply/phases.js';
import { loadClusterFile } from '../../../src/config/load.js';
import { phasePaths } from '../../../src/workflow/select.js';
import { renderPlan } from '../../../src/operations/apply/plan.js';
import { examplePath } from './fixture.js';

const PHASE_OF_STEP: Record<string, string> = {
  etcd: 'etcd',
  'kube-apiserver': 'control-plane/apiserver',
  'kube-controller-manager': 'control-plane/controller-manager',
  'kube-scheduler': 'control-plane/scheduler',
  'load balancer': 'load-balancer',
  'bootstrap token': 'bootstrap-token',
  kubelet: 'kubelet',
  'kube-proxy': 'addons/kube-proxy',
  CoreDNS: 'addons/coredns',
};

describe('PLAN.md follows the apply phase tree', () => {
  test.each(['single-node', 'ha-stacked', 'ha-external-etcd', 'dual-stack'])('%s', async (example) => {
    const { cluster } = await loadClusterFile(examplePath(example));
    const steps = [...renderPlan(cluster).matchAll(/^\d+\. \*\*(.+?)\*\*/gm)].map((m) => m[1]!);
    expect(steps.length).toBeGreaterThanOrEqual(7);
    const phases = steps.map((s) => PHASE_OF_STEP[s] ?? `(no phase for plan step "${s}")`);
    const treeOrder = phasePaths(APPLY_PHASES).filter((p) => phases.includes(p));
    expect(phases).toEqual(treeOrder);
  });
});
