/**
 * Outgoing webhooks (issue 11): one webhook subscribed to every event type, pointing at a local
 * receiver in this process that checks each delivery's signature and records it. New-customer
 * messages are offered at BENCH_OUTGOING_RATE (default: the latency measure's 80 msg/s) for
 * BENCH_SECONDS; every event the tenant's log gained meanwhile must reach the receiver once, in
 * seq order. Reported: deliveries/s next to the rate the events were produced at, delivery lag
 * (the event's `created_at` to its arrival) p50/p99, lost, out of order and repeated deliveries.
 * Then the receiver is down (connections refused) for BENCH_OUTGOING_DOWN_SECONDS (30) while the
 * same load runs for its first BENCH_SECONDS, and comes back: how long until it has caught up, and
 * the same counts. Retries follow the server's own OUTGOING_WEBHOOK_RETRY_MS (10 s, 30 s, ...).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { call } from '../support/api.js';
import { customerMessage, newCustomer, type BenchContext } from '../support/context.js';
import { ms, offer, pct, perSecond, sleep, waitUntil } from '../support/stats.js';
import { times } from '../support/summary.js';

const RATE = Number(process.env.BENCH_OUTGOING_RATE ?? 0);
const DOWN_SECONDS = Number(process.env.BENCH_OUTGOING_DOWN_SECONDS ?? 30);

/** One delivery as the receiver got it. */
interface Arrival {
  at: number;
  deliveryId: string;
  seq: number;
  createdAt: number;
}

/** A local receiver that verifies signatures, records arrivals, and can refuse connections for a while. */
class Receiver {
  readonly arrivals: Arrival[] = [];
  badSignatures = 0;
  private server: http.Server;
  private port = 0;
  secret = '';

  constructor() {
    this.server = this.create();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/omnistream`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Closes the port: senders get ECONNREFUSED until `start` opens it again. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.server = this.create();
  }

  private create(): http.Server {
    return http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (!this.verified(body, String(req.headers['x-omnistream-signature'] ?? ''))) {
          this.badSignatures++;
          res.writeHead(401).end();
          return;
        }
        const d = JSON.parse(body) as { seq: number; created_at: string };
        this.arrivals.push({ at: Date.now(), deliveryId: String(req.headers['x-omnistream-delivery']), seq: d.seq, createdAt: Date.parse(d.created_at) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
  }

  private verified(body: string, header: string): boolean {
    const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('=') as [string, string]));
    if (!t || !v1) return false;
    const expected = createHmac('sha256', this.secret).update(`${t}.${body}`, 'utf8').digest();
    const given = Buffer.from(v1, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** The tenant's last seq in the log. */
async function headSeq(ctx: BenchContext): Promise<number> {
  const [last] = await ctx.db.collection('events').find({ tenant_id: ctx.tenant.tenantId }).sort({ seq: -1 }).limit(1).toArray();
  return (last?.seq as number | undefined) ?? 0;
}

/** Every event after `from` up to `to` and when it was stored. */
async function eventsBetween(ctx: BenchContext, from: number, to: number): Promise<Map<number, number>> {
  const docs = await ctx.db.collection('events').find({ tenant_id: ctx.tenant.tenantId, seq: { $gt: from, $lte: to } }, { projection: { seq: 1, created_at: 1 } }).toArray();
  return new Map(docs.map((d) => [d.seq as number, (d.created_at as Date).getTime()]));
}

/** What one phase delivered, judged against the log. */
interface Judged {
  events: number;
  eventRate: number;
  deliveryRate: number;
  lags: number[];
  lost: number;
  outOfOrder: number;
  repeated: number;
  lastArrival: number;
}

function judge(expected: Map<number, number>, arrivals: Arrival[]): Judged {
  const mine = arrivals.filter((a) => expected.has(a.seq));
  const seen = new Set<number>();
  let repeated = 0;
  let outOfOrder = 0;
  let highest = 0;
  const lags: number[] = [];
  for (const a of mine) {
    if (seen.has(a.seq)) {
      repeated++;
      continue;
    }
    seen.add(a.seq);
    if (a.seq < highest) outOfOrder++;
    highest = Math.max(highest, a.seq);
    lags.push(a.at - a.createdAt);
  }
  const created = [...expected.values()].sort((a, b) => a - b);
  const arrived = mine.map((a) => a.at).sort((a, b) => a - b);
  const span = (t: number[]) => ((t.at(-1) ?? 0) - (t[0] ?? 0)) / 1000;
  return {
    events: expected.size,
    eventRate: (created.length - 1) / span(created),
    deliveryRate: (arrived.length - 1) / span(arrived),
    lags,
    lost: [...expected.keys()].filter((seq) => !seen.has(seq)).length,
    outOfOrder,
    repeated,
    lastArrival: arrived.at(-1) ?? Number.NaN,
  };
}

/** Offers new-customer messages at `rate` for `seconds`, each answered 2xx. */
async function produce(ctx: BenchContext, rate: number, seconds: number): Promise<void> {
  await offer(rate, seconds, async () => {
    const answer = await customerMessage(ctx, ctx.server.url, newCustomer()).send();
    if (answer.status >= 300) throw new Error(`a bench webhook was answered ${answer.status}`);
  });
}

/** Waits until the log stops growing (the server has processed what it took). */
async function settledHead(ctx: BenchContext): Promise<number> {
  let last = -1;
  for (;;) {
    const head = await headSeq(ctx);
    if (head === last) return head;
    last = head;
    await sleep(1000);
  }
}

/** Waits until every expected seq has arrived or `timeoutMs` passes. */
const allArrived = (receiver: Receiver, expected: Map<number, number>, timeoutMs: number) =>
  waitUntil(() => {
    const got = new Set(receiver.arrivals.map((a) => a.seq));
    for (const seq of expected.keys()) if (!got.has(seq)) return false;
    return true;
  }, timeoutMs);

const describe = (j: Judged) =>
  `${j.events} events at ${perSecond(j.eventRate, 'event')}, delivered at ${perSecond(j.deliveryRate, 'delivery')}; lag p50 ${ms(pct(j.lags, 0.5))} p99 ${ms(pct(j.lags, 0.99))}; lost ${j.lost}, out of order ${j.outOfOrder}, repeated ${j.repeated}`;

export async function measureOutgoingWebhooks(ctx: BenchContext): Promise<void> {
  const rate = RATE > 0 ? RATE : ctx.settings.latencyRate;
  const { seconds } = ctx.settings;
  console.log(`\nOutgoing webhooks: one webhook on every event type, a local receiver (signatures checked); new-customer messages at ${rate}/s for ${seconds} s`);
  const receiver = new Receiver();
  await receiver.start();
  const created = await call<{ id: string; secret: string }>(ctx.server.url, 'POST', '/api/outgoing-webhooks', { name: 'Bench receiver', url: receiver.url, events: ['*'] }, ctx.tenant.token);
  receiver.secret = created.secret;
  try {
    // Steady: the receiver up all along.
    const from = await settledHead(ctx);
    await produce(ctx, rate, seconds);
    const steadyEvents = await eventsBetween(ctx, from, await settledHead(ctx));
    await allArrived(receiver, steadyEvents, 60_000);
    const steady = judge(steadyEvents, receiver.arrivals);
    console.log(`  receiver up:   ${describe(steady)}; ${receiver.badSignatures} bad signatures`);

    // The receiver down for DOWN_SECONDS while the same load runs, then back.
    const downFrom = await headSeq(ctx);
    await receiver.stop();
    const downAt = Date.now();
    await produce(ctx, rate, seconds);
    await sleep(downAt + DOWN_SECONDS * 1000 - Date.now());
    const downEvents = await eventsBetween(ctx, downFrom, await settledHead(ctx));
    await receiver.start();
    const upAt = Date.now();
    const caughtUp = await allArrived(receiver, downEvents, 180_000);
    const outage = judge(downEvents, receiver.arrivals);
    const catchUpMs = outage.lastArrival - upAt;
    console.log(
      `  receiver down ${DOWN_SECONDS} s: ${outage.events} events meanwhile; ${caughtUp ? `caught up ${ms(catchUpMs)} after it came back` : 'NOT caught up within 180 s'}; lost ${outage.lost}, out of order ${outage.outOfOrder}, repeated ${outage.repeated}`,
    );
    const listed = await call<{ data: { id: string; is_active: boolean; disabled_reason: string | null }[] }>(ctx.server.url, 'GET', '/api/outgoing-webhooks', undefined, ctx.tenant.token);
    const status = listed.data.find((w) => w.id === created.id) ?? { is_active: false, disabled_reason: 'not listed' };
    console.log(`  the webhook afterwards: ${status.is_active ? 'active' : `disabled (${status.disabled_reason})`}`);

    const clean = (j: Judged) => j.lost === 0 && j.outOfOrder === 0;
    ctx.rows.push({
      rank: 14,
      measure: `outgoing webhooks: deliveries at ${rate} msg/s offered`,
      ours: `${perSecond(steady.deliveryRate, 'delivery')}, lag p99 ${ms(pct(steady.lags, 0.99))}; lost ${steady.lost}, out of order ${steady.outOfOrder}`,
      baseline: `${perSecond(steady.eventRate, 'event')} produced`,
      ratio: times(steady.deliveryRate / steady.eventRate),
      goal: 'keeps up, 0 lost, 0 out of order',
      met: clean(steady) && steady.deliveryRate >= 0.95 * steady.eventRate && receiver.badSignatures === 0,
    });
    ctx.rows.push({
      rank: 15,
      measure: `outgoing webhooks: receiver down ${DOWN_SECONDS} s, then back`,
      ours: caughtUp ? `caught up ${ms(catchUpMs)} after; lost ${outage.lost}, out of order ${outage.outOfOrder}` : 'not caught up in 180 s',
      baseline: '—',
      ratio: '—',
      goal: 'catches up, 0 lost, 0 out of order, stays active',
      met: caughtUp && clean(outage) && status.is_active,
    });
  } finally {
    await call(ctx.server.url, 'DELETE', `/api/outgoing-webhooks/${created.id}`, undefined, ctx.tenant.token);
    await receiver.stop();
  }
}
