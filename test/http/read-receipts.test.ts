import { expect } from 'chai';
import { fakeGraph } from '../setup.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

describe('read receipts to the customer', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
  });

  it('marks the latest inbound WhatsApp message read when the agent reads the conversation, once', async () => {
    const graph = fakeGraph();
    graph.reset();
    graph.on('POST', `/v21.0/${wa.phoneNumberId}/messages`, { body: { success: true } });
    const first = await startConversation(s, wa, { text: 'satu' });
    const second = await startConversation(s, wa, { from: first.from, text: 'dua', at: Math.floor(Date.now() / 1000) + 1 });
    expect(second.conversationId).to.equal(first.conversationId);

    const read = await s.call('POST', `/api/conversations/${first.conversationId}/read`);
    expect(read.status, JSON.stringify(read.body)).to.equal(200);
    const receipt = await until(async () => graph.requests.find((r) => (r.json as { status?: string } | null)?.status === 'read'), 'the read receipt');
    expect(receipt.json).to.deep.equal({ messaging_product: 'whatsapp', status: 'read', message_id: second.wamid });
    expect(receipt.headers.authorization).to.match(/^Bearer EAAG/);

    // Nothing unread any more: reading again sends nothing.
    await s.call('POST', `/api/conversations/${first.conversationId}/read`);
    await new Promise((r) => setTimeout(r, 300));
    expect(graph.requests.filter((r) => (r.json as { status?: string } | null)?.status === 'read')).to.have.length(1);
    expect(graph.unexpected).to.have.length(0);
  });
});
