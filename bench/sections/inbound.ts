/**
 * Sustained inbound throughput: signed WhatsApp webhooks -> stored -> `message.created` on an
 * agent socket, at increasing offered rates, from new customers, from returning customers, and
 * across two server processes behind one Redis (webhooks and watching sockets round-robin).
 */
import type { AgentSocket } from '../support/agent-socket.js';
import { Arrivals, createdKey, describeStep, ladder, ladderText, runStep, withServerCpu } from '../support/arrivals.js';
import type { BenchProcess } from '../support/child.js';
import { customerMessage, newCustomer, type BenchContext } from '../support/context.js';
import { startServerProcess } from '../support/server-process.js';
import { closeAll, openSockets } from '../support/sockets.js';
import { perSecond, waitUntil } from '../support/stats.js';
import { times, type SummaryRow } from '../support/summary.js';

/** The outcome of one ladder. */
export type LadderResult = Awaited<ReturnType<typeof ladder>>;

/** Runs the rate ladder with webhooks spread over `servers` and one watching socket on each. */
async function inboundLadder(ctx: BenchContext, servers: BenchProcess[], fromOf: (n: number) => string): Promise<LadderResult> {
  const arrivals = new Arrivals(servers.length, createdKey);
  const watchers: AgentSocket[] = [];
  for (const [w, p] of servers.entries()) watchers.push(...(await openSockets(p.url, 1, () => ({ token: ctx.tenant.token }), () => arrivals.handler(w))));
  const { seconds, drainSeconds, rates } = ctx.settings;
  let sent = 0;
  const result = await ladder(
    rates,
    (rate) =>
      withServerCpu(servers, () =>
        runStep(arrivals, rate, seconds, drainSeconds * 1000, () => {
          const n = sent++;
          return customerMessage(ctx, (servers[n % servers.length] as BenchProcess).url, fromOf(n));
        }),
      ),
    (r) => console.log(describeStep(r, 'msg')),
  );
  closeAll(watchers);
  return result;
}

function throughputRow(ctx: BenchContext, rank: number, measure: string, r: LadderResult, goal: number): SummaryRow {
  const ratio = (r.best?.sustained ?? NaN) / ctx.baseline.rawInsertsPerSecond;
  return { rank, measure, ours: ladderText(r, 'msg'), baseline: perSecond(ctx.baseline.rawInsertsPerSecond, 'insert'), ratio: times(ratio), goal: `>= ${goal}x`, met: ratio >= goal };
}

/** Untimed: `count` new-customer webhooks at 20/s, so the measures start on a warm server (JIT, caches, actors). */
export async function warmUp(ctx: BenchContext, count: number): Promise<void> {
  const arrivals = new Arrivals(1, createdKey);
  const [watcher] = await openSockets(ctx.server.url, 1, () => ({ token: ctx.tenant.token }), () => arrivals.handler(0));
  const r = await runStep(arrivals, 20, count / 20, ctx.settings.drainSeconds * 1000, () => customerMessage(ctx, ctx.server.url, newCustomer()));
  watcher?.close();
  console.log(`
Warm-up (untimed): ${r.delivered}/${r.sent} new-customer webhooks delivered at 20/s`);
}

/** New-customer messages: every webhook from a number never seen before. */
export async function measureNewCustomers(ctx: BenchContext): Promise<LadderResult> {
  console.log('\nNew-customer messages: webhook -> stored -> message.created on an agent socket (1 process)');
  const r = await inboundLadder(ctx, [ctx.server], () => newCustomer());
  ctx.rows.push(() => throughputRow(ctx, 1, 'new-customer messages, sustained', r, 0.05));
  return r;
}

/** A returning customer's live conversation. */
export interface Customer {
  from: string;
  conversationId: string;
}

/** Makes `count` customers write once (untimed) and answers them with their conversations. */
export async function createCustomers(ctx: BenchContext, count: number): Promise<Customer[]> {
  const conversationOf = new Map<string, string>();
  const [watcher] = await openSockets(ctx.server.url, 1, () => ({ token: ctx.tenant.token }), () => (json) => {
    const [event, payload] = JSON.parse(json) as [string, { data?: { external_id?: string; conversation_id?: string } }];
    if (event === 'message.created' && payload.data?.external_id && payload.data.conversation_id) conversationOf.set(payload.data.external_id, payload.data.conversation_id);
  });
  const sent = await Promise.all(
    Array.from({ length: count }, async () => {
      const from = newCustomer();
      const m = customerMessage(ctx, ctx.server.url, from);
      await m.send();
      return { from, key: m.key };
    }),
  );
  const ok = await waitUntil(() => sent.every((s) => conversationOf.has(s.key)), 30_000);
  watcher?.close();
  if (!ok) {
    const missing = sent.filter((s) => !conversationOf.has(s.key)).map((s) => s.key);
    throw new Error(`only ${count - missing.length} of ${count} customers' first messages arrived (missing ${missing.join(', ')})`);
  }
  return sent.map((s) => ({ from: s.from, conversationId: conversationOf.get(s.key) as string }));
}

/** Messages into existing conversations: the same customers writing again and again. */
export async function measureExistingCustomers(ctx: BenchContext, customers: Customer[]): Promise<void> {
  console.log(`\nMessages into existing conversations: ${customers.length} returning customers, same path (1 process)`);
  const r = await inboundLadder(ctx, [ctx.server], (n) => (customers[n % customers.length] as Customer).from);
  ctx.rows.push(() => throughputRow(ctx, 2, 'messages into existing conversations, sustained', r, 0.1));
}

/**
 * Two server processes sharing the database and Redis: webhooks alternate between them, and a
 * socket on each must see every message exactly once. Compared with the one-process figure.
 */
export async function measureTwoProcesses(ctx: BenchContext, oneProcess: LadderResult | undefined): Promise<void> {
  console.log('\nTwo server processes behind one Redis: new-customer messages, webhooks and sockets round-robin');
  const second = await startServerProcess('server-2', ctx.env);
  try {
    const r = await inboundLadder(ctx, [ctx.server, second], () => newCustomer());
    const ratio = (r.best?.sustained ?? NaN) / (oneProcess?.best?.sustained ?? NaN);
    ctx.rows.push({
      rank: 10,
      measure: 'two processes, new-customer sustained (each msg once on a socket of each)',
      ours: ladderText(r, 'msg'),
      baseline: oneProcess?.best ? `${perSecond(oneProcess.best.sustained, 'msg')} (1 process)` : '— (1-process ladder not run or not clean)',
      ratio: times(ratio),
      goal: '>= 1.6x, all exactly once',
      met: ratio >= 1.6 && r.steps.every((step) => step.doubled === 0),
    });
  } finally {
    await second.stop();
  }
}
