/**
 * Keeps the WhatsApp delivery roll-ups (models/analytics-delivery.ts) from `message.created` and
 * `message.updated` of outbound WhatsApp messages: each message counts once, in the status it
 * has now, under the bucket of its sent_at, its template name and (when failed) the provider's
 * first error code. A move is -1 on what was counted and +1 on what is now. Replays: as in
 * services/analytics-rollup.ts, the per-message record is written last and skips events at or
 * before its seq; each roll-up document refuses a seq it has seen.
 */
import { applyDeliveryRollup, DELIVERY_COUNTED, findCountedDelivery, saveCountedDelivery, type CountedStatus, type DeliveryKey } from '../models/analytics-delivery.js';

/** What the delivery roll-ups read of a presented message. */
export interface DeliveryFacts {
  id: string;
  channel: string;
  direction: 'inbound' | 'outbound';
  type: string;
  content: { template?: { name?: unknown } };
  status: string;
  errors?: { code?: unknown }[];
  sent_at: string;
}

/** Applies a message event; other channels, inbound messages and uncounted statuses are ignored. */
export async function rollUpDelivery(tenantId: string, m: DeliveryFacts, seq: number): Promise<void> {
  if (m.channel !== 'whatsapp' || m.direction !== 'outbound' || !(DELIVERY_COUNTED as readonly string[]).includes(m.status)) return;
  const seen = await findCountedDelivery(tenantId, m.id);
  if (seen && seen.last_seq >= seq) return;
  const status = m.status as CountedStatus;
  const template = m.type === 'template' && typeof m.content.template?.name === 'string' ? m.content.template.name : null;
  const code = m.errors?.[0]?.code;
  const now: DeliveryKey = {
    bucket: seen?.bucket ?? new Date(m.sent_at),
    template: seen?.template ?? template,
    failure_code: status === 'failed' ? (typeof code === 'string' || typeof code === 'number' ? String(code) : 'unknown') : null,
  };
  if (seen?.status === status && seen.failure_code === now.failure_code) return;
  // One write per roll-up document and event: a second write of the same seq would be refused as a replay.
  if (seen && seen.failure_code === now.failure_code) await applyDeliveryRollup(tenantId, now, { [seen.status]: -1, [status]: 1 }, seq);
  else {
    if (seen) await applyDeliveryRollup(tenantId, seen, { [seen.status]: -1 }, seq);
    await applyDeliveryRollup(tenantId, now, { [status]: 1 }, seq);
  }
  await saveCountedDelivery({ _id: m.id, tenant_id: tenantId, ...now, status, last_seq: seq });
}
