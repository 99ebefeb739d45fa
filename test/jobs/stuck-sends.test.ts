/**
 * Outbound messages a crash left pending are settled by the sweeper, never sent twice: one that
 * was never handed to the provider gets its one try now; one handed over whose answer was never
 * recorded may already be at the customer, so it is marked failed (`outcome_unknown`).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { insertDoc } from '../../src/models/driver.js';
import { MessageModel, messages, type Message } from '../../src/models/message.js';
import { naturalId } from '../../src/ids.js';
import { deliverMessage, sweepStuckSends } from '../../src/services/outbound.js';
import { fakeGraph } from '../setup.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

describe('settling sends a crash left pending', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let conv: StartedConversation;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    conv = await startConversation(s, wa);
  });
  beforeEach(() => {
    fakeGraph().reset();
    fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, () => ({
      body: { messaging_product: 'whatsapp', contacts: [{ input: conv.from, wa_id: conv.from }], messages: [{ id: `wamid.${randomBytes(12).toString('base64url')}` }] },
    }));
  });
  afterEach(() => expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]));

  const sends = () => fakeGraph().requests.filter((r) => r.method === 'POST' && r.path === `/v21.0/${wa.phoneNumberId}/messages`);

  /** What the send path leaves when the process dies after storing the message: pending, three minutes old. */
  async function leftPending(attempted: boolean): Promise<Message> {
    const at = new Date(Date.now() - 3 * 60_000);
    const key = `crash-${randomBytes(6).toString('hex')}`;
    return insertDoc<Message>(MessageModel, {
      _id: naturalId('outbound', s.tenantId, key),
      tenant_id: s.tenantId,
      conversation_id: conv.conversationId,
      contact_id: conv.contactId,
      channel: 'whatsapp',
      direction: 'outbound',
      sender_type: 'agent',
      sender_id: s.userId,
      external_id: null,
      idempotency_key: key,
      type: 'text',
      text: 'Paket Anda sudah dikirim',
      content: {},
      status: 'pending',
      delivery_errors: [],
      reply_to_external_id: null,
      sent_at: at,
      send_attempted_at: attempted ? at : null,
      created_at: at,
      updated_at: at,
    });
  }

  it('sends, once, a message that was stored but never handed to the provider', async () => {
    const m = await leftPending(false);
    await sweepStuckSends();
    await sweepStuckSends();
    expect(sends()).to.have.length(1);
    expect(sends()[0]?.json).to.include({ to: conv.from, type: 'text' });
    expect((await messages.findOwned(s.tenantId, m._id)).status).to.equal('sent');
  });

  it('marks failed, without sending, a message handed over whose answer was never recorded', async () => {
    const m = await leftPending(true);
    await sweepStuckSends();
    expect(sends()).to.have.length(0);
    const settled = await messages.findOwned(s.tenantId, m._id);
    expect(settled.status).to.equal('failed');
    expect(settled.delivery_errors).to.deep.equal([{ code: 'outcome_unknown', message: (settled.delivery_errors[0] as { message: string }).message, retryable: false, http_status: null }]);
  });

  it('hands a pending message over once when two processes try at the same moment', async () => {
    const m = await leftPending(false);
    await Promise.all([deliverMessage(s.tenantId, m._id), deliverMessage(s.tenantId, m._id), sweepStuckSends()]);
    expect(sends()).to.have.length(1);
    expect((await messages.findOwned(s.tenantId, m._id)).status).to.equal('sent');
  });
});
