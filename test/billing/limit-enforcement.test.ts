/**
 * Plan limits enforced where they bite, through the real endpoints: connecting a channel account
 * over channel_accounts, and outbound sends once the month's messages (counted from the event
 * stream in the tenant's zone, idempotent by seq) reached monthly_messages; tenantUsage shows each.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { usageCountersListener } from '../../src/events/listeners/usage-counters.js';
import { EVENTS, type DomainEvent } from '../../src/events/types.js';
import { usageOfMonth } from '../../src/models/billing-usage.js';
import { tenantUsage } from '../../src/services/billing-usage.js';
import { sendOutbound } from '../../src/services/outbound.js';
import { ownerToken } from '../support/meta-owner.js';
import { createOperator, type Operator } from '../support/operator.js';
import { createSession, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, digits, startConversation, until } from '../support/whatsapp.js';

const key = () => `k-${randomBytes(6).toString('hex')}`;

describe('Plan limits where they bite', () => {
  let ops: Operator;
  before(async () => {
    ops = await createOperator();
  });

  const setLimits = async (s: TestSession, limits: Record<string, number | null>) => {
    const res = await ops.call('PATCH', `/api/super-admin/tenants/${s.tenantId}`, { body: { limits } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  };

  it('refuses a channel account over channel_accounts with a 422 naming the limit, and allows it again once one is deleted', async () => {
    const s = await createSession();
    await setLimits(s, { channel_accounts: 1 });
    const first = await connectWhatsapp(s);
    const phone = digits(15);
    const body = { channel: 'whatsapp', external_id: phone, name: 'Second line', access_token: ownerToken(phone, { display_phone_number: '15550783882' }) };
    const refused = await s.call('POST', '/api/integration-accounts', { body });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.code).to.equal('plan_limit_reached');
    expect(refused.body.message).to.include('channel_accounts');
    const usage = await tenantUsage(s.tenantId);
    expect(usage.limits.channel_accounts).to.deep.equal({ limit: 1, used: 1 });

    expect((await s.call('DELETE', `/api/integration-accounts/${first.accountId}`)).status).to.equal(200);
    const allowed = await s.call('POST', '/api/integration-accounts', { body });
    expect(allowed.status, JSON.stringify(allowed.body)).to.equal(201);
  });

  it('concurrent connects under channel_accounts 2: exactly 2 accounts', async () => {
    const s = await createSession();
    await setLimits(s, { channel_accounts: 2 });
    await connectWhatsapp(s);
    const phones = Array.from({ length: 4 }, () => digits(15));
    const answers = await Promise.all(
      phones.map((p) => s.call('POST', '/api/integration-accounts', { body: { channel: 'whatsapp', external_id: p, name: `Line ${p}`, access_token: ownerToken(p, { display_phone_number: '15550783883' }) } })),
    );
    expect(answers.map((a) => a.status).sort()).to.deep.equal([201, 422, 422, 422]);
    expect((await tenantUsage(s.tenantId)).limits.channel_accounts.used).to.equal(2);
  });

  it('counts the month’s messages from the event stream and refuses outbound sends at monthly_messages, naming it', async () => {
    const s = await createSession();
    const wa = await connectWhatsapp(s);
    acceptSends(wa);
    await setLimits(s, { monthly_messages: 3 });
    const conv = await startConversation(s, wa);
    const path = `/api/conversations/${conv.conversationId}/messages`;
    const countedTo = (n: number) => until(async () => (await tenantUsage(s.tenantId)).limits.monthly_messages.used >= n, `${n} messages counted`);
    await countedTo(1);
    for (const n of [2, 3]) {
      const sent = await s.call('POST', path, { body: { type: 'text', text: `Reply ${n}`, idempotency_key: key() } });
      expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
      await countedTo(n);
    }
    const refused = await s.call('POST', path, { body: { type: 'text', text: 'One too many', idempotency_key: key() } });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
    expect(refused.body.code).to.equal('plan_limit_reached');
    expect(refused.body.message).to.include('monthly_messages');
    const usage = await tenantUsage(s.tenantId);
    expect(usage.limits.monthly_messages).to.deep.equal({ limit: 3, used: 3 });
    expect(usage.limits.monthly_conversations).to.deep.equal({ limit: null, used: 1 });

    // Raising the limit lets sends through again.
    await setLimits(s, { monthly_messages: 10 });
    const again = await s.call('POST', path, { body: { type: 'text', text: 'Now within the plan', idempotency_key: key() } });
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
  });

  it('refuses an AI agent’s send past monthly_ai_replies, while an agent may still answer', async () => {
    const s = await createSession();
    const wa = await connectWhatsapp(s);
    acceptSends(wa);
    await setLimits(s, { monthly_ai_replies: 1 });
    const conv = await startConversation(s, wa);
    const ai = (text: string) => sendOutbound({ tenantId: s.tenantId, conversationId: conv.conversationId, idempotencyKey: key(), sender: { type: 'ai', id: null }, content: { type: 'text', text } });
    await ai('Halo! Ada yang bisa kami bantu?');
    await until(async () => (await tenantUsage(s.tenantId)).limits.monthly_ai_replies.used >= 1, 'the AI reply counted');
    const refused = await ai('A second AI reply').then(
      () => null,
      (e: { status: number; code: string; message: string }) => e,
    );
    expect(refused).to.include({ status: 422, code: 'plan_limit_reached' });
    expect(refused!.message).to.include('monthly_ai_replies');
    const human = await s.call('POST', `/api/conversations/${conv.conversationId}/messages`, { body: { type: 'text', text: 'Saya bantu, ya', idempotency_key: key() } });
    expect(human.status, JSON.stringify(human.body)).to.equal(201);
  });

  it('counts each event once by seq and in the tenant’s calendar month', async () => {
    const s = await createSession({ timezone: 'Asia/Jakarta' });
    const event = (seq: number, sentAt: string, sender = 'agent'): DomainEvent => ({
      id: randomUUID(),
      event: EVENTS.messageCreated,
      seq,
      tenant_id: s.tenantId,
      data: { sender_type: sender, sent_at: sentAt },
      created_at: sentAt,
      audience: { kind: 'tenant' } as never,
    });
    // 2031-11-30 23:30 WIB is 16:30 UTC: November in Jakarta; 17:30 UTC is 00:30 WIB on 1 December.
    await usageCountersListener.handle(event(1_000_001, '2031-11-30T16:30:00Z'));
    await usageCountersListener.handle(event(1_000_002, '2031-11-30T17:30:00Z', 'ai'));
    await usageCountersListener.handle(event(1_000_002, '2031-11-30T17:30:00Z', 'ai')); // a replay
    await usageCountersListener.handle(event(1_000_001, '2031-11-30T16:30:00Z')); // an older replay
    expect(await usageOfMonth(s.tenantId, '2031-11')).to.deep.equal({ messages: 1, conversations: 0, ai_replies: 0 });
    expect(await usageOfMonth(s.tenantId, '2031-12')).to.deep.equal({ messages: 1, conversations: 0, ai_replies: 1 });
    const december = await tenantUsage(s.tenantId, new Date('2031-12-15T00:00:00Z'));
    expect(december.limits.monthly_ai_replies.used).to.equal(1);
    expect(december.month).to.include({ month: '2031-12', timezone: 'Asia/Jakarta', from: '2031-12-01T00:00:00.000+07:00' });
  });
});
