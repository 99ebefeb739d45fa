/**
 * The inbox's first page at CONVERSATIONS conversations: `GET /api/conversations?status=open&limit=20`
 * (each conversation answered with its contact), next to the raw driver doing the same reads:
 * the same filter, sort and limit, then the page's contacts by `_id`. The tenant is filled up
 * with conversations and contacts inserted straight into their collections in the shape of
 * src/models/conversation.ts and contact.ts (this measures the read path, not the writes).
 */
import { randomUUID } from 'node:crypto';
import { call } from '../support/api.js';
import type { BenchContext } from '../support/context.js';
import { ms, pct } from '../support/stats.js';
import { times } from '../support/summary.js';

const DAY_MS = 86_400_000;

/** Inserts conversations (and one contact each) until the tenant has `target`; answers how many it added. */
async function seedConversations(ctx: BenchContext, target: number): Promise<number> {
  const { tenantId } = ctx.tenant;
  const conversations = ctx.db.collection('conversations');
  const existing = await conversations.countDocuments({ tenant_id: tenantId });
  const sample = await conversations.findOne({ tenant_id: tenantId });
  const accountId = (sample?.account_id as string | null | undefined) ?? null;
  const missing = Math.max(0, target - existing);
  const now = Date.now();
  for (let done = 0; done < missing; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, missing - done) }, (_, k) => {
      const i = done + k;
      const phone = `6289${String(i).padStart(9, '0')}`;
      const at = new Date(now - DAY_MS - Math.floor(Math.random() * 7 * DAY_MS));
      const contactId = randomUUID();
      const contact = { _id: contactId, tenant_id: tenantId, channel: 'whatsapp', external_id: phone, identities: [phone], name: `Seeded ${i}`, phone: `+${phone}`, email: null, username: null, attributes: {}, tags: [], last_inbound_at: at, created_at: at, updated_at: at };
      const conversation = {
        _id: randomUUID(),
        tenant_id: tenantId,
        contact_id: contactId,
        channel: 'whatsapp',
        account_id: accountId,
        division_id: null,
        assignee_id: null,
        status: i % 10 < 7 ? 'open' : i % 10 < 9 ? 'resolved' : 'pending',
        tags: [],
        read_markers: {},
        message_count: 3,
        unread_count: 1,
        note_count: 0,
        last_message_at: at,
        last_inbound_at: at,
        last_message_preview: 'Halo, pesanan saya belum sampai',
        closed_at: null,
        version: 3,
        created_at: at,
        updated_at: at,
      };
      return { contact, conversation };
    });
    await ctx.db.collection('contacts').insertMany(batch.map((b) => b.contact) as never[]);
    await conversations.insertMany(batch.map((b) => b.conversation) as never[]);
  }
  return missing;
}

/** Times `once` `count` times in a row, after 10 untimed warm-up calls. */
async function timeSequential(count: number, once: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 10; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await once();
    samples.push(performance.now() - t);
  }
  return samples;
}

/** The conversation-list row. */
export async function measureConversationList(ctx: BenchContext): Promise<void> {
  const { conversations: target, listRequests } = ctx.settings;
  const added = await seedConversations(ctx, target);
  const { tenantId, token } = ctx.tenant;
  const filter = { tenant_id: tenantId, status: 'open' };
  const open = await ctx.db.collection('conversations').countDocuments(filter);
  console.log(`\nConversation list: first page of 20 open conversations, ${target} in the tenant (${added} inserted raw, ${open} open), ${listRequests} sequential requests each`);

  let answered = 0;
  const ours = await timeSequential(listRequests, async () => {
    const page = await call<{ data: { contact: unknown }[] }>(ctx.server.url, 'GET', '/api/conversations?status=open&limit=20', undefined, token);
    answered = page.data.filter((c) => c.contact !== null).length;
  });
  const raw = await timeSequential(listRequests, async () => {
    const page = await ctx.db.collection('conversations').find(filter).sort({ last_message_at: -1, _id: -1 }).limit(20).toArray();
    const contactIds = [...new Set(page.map((c) => c.contact_id as string))];
    await ctx.db.collection('contacts').find({ _id: { $in: contactIds } } as never).toArray();
  });
  const count = await timeSequential(Math.min(50, listRequests), () => ctx.db.collection('conversations').countDocuments(filter));
  console.log(`  GET /api/conversations: p50 ${ms(pct(ours, 0.5))} p99 ${ms(pct(ours, 0.99))} (${answered} rows with their contact)`);
  console.log(`  raw driver find + contacts $in: p50 ${ms(pct(raw, 0.5))} p99 ${ms(pct(raw, 0.99))}`);
  console.log(`  (for reading: raw countDocuments of the same filter, which the API's total needs: p50 ${ms(pct(count, 0.5))})`);
  const ratio = pct(ours, 0.5) / pct(raw, 0.5);
  ctx.rows.push({
    rank: 6,
    measure: `conversation list page of 20 at ${target} conversations, p50`,
    ours: `${ms(pct(ours, 0.5))} (p99 ${ms(pct(ours, 0.99))})`,
    baseline: `${ms(pct(raw, 0.5))} (p99 ${ms(pct(raw, 0.99))}) raw driver`,
    ratio: times(ratio),
    goal: '<= 1.5x',
    met: ratio <= 1.5,
  });
}
