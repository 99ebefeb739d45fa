/** The database's own plan for a query as the code builds it: which indexes it scans, never a collection scan. */
import { expect } from 'chai';
import type { Model } from 'mongoose';

type Plan = { stage?: string; indexName?: string; inputStage?: Plan; inputStages?: Plan[] };

/** Every stage of a winning plan, depth first. */
function stages(plan: Plan | undefined): Plan[] {
  if (!plan) return [];
  return [plan, ...stages(plan.inputStage), ...(plan.inputStages ?? []).flatMap(stages)];
}

/** The indexes the winning plan of `find(filter).sort(sort).limit(limit)` scans; fails on a COLLSCAN. */
export async function indexesUsed(model: Model<never>, filter: object, sort: Record<string, 1 | -1> = {}, limit = 20): Promise<string[]> {
  const explained = (await model.find(filter).sort(sort).limit(limit).explain('queryPlanner')) as unknown as { queryPlanner: { winningPlan: Plan } };
  const all = stages(explained.queryPlanner.winningPlan);
  expect(all.map((s) => s.stage), JSON.stringify(explained.queryPlanner.winningPlan)).to.not.include('COLLSCAN');
  return all.filter((s) => s.stage === 'IXSCAN').map((s) => s.indexName ?? '');
}
