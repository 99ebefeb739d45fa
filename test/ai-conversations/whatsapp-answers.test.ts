/**
 * AI agents answering WhatsApp customers end to end: signed webhooks in, the fake Graph API out.
 * A customer of a tenant with an assigned AI agent gets the right Q&A answer on the channel, with
 * its sources in message.created; a conversation a human took over gets no AI answer; asking for
 * a human, or two answers in a row below the threshold, hands the conversation to a division's
 * queue, live on a real Socket.IO agent client, with a private note giving the reason; an
 * orchestration rule passes refund questions to another AI agent; usage counts what happened;
 * evaluations rate the replies, and a corrected answer becomes a Q&A pair.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { aiRepliesListener } from '../../src/events/listeners/ai-replies.js';
import { EVENTS } from '../../src/events/types.js';
import { readEventsAfter } from '../../src/models/event.js';
import { aiConversationId, aiConversations } from '../../src/models/ai-conversation.js';
import { messages } from '../../src/models/message.js';
import { transfers } from '../../src/models/transfer.js';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { acceptSends, connectWhatsapp, startConversation, until, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';
import { aiListenerHandled, createAiAgent, customerWrites, sentTextsTo, teach, type Pair } from './support.js';

const SHIPPING = 'Ongkos kirim ke Bandung Rp15.000 dengan JNE REG, sampai 2-3 hari kerja.';
const HOURS = 'Toko kami buka setiap hari pukul 09.00 sampai 21.00 WIB.';
const REFUND = 'Refund bisa diajukan maksimal 7 hari setelah barang diterima, kirim foto barang yang rusak ke kami.';
const HANDOFF_MESSAGE = 'Baik kak, kami sambungkan ke tim CS kami ya.';

describe('AI agents answering WhatsApp customers', () => {
  let s: TestSession;
  let wa: WhatsappAccount;
  let shopAgent: string;
  let returnsAgent: string;
  let divisionId: string;
  let csAgent: TestSession;
  let csSocket: TestSocket;
  const qnaIds: Record<string, string> = {};
  const sourceIds: Record<string, string> = {};
  /** The first test's AI reply and the customer's message it answered. */
  let shippingReply: { id: string; conversationId: string; question: string; from: string } | null = null;

  /** Teaches an AI agent these pairs, keeping the source's and pairs' ids. */
  async function teachAgent(agentId: string, pairs: Pair[]): Promise<void> {
    const taught = await teach(s, agentId, pairs);
    sourceIds[agentId] = taught.sourceId;
    Object.assign(qnaIds, taught.qnaIds);
  }

  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    acceptSends(wa);
    shopAgent = await createAiAgent(s, 'Asisten Toko');
    returnsAgent = await createAiAgent(s, 'Asisten Retur');
    await teachAgent(shopAgent, [
      { question: 'Berapa ongkos kirim ke Bandung?', answer: SHIPPING, alternatives: ['ongkir ke bandung berapa', 'shipping cost to Bandung'] },
      { question: 'Jam berapa toko buka?', answer: HOURS, alternatives: ['jam buka toko', 'what are your opening hours'] },
    ]);
    await teachAgent(returnsAgent, [{ question: 'Bagaimana cara refund barang rusak?', answer: REFUND, alternatives: ['cara retur barang', 'how do I get a refund'] }]);

    const division = await s.call('POST', '/api/divisions', { body: { name: 'Customer Service' } });
    divisionId = division.body.id;
    csAgent = await userWithPermissions(s, ['conversations.view']);
    expect((await s.call('POST', `/api/divisions/${divisionId}/agents`, { body: { agent_ids: [csAgent.userId] } })).status).to.be.oneOf([200, 201]);
    csSocket = await openSocket(baseUrl(), { token: csAgent.token });

    const ok = (res: { status: number; body: unknown }) => expect(res.status, JSON.stringify(res.body)).to.equal(201);
    ok(await s.call('POST', `/api/ai-agents/${shopAgent}/assignments`, { body: { channels: ['whatsapp'], account_ids: [wa.accountId], priority: 10 } }));
    // A lower-priority assignment of the other agent covers the same messages: the shop agent wins.
    ok(await s.call('POST', `/api/ai-agents/${returnsAgent}/assignments`, { body: { channels: ['whatsapp'], priority: 1 } }));
    ok(await s.call('POST', `/api/ai-agents/${shopAgent}/handoff-rules`, { body: { name: 'Minta manusia', trigger: 'human_request', to_division_id: divisionId, handoff_message: HANDOFF_MESSAGE } }));
    ok(await s.call('POST', `/api/ai-agents/${shopAgent}/handoff-rules`, { body: { name: 'Tidak yakin', trigger: 'low_confidence', low_confidence_count: 2, to_division_id: divisionId } }));
    ok(await s.call('POST', `/api/ai-agents/${shopAgent}/orchestration-rules`, { body: { name: 'Retur', intents: ['refund'], target_ai_agent_id: returnsAgent } }));
  });
  after(() => csSocket?.close());

  const sentTo = (to: string) => sentTextsTo(wa, to);
  const write = (c: StartedConversation, text: string) => customerWrites(s, wa, c, text);
  const handled = (id: string) => aiListenerHandled(s, id);

  it('answers a paraphrased question on the channel with the Q&A answer, as the AI agent, sources in message.created', async () => {
    const question = 'kak, ongkir ke bandung brp ya?';
    const c = await startConversation(s, wa, { text: question });
    await until(async () => sentTo(c.from).includes(SHIPPING), 'the AI answer on WhatsApp');
    const events = await readEventsAfter(s.tenantId, 0, 5000);
    const created = events.find((e) => e.event === EVENTS.messageCreated && (e.data as { conversation_id: string; sender_type: string }).conversation_id === c.conversationId && (e.data as { sender_type: string }).sender_type === 'ai');
    expect(created, 'message.created of the AI reply').to.not.equal(undefined);
    const data = created?.data as { sender_id: string; direction: string; text: string; content: { ai: { ai_agent_id: string; confidence: number; sources: { kind: string; id: string }[]; responder: string } } };
    expect(data).to.include({ sender_id: shopAgent, direction: 'outbound', text: SHIPPING });
    expect(data.content.ai).to.include({ ai_agent_id: shopAgent, responder: 'retrieval' });
    expect(data.content.ai.confidence).to.be.a('number');
    expect(data.content.ai.sources[0]).to.include({ kind: 'qna', id: qnaIds[SHIPPING] });
    shippingReply = { id: (created?.data as { id: string }).id, conversationId: c.conversationId, question, from: c.from };
    // Sent, like an agent's reply: the provider's status comes back on the same message.
    await until(async () => (await messages.find({ tenant_id: s.tenantId, conversation_id: c.conversationId, sender_type: 'ai' })).find((m) => m.status === 'sent'), 'the reply sent');
  });

  it('handles a replayed event (a crash before its state was written) without sending or counting twice', async () => {
    const { conversationId, from } = shippingReply ?? { conversationId: '', from: '' };
    const [inbound] = await messages.find({ tenant_id: s.tenantId, conversation_id: conversationId, direction: 'inbound' });
    const event = (await readEventsAfter(s.tenantId, 0, 5000)).find((e) => e.event === EVENTS.messageCreated && (e.data as { id: string }).id === inbound?._id);
    if (!event || !inbound) throw new Error('the first test’s customer message is missing');
    const before = (await s.call('GET', `/api/ai-agents/${shopAgent}/usage`)).body.totals;
    // As if the process died after sending and counting, before writing the conversation's AI state.
    expect(await aiConversations.remove(s.tenantId, aiConversationId(s.tenantId, conversationId))).to.equal(true);
    await aiRepliesListener.handle(event);
    await aiRepliesListener.handle(event);
    expect((await messages.find({ tenant_id: s.tenantId, conversation_id: conversationId, sender_type: 'ai' })).length).to.equal(1);
    expect(sentTo(from)).to.deep.equal([SHIPPING]);
    expect((await s.call('GET', `/api/ai-agents/${shopAgent}/usage`)).body.totals).to.deep.equal(before);
    expect((await aiConversations.findOwned(s.tenantId, aiConversationId(s.tenantId, conversationId))).last_seq).to.equal(event.seq);
  });

  it('stays silent in a conversation a human took over', async () => {
    const c = await startConversation(s, wa, { text: 'jam buka toko jam berapa?' });
    await until(async () => sentTo(c.from).includes(HOURS), 'the first AI answer');
    const takeover = await s.call('POST', `/api/conversations/${c.conversationId}/takeover`, { body: { reason: 'VIP customer' } });
    expect(takeover.status, JSON.stringify(takeover.body)).to.equal(200);
    const again = await write(c, 'ongkir ke bandung berapa kak?');
    await handled(again);
    expect(sentTo(c.from)).to.deep.equal([HOURS]);
  });

  it('hands off when the customer asks for a human: transferred to the division’s queue live, a note with the reason, then silent', async () => {
    const c = await startConversation(s, wa, { text: 'mau ngomong sama orang aja' });
    await waitFor(() => csSocket.named(EVENTS.conversationTransferred).some((e) => e.data.id === c.conversationId), 'conversation.transferred on the CS agent’s socket', 10_000);
    const live = csSocket.named(EVENTS.conversationTransferred).find((e) => e.data.id === c.conversationId);
    expect(live?.data).to.include({ division_id: divisionId, assignee_id: null });
    expect(live?.data.transfer).to.include({ to_division_id: divisionId, transferred_by: shopAgent });
    await until(async () => sentTo(c.from).includes(HANDOFF_MESSAGE), 'the handoff message');
    const notes = await until(async () => {
      const res = await s.call('GET', `/api/conversations/${c.conversationId}/notes`);
      return (res.body.data ?? res.body).length ? (res.body.data ?? res.body) : null;
    }, 'the handoff note');
    expect(notes[0].body).to.include('asked for a human').and.include('Minta manusia');
    // The CS agent sees it in their queue over REST too.
    const queue = await csAgent.call('GET', `/api/conversations/${c.conversationId}`);
    expect(queue.status).to.equal(200);
    const later = await write(c, 'ongkir ke bandung berapa?');
    await handled(later);
    expect(sentTo(c.from)).to.deep.equal([HANDOFF_MESSAGE]);
  });

  it('hands off after two answers in a row below the confidence threshold', async () => {
    const c = await startConversation(s, wa, { text: 'apakah kalian jual mobil bekas?' });
    await handled((await messages.find({ tenant_id: s.tenantId, conversation_id: c.conversationId, direction: 'inbound' }))[0]?._id as string);
    expect(sentTo(c.from)).to.deep.equal([]);
    expect(await transfers.count({ tenant_id: s.tenantId, conversation_id: c.conversationId })).to.equal(0);
    await write(c, 'bisa servis AC rumah juga?');
    await waitFor(() => csSocket.named(EVENTS.conversationTransferred).some((e) => e.data.id === c.conversationId), 'the low-confidence handoff live', 10_000);
    const [transfer] = await transfers.find({ tenant_id: s.tenantId, conversation_id: c.conversationId });
    expect(transfer?.reason).to.include('2 answers in a row');
  });

  it('routes a refund question to the returns AI agent by the orchestration rule', async () => {
    const c = await startConversation(s, wa, { text: 'gimana cara refund barang yang rusak?' });
    await until(async () => sentTo(c.from).includes(REFUND), 'the returns agent’s answer');
    const [reply] = await messages.find({ tenant_id: s.tenantId, conversation_id: c.conversationId, sender_type: 'ai' });
    expect(reply?.sender_id).to.equal(returnsAgent);
  });

  it('counts usage per agent and day: replies, handoffs and unanswered messages as they happened', async () => {
    const usage = await s.call('GET', `/api/ai-agents/${shopAgent}/usage`);
    expect(usage.status).to.equal(200);
    expect(usage.body.totals).to.deep.include({ replies: 2, handoffs: 2, no_answers: 2, tokens_in: 0, tokens_out: 0 });
    const today = usage.body.days[usage.body.days.length - 1];
    expect(today).to.deep.include({ replies: 2, handoffs: 2, no_answers: 2 });
    const summary = await s.call('GET', '/api/ai-agents/usage/summary');
    expect(summary.body.totals).to.deep.include({ replies: 3, handoffs: 2, no_answers: 2 });
    expect(summary.body.agents.find((a: { ai_agent_id: string }) => a.ai_agent_id === returnsAgent)).to.include({ replies: 1 });
  });

  describe('evaluations of AI replies', () => {
    const path = (agentId = shopAgent) => `/api/ai-agents/${agentId}/evaluations`;
    const reply = () => {
      if (!shippingReply) throw new Error('the first test’s AI reply is missing');
      return shippingReply;
    };
    const rate = async (body: Record<string, unknown>) => {
      const res = await s.call('POST', path(), { body: { message_id: reply().id, ...body } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body;
    };

    describe('POST /api/ai-agents/{id}/evaluations', () => {
      itChecksAccess('POST', () => path(), 'ai_agents.manage', () => s, { body: { message_id: randomUUID(), rating: 'good' } });
      it('rates a reply, keeping the reply and the customer’s question; a corrected answer becomes a Q&A pair', async () => {
        const corrected = 'Ongkir ke Bandung sekarang Rp12.000 (promo), sampai 2 hari kerja.';
        const e = await rate({ rating: 'bad', corrected_answer: corrected, notes: 'harga promo', qna_source_id: sourceIds[shopAgent] });
        expect(e).to.include({ ai_agent_id: shopAgent, message_id: reply().id, conversation_id: reply().conversationId, question: reply().question, answer: SHIPPING, rating: 'bad', corrected_answer: corrected, created_by: s.userId });
        expect(e.qna_id).to.be.a('string');
        const pairs = await s.call('GET', `/api/ai-agents/${shopAgent}/knowledge-sources/${sourceIds[shopAgent]}/qna`);
        const pair = (pairs.body.data as { id: string; question: string; answer: string }[]).find((p) => p.id === e.qna_id);
        expect(pair).to.include({ question: reply().question, answer: corrected });
      });
      it('answers 400 for a message that is not this agent’s reply, a bad rating, or a Q&A without a corrected answer or with another agent’s source', async () => {
        const inbound = await messages.find({ tenant_id: s.tenantId, conversation_id: reply().conversationId, direction: 'inbound' });
        const notReply = await s.call('POST', path(), { body: { message_id: inbound[0]?._id, rating: 'good' } });
        expect(notReply.status).to.equal(400);
        expect(notReply.body.details[0].field).to.equal('message_id');
        expect((await s.call('POST', path(returnsAgent), { body: { message_id: reply().id, rating: 'good' } })).status).to.equal(400);
        expect((await s.call('POST', path(), { body: { message_id: reply().id, rating: 'meh' } })).status).to.equal(400);
        const noAnswer = await s.call('POST', path(), { body: { message_id: reply().id, rating: 'bad', qna_source_id: sourceIds[shopAgent] } });
        expect(noAnswer.status).to.equal(400);
        expect(noAnswer.body.details[0].field).to.equal('corrected_answer');
        const foreignSource = await s.call('POST', path(), { body: { message_id: reply().id, rating: 'bad', corrected_answer: 'x', qna_source_id: sourceIds[returnsAgent] } });
        expect(foreignSource.status).to.equal(400);
        expect(foreignSource.body.details[0].field).to.equal('qna_source_id');
      });
      it('answers 404 for another tenant’s AI agent', async () => {
        const other = await createSession();
        expect((await other.call('POST', path(), { body: { message_id: reply().id, rating: 'good' } })).status).to.equal(404);
      });
    });

    describe('GET /api/ai-agents/{id}/evaluations', () => {
      itChecksAccess('GET', () => path(), 'ai_agents.view', () => s);
      it('lists newest first, by rating when asked', async () => {
        const good = await rate({ rating: 'good' });
        const all = await s.call('GET', path());
        expect(all.status).to.equal(200);
        expect(all.body.data[0].id).to.equal(good.id);
        const bad = await s.call('GET', `${path()}?rating=bad`);
        expect(bad.body.data.map((e: { rating: string }) => e.rating)).to.not.include('good');
        expect((await s.call('GET', path(returnsAgent))).body.pagination.total).to.equal(0);
      });
      it('answers 400 for a bad filter and 404 for an unknown agent', async () => {
        expect((await s.call('GET', `${path()}?rating=excellent`)).status).to.equal(400);
        expect((await s.call('GET', path(randomUUID()))).status).to.equal(404);
      });
    });

    describe('PUT /api/ai-agents/{id}/evaluations/{evaluationId}', () => {
      itChecksAccess('PUT', () => `${path()}/${randomUUID()}`, 'ai_agents.manage', () => s, { body: { rating: 'good' } });
      it('changes the fields given; a Q&A pair is made once (409 after)', async () => {
        const e = await rate({ rating: 'good' });
        const res = await s.call('PUT', `${path()}/${e.id}`, { body: { rating: 'bad', notes: 'jawaban kurang lengkap' } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ id: e.id, rating: 'bad', notes: 'jawaban kurang lengkap', corrected_answer: null, qna_id: null });
        const withQna = await s.call('PUT', `${path()}/${e.id}`, { body: { corrected_answer: 'Ongkir Bandung Rp15.000, JNE REG.', qna_source_id: sourceIds[shopAgent] } });
        expect(withQna.status, JSON.stringify(withQna.body)).to.equal(200);
        expect(withQna.body.qna_id).to.be.a('string');
        expect((await s.call('PUT', `${path()}/${e.id}`, { body: { qna_source_id: sourceIds[shopAgent] } })).status).to.equal(409);
      });
      it('answers 400 for an empty body and 404 for another agent’s evaluation', async () => {
        const e = await rate({ rating: 'good' });
        expect((await s.call('PUT', `${path()}/${e.id}`, { body: {} })).status).to.equal(400);
        expect((await s.call('PUT', `${path(returnsAgent)}/${e.id}`, { body: { rating: 'bad' } })).status).to.equal(404);
      });
    });

    describe('DELETE /api/ai-agents/{id}/evaluations/{evaluationId}', () => {
      itChecksAccess('DELETE', () => `${path()}/${randomUUID()}`, 'ai_agents.manage', () => s);
      it('deletes it; again is 404; a bad id is 400', async () => {
        const e = await rate({ rating: 'good' });
        expect((await s.call('DELETE', `${path(returnsAgent)}/${e.id}`)).status).to.equal(404);
        expect((await s.call('DELETE', `${path()}/${e.id}`)).status).to.equal(200);
        expect((await s.call('DELETE', `${path()}/${e.id}`)).status).to.equal(404);
        expect((await s.call('DELETE', `${path()}/nope`)).status).to.equal(400);
      });
    });
  });
});
