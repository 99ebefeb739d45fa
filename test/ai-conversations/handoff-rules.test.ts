/**
 * Handoff rules on real WhatsApp conversations, beyond asking for a human: a keyword rule hands
 * the conversation straight to an agent (who is assigned and hears it live), a negative-sentiment
 * rule hands an upset customer to a division; a calm question is answered; a message older than
 * WhatsApp's 24-hour window is not.
 */
import { expect } from 'chai';
import { EVENTS } from '../../src/events/types.js';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { transfers } from '../../src/models/transfer.js';
import { baseUrl } from '../setup.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { acceptSends, connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';
import { aiListenerHandled, createAiAgent, sentTextsTo, teach } from './support.js';

const HOURS = 'Toko kami buka setiap hari pukul 09.00 sampai 21.00 WIB.';

describe('AI handoff rules (keywords, sentiment) and the messaging window', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let agent: string;
  let supervisor: TestSession;
  let supervisorSocket: TestSocket;
  let complaints: string;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    acceptSends(wa);
    agent = await createAiAgent(s, 'Asisten Toko');
    await teach(s, agent, [{ question: 'Jam berapa toko buka?', answer: HOURS, alternatives: ['jam buka toko'] }]);
    supervisor = await userWithPermissions(s, ['conversations.view']);
    supervisorSocket = await openSocket(baseUrl(), { token: supervisor.token });
    complaints = (await s.call('POST', '/api/divisions', { body: { name: 'Komplain' } })).body.id;
    expect((await s.call('POST', `/api/ai-agents/${agent}/assignments`, { body: { channels: ['whatsapp'] } })).status).to.equal(201);
    for (const body of [
      { name: 'Refund ke supervisor', trigger: 'keyword', keywords: ['refund', 'uang kembali'], to_agent_id: supervisor.userId, priority: 5 },
      { name: 'Pelanggan kesal', trigger: 'negative_sentiment', sentiment_threshold: 3, to_division_id: complaints },
    ]) expect((await s.call('POST', `/api/ai-agents/${agent}/handoff-rules`, { body })).status).to.equal(201);
  });
  after(() => supervisorSocket?.close());

  it('a keyword hands the conversation to the rule’s agent, assigned and told live', async () => {
    const c = await startConversation(s, wa, { text: 'Saya mau REFUND pesanan kemarin' });
    await waitFor(() => supervisorSocket.named(EVENTS.conversationTransferred).some((e) => e.data.id === c.conversationId), 'conversation.transferred to the supervisor', 10_000);
    expect(await conversations.findOwned(s.tenantId, c.conversationId)).to.include({ assignee_id: supervisor.userId });
    const [transfer] = await transfers.find({ tenant_id: s.tenantId, conversation_id: c.conversationId });
    expect(transfer?.reason).to.include('"refund"');
    expect(sentTextsTo(wa, c.from)).to.deep.equal([]);
  });

  it('an upset customer goes to the complaints division; a calm one is answered', async () => {
    const upset = await startConversation(s, wa, { text: 'Kecewa banget!!! pelayanan parah, penipu semua' });
    const [transfer] = await until(async () => {
      const found = await transfers.find({ tenant_id: s.tenantId, conversation_id: upset.conversationId });
      return found.length ? found : null;
    }, 'the sentiment handoff');
    expect(transfer).to.include({ to_division_id: complaints });
    expect(transfer?.reason).to.include('upset');
    const calm = await startConversation(s, wa, { text: 'jam buka toko jam berapa ya kak?' });
    await until(async () => sentTextsTo(wa, calm.from).includes(HOURS), 'the calm customer’s answer');
    expect(await transfers.count({ tenant_id: s.tenantId, conversation_id: calm.conversationId })).to.equal(0);
  });

  it('does not answer a message that reaches it outside WhatsApp’s 24-hour window', async () => {
    const c = await startConversation(s, wa, { text: 'jam buka toko jam berapa ya kak?', at: Math.floor(Date.now() / 1000) - 25 * 3600 });
    const [inbound] = await messages.find({ tenant_id: s.tenantId, conversation_id: c.conversationId, direction: 'inbound' });
    await aiListenerHandled(s, inbound?._id as string);
    expect(sentTextsTo(wa, c.from)).to.deep.equal([]);
    expect(await messages.count({ tenant_id: s.tenantId, conversation_id: c.conversationId, sender_type: 'ai' })).to.equal(0);
  });
});
