/**
 * Agenda with our settings (jobs/scheduler.ts): N trivial jobs due at once, timed from start
 * until all have run, next to N raw `findOneAndUpdate` pops of due documents by 10 concurrent
 * poppers on the same engine. A drain that has not finished in the time limit is a livelock.
 */
import { createScheduler, JOBS_COLLECTION, SCHEDULER_SETTINGS } from '../../jobs/scheduler.js';
import type { BenchContext } from '../support/context.js';
import { drainWith, perSecond, waitUntil } from '../support/stats.js';
import { times } from '../support/summary.js';

/** What the Agenda measure needs: it runs with no server process. */
export type AgendaContext = Pick<BenchContext, 'db' | 'settings' | 'rows'>;

/** How a drain went. */
interface Drain {
  done: number;
  seconds: number;
  finished: boolean;
  errors: number;
}

async function drainAgenda(ctx: AgendaContext, jobs: number, timeoutMs: number): Promise<Drain> {
  await ctx.db.collection(JOBS_COLLECTION).deleteMany({});
  const agenda = createScheduler(ctx.db);
  let done = 0;
  let errors = 0;
  agenda.on('error', () => errors++);
  agenda.define('bench-noop', async () => {
    done++;
  });
  let created = 0;
  await drainWith(20, async () => created++ < jobs && Boolean(await agenda.now('bench-noop', {})));
  const started = performance.now();
  await agenda.start();
  const finished = await waitUntil(() => done >= jobs, timeoutMs);
  const seconds = (performance.now() - started) / 1000;
  await agenda.stop();
  await ctx.db.collection(JOBS_COLLECTION).deleteMany({});
  return { done, seconds, finished, errors };
}

async function drainRaw(ctx: AgendaContext, jobs: number, timeoutMs: number): Promise<Drain> {
  const pops = ctx.db.collection<{ _id: string; state: string }>('bench_pops');
  await pops.deleteMany({});
  await pops.createIndex({ state: 1 });
  await pops.insertMany(Array.from({ length: jobs }, (_, i) => ({ _id: `job-${i}`, state: 'due' })));
  const started = performance.now();
  const deadline = started + timeoutMs;
  const done = await drainWith(10, async () => performance.now() < deadline && (await pops.findOneAndUpdate({ state: 'due' }, { $set: { state: 'done' } })) !== null);
  const seconds = (performance.now() - started) / 1000;
  await pops.drop();
  return { done, seconds, finished: done === jobs, errors: 0 };
}

const rateText = (d: Drain, jobs: number) =>
  d.finished ? `${perSecond(d.done / d.seconds, 'job')} (${jobs} in ${d.seconds.toFixed(2)} s)` : `TIMED OUT: ${d.done}/${jobs} in ${d.seconds.toFixed(0)} s`;

/** One row per due-job count. */
export async function measureAgenda(ctx: AgendaContext): Promise<void> {
  const { agendaJobs, agendaTimeoutSeconds } = ctx.settings;
  const settings = Object.entries(SCHEDULER_SETTINGS).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`\nAgenda (jobs/scheduler.ts: ${settings}): due jobs drained, next to raw findOneAndUpdate pops (10 poppers); limit ${agendaTimeoutSeconds} s`);
  for (const jobs of agendaJobs) {
    const agenda = await drainAgenda(ctx, jobs, agendaTimeoutSeconds * 1000);
    const raw = await drainRaw(ctx, jobs, agendaTimeoutSeconds * 1000);
    console.log(`  ${jobs} due: Agenda ${rateText(agenda, jobs)}${agenda.errors ? `, ${agenda.errors} errors` : ''}; raw pops ${rateText(raw, jobs)}`);
    ctx.rows.push({
      rank: 9,
      measure: `Agenda: ${jobs} due jobs drained`,
      ours: rateText(agenda, jobs),
      baseline: `${rateText(raw, jobs)} raw pops`,
      ratio: times(agenda.done / agenda.seconds / (raw.done / raw.seconds)),
      goal: 'report; no livelock',
      met: agenda.finished && agenda.errors === 0,
    });
  }
}
