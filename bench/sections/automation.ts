/**
 * Automation (issue 12): new-customer messages offered at BENCH_AUTOMATION_RATE (default 50
 * msg/s) for BENCH_SECONDS, first with no automation rules, then with 20 live rules on
 * `message.created` (18 whose conditions do not hold, 2 that match and tag the conversation
 * through its actor). Reported: the inbound rate (webhook -> stored -> message.created on an
 * agent socket) in both cases, and with the rules the automation items the worker settled per
 * second, their worker lag (item created -> processed) p50/p99, and failed items or actions.
 */
import { buildAutomationRule } from '../../test/support/automation.js';
import { Arrivals, createdKey, describeStep, runStep, withServerCpu, type StepResult } from '../support/arrivals.js';
import { customerMessage, newCustomer, type BenchContext } from '../support/context.js';
import { openSockets } from '../support/sockets.js';
import { ms, pct, perSecond, sleep } from '../support/stats.js';
import { times } from '../support/summary.js';

const RATE = Number(process.env.BENCH_AUTOMATION_RATE ?? 50);
const RULES = 20;
const MATCHING = 2;

/** One step of new-customer messages with a watching socket. */
async function inboundStep(ctx: BenchContext): Promise<StepResult> {
  const arrivals = new Arrivals(1, createdKey);
  const [watcher] = await openSockets(ctx.server.url, 1, () => ({ token: ctx.tenant.token }), () => arrivals.handler(0));
  try {
    return await withServerCpu([ctx.server], () => runStep(arrivals, RATE, ctx.settings.seconds, ctx.settings.drainSeconds * 1000, () => customerMessage(ctx, ctx.server.url, newCustomer())));
  } finally {
    watcher?.close();
  }
}

/** The 20 rules: most look for a word the bench messages never carry; two match every WhatsApp message and tag it. */
function benchRules(tenantId: string) {
  return Array.from({ length: RULES }, (_, i) =>
    buildAutomationRule(tenantId, {
      name: `bench rule ${i + 1}`,
      conditions: {
        all: [{ field: 'conversation.channel', op: 'equals', value: 'whatsapp' }, ...(i < MATCHING ? [] : [{ field: 'message.text', op: 'contains' as const, value: `kupon-${i}` }])],
        any: [],
      },
      actions: [{ type: 'add_tags', params: { tags: [`bench-${i + 1}`] } }],
    }),
  );
}

/** Settled items of the tenant created since `since`, once none of them is pending or processing (or after `timeoutMs`). */
async function settledItems(ctx: BenchContext, since: Date, expected: number, timeoutMs: number) {
  const items = ctx.db.collection('automation_events');
  const end = Date.now() + timeoutMs;
  for (;;) {
    const open = await items.countDocuments({ tenant_id: ctx.tenant.tenantId, created_at: { $gte: since }, state: { $in: ['pending', 'processing'] } });
    const all = await items.countDocuments({ tenant_id: ctx.tenant.tenantId, created_at: { $gte: since } });
    if ((open === 0 && all >= expected) || Date.now() > end) break;
    await sleep(200);
  }
  return items.find({ tenant_id: ctx.tenant.tenantId, created_at: { $gte: since } }, { projection: { state: 1, event_type: 1, duplicate_of: 1, created_at: 1, processed_at: 1 } }).toArray();
}

/** Measures inbound with and without 20 rules, and the worker's rate and lag. */
export async function measureAutomation(ctx: BenchContext): Promise<void> {
  console.log(`\nAutomation: new-customer messages at ${RATE}/s for ${ctx.settings.seconds} s, with no rules, then with ${RULES} rules on message.created (${MATCHING} matching, tagging)`);
  const bare = await inboundStep(ctx);
  console.log(`  no rules:${describeStep(bare, 'msg').slice(1)}`);

  // Rules go in through the driver: they are what the rules API stores, and this measure is about the queue and worker.
  const rules = benchRules(ctx.tenant.tenantId);
  await ctx.db.collection('automation_rules').insertMany(rules as never[]);
  const since = new Date();
  try {
    const ruled = await inboundStep(ctx);
    console.log(`  ${RULES} rules:${describeStep(ruled, 'msg').slice(1)}`);
    const items = await settledItems(ctx, since, ruled.delivered, 60_000 + ctx.settings.drainSeconds * 1000);
    const done = items.filter((i) => i.state === 'done' || i.state === 'skipped');
    const failedItems = items.filter((i) => i.state === 'failed').length;
    const open = items.filter((i) => i.state === 'pending' || i.state === 'processing').length;
    const lags = done.filter((i) => i.processed_at).map((i) => (i.processed_at as Date).getTime() - (i.created_at as Date).getTime());
    const firstCreated = Math.min(...items.map((i) => (i.created_at as Date).getTime()));
    const lastProcessed = Math.max(...done.map((i) => (i.processed_at as Date | null)?.getTime() ?? 0));
    const itemRate = done.length > 1 ? done.length / ((lastProcessed - firstCreated) / 1000) : NaN;
    const byType = new Map<string, number>();
    for (const i of items) {
      const key = `${i.event_type as string}${i.duplicate_of ? ' (duplicate)' : ''}`;
      byType.set(key, (byType.get(key) ?? 0) + 1);
    }
    const runs = ctx.db.collection('automation_runs');
    const runCount = await runs.countDocuments({ tenant_id: ctx.tenant.tenantId, started_at: { $gte: since } });
    const failedActions = await runs.countDocuments({ tenant_id: ctx.tenant.tenantId, started_at: { $gte: since }, 'actions.status': 'failed' });
    console.log(
      `  worker: ${done.length}/${items.length} items settled [${[...byType].map(([t, n]) => `${t} ${n}`).join(', ')}] (${failedItems} failed, ${open} still open), ${perSecond(itemRate, 'item')}, ` +
        `${runCount} runs (${RULES} per item evaluated), ${failedActions} runs with a failed action; worker lag p50 ${ms(pct(lags, 0.5))} p99 ${ms(pct(lags, 0.99))}`,
    );
    const ratio = ruled.sustained / bare.sustained;
    ctx.rows.push({
      rank: 30,
      measure: `inbound with ${RULES} automation rules, sustained (worker lag p99)`,
      ours: `${perSecond(ruled.sustained, 'msg')} (${ruled.delivered}/${ruled.sent}); ${perSecond(itemRate, 'item')}, lag p99 ${ms(pct(lags, 0.99))}`,
      baseline: `no rules ${perSecond(bare.sustained, 'msg')} (${bare.delivered}/${bare.sent})`,
      ratio: times(ratio),
      goal: '>= 0.5x; the worker keeps up (items/s >= 0.75x msg/s), every item settled, none failed',
      // Ingest alone is not the point: a worker slower than the inbound rate grows its lag without bound.
      met: ratio >= 0.5 && itemRate >= 0.75 * ruled.sustained && open === 0 && failedItems === 0 && items.length >= ruled.delivered,
    });
  } finally {
    // Later sections measure a tenant without rules.
    await ctx.db.collection('automation_rules').updateMany({ _id: { $in: rules.map((r) => r._id) } as never }, { $set: { deleted_at: new Date(), active: false } });
  }
}
