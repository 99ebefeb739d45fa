/**
 * Delivery statuses applied: agents reply through the API (the server sends them to the fake
 * Graph API, which hands out wamids), then signed status webhooks mark each reply delivered and,
 * half a step later, read; each counts when its `message.updated` with the new status reaches
 * an agent socket.
 */
import { randomUUID } from 'node:crypto';
import { Arrivals, describeStep, ladder, ladderText, runStep, updatedKey, withServerCpu } from '../support/arrivals.js';
import { call } from '../support/api.js';
import type { BenchContext } from '../support/context.js';
import { openSockets } from '../support/sockets.js';
import { perSecond } from '../support/stats.js';
import { times } from '../support/summary.js';
import { postWebhook, statusWebhook } from '../support/whatsapp.js';
import type { Customer } from './inbound.js';

/** A reply the provider accepted: its wamid and recipient. */
interface Sent {
  externalId: string;
  to: string;
}

/** Sends `count` agent replies, 16 at a time, spread over the customers' conversations (untimed). */
async function sendReplies(ctx: BenchContext, customers: Customer[], count: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const c = customers[next++ % customers.length] as Customer;
        const body = { type: 'text', text: 'Paket Anda sedang dikirim', idempotency_key: randomUUID() };
        const m = await call<{ external_id: string | null; status: string }>(ctx.server.url, 'POST', `/api/conversations/${c.conversationId}/messages`, body, ctx.tenant.token);
        if (m.status !== 'sent' || !m.external_id) throw new Error(`a bench reply was not sent: ${JSON.stringify(m)}`);
        sent.push({ externalId: m.external_id, to: c.from });
      }
    }),
  );
  return sent;
}

/** The delivery-status ladder. */
export async function measureStatuses(ctx: BenchContext, customers: Customer[]): Promise<void> {
  console.log(`\nDelivery statuses: status webhooks -> message.updated on an agent socket (replies spread over ${customers.length} conversations)`);
  const arrivals = new Arrivals(1, updatedKey);
  const [watcher] = await openSockets(ctx.server.url, 1, () => ({ token: ctx.tenant.token }), () => arrivals.handler(0));
  const { seconds, drainSeconds, rates } = ctx.settings;
  const result = await ladder(
    rates,
    async (rate) => {
      const total = Math.round(rate * seconds);
      const half = Math.ceil(total / 2);
      const preparing = performance.now();
      const replies = await sendReplies(ctx, customers, half);
      console.log(`  (sent ${half} agent replies for this step in ${((performance.now() - preparing) / 1000).toFixed(1)} s, untimed)`);
      return withServerCpu([ctx.server], () =>
        runStep(arrivals, rate, seconds, drainSeconds * 1000, (n) => {
          const m = replies[n < half ? n : n - half] as Sent;
          const status = n < half ? 'delivered' : 'read';
          const body = statusWebhook(ctx.tenant.phoneNumberId, m.externalId, status, m.to);
          return { key: `${m.externalId}:${status}`, send: () => postWebhook(ctx.server.url, body, ctx.env.appSecret) };
        }),
      );
    },
    (r) => console.log(describeStep(r, 'status')),
  );
  watcher?.close();
  ctx.rows.push(() => {
    const ratio = (result.best?.sustained ?? NaN) / ctx.baseline.rawInsertsPerSecond;
    return { rank: 3, measure: 'delivery-status webhooks applied, sustained', ours: ladderText(result, 'status'), baseline: perSecond(ctx.baseline.rawInsertsPerSecond, 'insert'), ratio: times(ratio), goal: '>= 0.15x', met: ratio >= 0.15 };
  });
}
