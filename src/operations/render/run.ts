/**
 * `kbuild render`: every host's files (exactly what apply pushes) and PLAN.md (apply's phase tree,
 * step by step) into a directory, creating or reusing the PKI and secrets in the state directory.
 */
import { prepareCluster, type PrepareOptions, type PreparedCluster } from '../../state/prepare.js';
import { renderPlan } from '../apply/plan.js';
import { writeRenderedTree, type TreeSummary } from './tree.js';

export interface RenderResult extends TreeSummary {
  prepared: PreparedCluster;
}

export async function renderToDirectory(options: PrepareOptions & { output: string; force: boolean }): Promise<RenderResult> {
  const prepared = await prepareCluster(options);
  const summary = await writeRenderedTree(options.output, prepared.rendered.hosts, renderPlan(prepared.cluster), { force: options.force });
  return { ...summary, prepared };
}
