/**
 * Campaigns at scale: BENCH_CAMPAIGN_RECIPIENTS (10,000) recipients from a CSV, sent through the
 * fake Graph API at each cap in BENCH_CAMPAIGN_RATES (80 and 1,000 msg/s), once undisturbed and
 * once with the sending process killed (SIGKILL) halfway while a second sender process takes
 * over. Reports the achieved rate measured at the fake's arrival times of the campaign's message
 * POSTs (first to last), the busiest 1-second window of them (the cap as Meta enforces it),
 * duplicates (a phone received twice), and how the run ended. Sender processes are started here with the
 * cap; the run's first server does not send campaigns (CAMPAIGN_SENDER=false).
 */
import { randomInt } from 'node:crypto';
import { busiestWindow, type FakeGraph } from '../../test/support/fake-graph.js';
import { call } from '../support/api.js';
import type { BenchProcess } from '../support/child.js';
import type { BenchContext } from '../support/context.js';
import { startServerProcess } from '../support/server-process.js';
import { sleep } from '../support/stats.js';

const RECIPIENTS = Number(process.env.BENCH_CAMPAIGN_RECIPIENTS ?? 10_000);
const RATES = (process.env.BENCH_CAMPAIGN_RATES ?? '80,1000').split(',').map(Number);

/** One campaign's outcome. */
interface Outcome {
  arrivals: number;
  duplicates: number;
  rate: number;
  /** The most sends that arrived within any 1 s. */
  peak: number;
  status: string;
  sent: number;
  failed: number;
  seconds: number;
}

async function oneCampaign(ctx: BenchContext, graph: FakeGraph, senders: BenchProcess[], rate: number, kill: boolean): Promise<Outcome> {
  const { token, phoneNumberId } = ctx.tenant;
  const url = ctx.server.url;
  const path = `/v21.0/${phoneNumberId}/messages`;
  const campaign = await call<{ id: string }>(url, 'POST', '/api/campaigns', { name: `Bench ${rate}${kill ? ' kill' : ''}`, channel: 'whatsapp', message: { type: 'template', template: { name: 'promo', language: 'id', body_parameters: ['{{csv.name}}'] } } }, token);
  const base = 81000000000 + randomInt(0, 8_000_000) * 100;
  const rows = Array.from({ length: RECIPIENTS }, (_, i) => `0${base + i},Pelanggan ${i}`);
  for (let i = 0; i < rows.length; i += 20_000) {
    await call(url, 'POST', `/api/campaigns/${campaign.id}/recipients`, { csv: `phone,name\n${rows.slice(i, i + 20_000).join('\n')}\n` }, token);
  }
  const from = graph.requests.length;
  // This campaign's sends: the number's message POSTs since it started (the fake is never reset here).
  const sends = () => graph.requests.slice(from).filter((r) => r.method === 'POST' && r.path === path);
  const t0 = performance.now();
  await call(url, 'POST', `/api/campaigns/${campaign.id}/send`, {}, token);
  let killed = !kill;
  let c: { status: string; counters: { sent: number; failed: number } } = { status: 'sending', counters: { sent: 0, failed: 0 } };
  for (;;) {
    c = await call(url, 'GET', `/api/campaigns/${campaign.id}`, undefined, token);
    if (!['sending', 'scheduled'].includes(c.status)) break;
    if (!killed && sends().length >= RECIPIENTS / 2) {
      const holder = (await ctx.db.collection('campaigns').findOne({ _id: campaign.id as never }))?.run_id as string | undefined;
      const victim = senders.find((p) => String(p.pid) === holder?.split('.')[0]);
      if (victim) {
        process.kill(victim.pid, 'SIGKILL');
        senders.splice(senders.indexOf(victim), 1);
        killed = true;
        console.log(`  killed ${victim.name} (pid ${victim.pid}) after ${sends().length} sends`);
      }
    }
    await sleep(250);
  }
  const seconds = (performance.now() - t0) / 1000;
  const mine = sends();
  const tos = mine.map((r) => (r.json as { to: string }).to);
  const times = mine.map((r) => r.at).sort((a, b) => a - b);
  const span = times.length > 1 ? ((times.at(-1) as number) - (times[0] as number)) / 1000 : seconds;
  return { arrivals: tos.length, duplicates: tos.length - new Set(tos).size, rate: (tos.length - 1) / span, peak: busiestWindow(times), status: c.status, sent: c.counters.sent, failed: c.counters.failed, seconds };
}

/** Runs the measure and adds its summary rows. */
export async function measureCampaigns(ctx: BenchContext, graph: FakeGraph): Promise<void> {
  console.log(`\nCampaigns: ${RECIPIENTS} recipients per campaign (BENCH_CAMPAIGN_RECIPIENTS), caps ${RATES.join(', ')} msg/s (BENCH_CAMPAIGN_RATES), 2 sender processes`);
  for (const rate of RATES) {
    for (const kill of [false, true]) {
      const extra = { CAMPAIGN_SENDER: 'true', CAMPAIGN_RATE_PER_SECOND: String(rate), CAMPAIGN_RUN_STALE_MS: '3000', CAMPAIGN_CLAIM_STALE_MS: '3000', CAMPAIGN_SWEEP_MS: '500' };
      const senders = [await startServerProcess('sender-a', ctx.env, extra), await startServerProcess('sender-b', ctx.env, extra)];
      try {
        const o = await oneCampaign(ctx, graph, senders, rate, kill);
        const label = `cap ${rate}/s${kill ? ', kill -9 halfway' : ''}`;
        console.log(`  ${label}: ${o.status} in ${o.seconds.toFixed(1)} s; ${o.arrivals} sends at the provider, achieved ${o.rate.toFixed(1)} msg/s (${(o.rate / rate).toFixed(3)}x the cap), busiest 1 s ${o.peak} sends; ${o.duplicates} duplicates; counters sent ${o.sent}, failed ${o.failed}`);
        ctx.rows.push({
          rank: 12,
          measure: `Campaign of ${RECIPIENTS}, ${label}`,
          ours: `${o.rate.toFixed(1)} msg/s, busiest 1 s ${o.peak}, ${o.duplicates} duplicates, ${o.status}`,
          baseline: `cap ${rate}/s`,
          ratio: `${(o.rate / rate).toFixed(2)}x`,
          goal: '>= 0.9x the cap, no 1 s over 1.02x it, 0 duplicates',
          met: o.rate >= 0.9 * rate && o.peak <= rate * 1.02 && o.duplicates === 0 && o.status === 'completed',
        });
      } finally {
        await Promise.all(senders.map((p) => p.stop().catch(() => undefined)));
      }
    }
  }
}
