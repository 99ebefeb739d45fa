/**
 * Every list and lookup that users or the inbound path run is answered from an index: the
 * database's own plan for each query, as the code builds it, names an IXSCAN over the index
 * declared for it (ARCHITECTURE invariant 9), never a COLLSCAN. The queries run against a tenant
 * with real data, so the plans are the ones the engine picks with statistics.
 */
import { expect } from 'chai';
import type { Model } from 'mongoose';
import { ConversationModel } from '../../src/models/conversation.js';
import { DivisionMemberModel } from '../../src/models/division.js';
import { EventModel } from '../../src/models/event.js';
import { MessageModel } from '../../src/models/message.js';
import { UserModel } from '../../src/models/user.js';
import { WebhookEventModel } from '../../src/models/webhook-event.js';
import { indexesUsed } from '../support/query-plans.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation } from '../support/whatsapp.js';

describe('query plans', () => {
  let s: TestSession;
  let conversationId: string;
  const asModel = <T>(m: Model<T>) => m as unknown as Model<never>;

  before(async () => {
    s = await createSession();
    const wa = await connectWhatsapp(s);
    for (let i = 0; i < 3; i++) conversationId = (await startConversation(s, wa)).conversationId;
  });

  const newest = { last_message_at: -1, _id: -1 } as const;

  it('answers the inbox lists from their indexes', async () => {
    expect(await indexesUsed(asModel(ConversationModel), { tenant_id: s.tenantId }, newest)).to.deep.equal(['tenant_id_1_last_message_at_-1__id_-1']);
    expect(await indexesUsed(asModel(ConversationModel), { tenant_id: s.tenantId, status: 'open' }, newest)).to.deep.equal(['tenant_id_1_status_1_last_message_at_-1__id_-1']);
    expect(await indexesUsed(asModel(ConversationModel), { tenant_id: s.tenantId, assignee_id: null }, newest)).to.deep.equal(['tenant_id_1_assignee_id_1_last_message_at_-1__id_-1']);
    expect(await indexesUsed(asModel(ConversationModel), { tenant_id: s.tenantId, division_id: null }, newest)).to.deep.equal(['tenant_id_1_division_id_1_last_message_at_-1__id_-1']);
  });

  it('answers a conversation’s messages and message search from their indexes', async () => {
    expect(await indexesUsed(asModel(MessageModel), { tenant_id: s.tenantId, conversation_id: conversationId }, { sent_at: 1, _id: 1 })).to.deep.equal([
      'tenant_id_1_conversation_id_1_sent_at_1__id_1',
    ]);
    expect(await indexesUsed(asModel(MessageModel), { tenant_id: s.tenantId, text: /halo/i }, { sent_at: -1, _id: -1 })).to.deep.equal(['tenant_id_1_sent_at_-1']);
  });

  it('answers login by e-mail, an agent’s divisions, due webhooks and event replay from their indexes', async () => {
    expect(await indexesUsed(asModel(UserModel), { email_key: s.email, deleted_at: null }, {})).to.deep.equal(['email_key_1']);
    expect(await indexesUsed(asModel(DivisionMemberModel), { tenant_id: s.tenantId, user_id: s.userId }, {})).to.deep.equal(['tenant_id_1_user_id_1']);
    expect(await indexesUsed(asModel(WebhookEventModel), { status: 'pending', next_attempt_at: { $lte: new Date() } }, { next_attempt_at: 1 })).to.deep.equal(['status_1_next_attempt_at_1']);
    expect(await indexesUsed(asModel(EventModel), { tenant_id: s.tenantId, seq: { $gt: 1 } }, { seq: 1 })).to.deep.equal(['tenant_id_1_seq_1']);
  });
});
