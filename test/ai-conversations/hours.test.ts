/**
 * AI assignments and the tenant's working hours, over real WhatsApp webhooks: with the tenant
 * closed, an agent assigned for working hours does not answer and its "outside hours" handoff
 * rule gives the conversation to humans with the reason; an agent assigned outside working
 * hours answers instead, though the other one has the higher priority.
 */
import { expect } from 'chai';
import { messages } from '../../src/models/message.js';
import { transfers } from '../../src/models/transfer.js';
import { createSession, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';
import { aiListenerHandled, createAiAgent, sentTextsTo, teach } from './support.js';

const HOURS = 'Toko kami buka setiap hari pukul 09.00 sampai 21.00 WIB.';

describe('AI assignments by working hours', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let dayAgent: string;
  let nightAgent: string;
  let divisionId: string;
  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    acceptSends(wa);
    // Closed every day: every moment is outside working hours.
    const closed = await s.call('PUT', '/api/working-hours', { body: { days: [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day_of_week: d, start_time: '08:00', end_time: '17:00', is_active: false })) } });
    expect(closed.status, JSON.stringify(closed.body)).to.equal(200);
    const division = await s.call('POST', '/api/divisions', { body: { name: 'Piket' } });
    divisionId = division.body.id;
    [dayAgent, nightAgent] = await Promise.all([createAiAgent(s, 'Asisten Siang'), createAiAgent(s, 'Asisten Malam')]);
    await Promise.all([dayAgent, nightAgent].map((id) => teach(s, id, [{ question: 'Jam berapa toko buka?', answer: HOURS, alternatives: ['jam buka toko'] }])));
    const created = await Promise.all([
      s.call('POST', `/api/ai-agents/${dayAgent}/assignments`, { body: { channels: ['whatsapp'], hours: 'working_hours', priority: 10 } }),
      s.call('POST', `/api/ai-agents/${dayAgent}/handoff-rules`, { body: { name: 'Di luar jam', trigger: 'outside_hours', to_division_id: divisionId } }),
    ]);
    for (const res of created) expect(res.status, JSON.stringify(res.body)).to.equal(201);
  });

  it('hands off through the “outside hours” rule when the only covering assignment is out of its hours', async () => {
    const c = await startConversation(s, wa, { text: 'jam buka toko jam berapa?' });
    const [transfer] = await until(async () => {
      const found = await transfers.find({ tenant_id: s.tenantId, conversation_id: c.conversationId });
      return found.length ? found : null;
    }, 'the outside-hours handoff');
    expect(transfer).to.include({ to_division_id: divisionId, transferred_by: dayAgent });
    expect(transfer?.reason).to.include('outside the AI agent’s hours');
    expect(sentTextsTo(wa, c.from)).to.deep.equal([]);
  });

  it('lets the agent assigned outside working hours answer, over a higher-priority one out of its hours', async () => {
    const res = await s.call('POST', `/api/ai-agents/${nightAgent}/assignments`, { body: { channels: ['whatsapp'], hours: 'outside_working_hours', priority: 1 } });
    expect(res.status).to.equal(201);
    const c = await startConversation(s, wa, { text: 'jam buka toko jam berapa?' });
    await until(async () => sentTextsTo(wa, c.from).includes(HOURS), 'the night agent’s answer');
    const [reply] = await messages.find({ tenant_id: s.tenantId, conversation_id: c.conversationId, sender_type: 'ai' });
    expect(reply?.sender_id).to.equal(nightAgent);
    const [inbound] = await messages.find({ tenant_id: s.tenantId, conversation_id: c.conversationId, direction: 'inbound' });
    await aiListenerHandled(s, inbound?._id as string);
    expect(await transfers.count({ tenant_id: s.tenantId, conversation_id: c.conversationId })).to.equal(0);
  });
});
