/** What the AI conversation tests share: AI agents with knowledge, a customer writing, and what the AI sent. */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { EVENTS } from '../../src/events/types.js';
import { naturalId } from '../../src/ids.js';
import { readEventsAfter } from '../../src/models/event.js';
import { findCursor } from '../../src/models/listener-cursor.js';
import { messages } from '../../src/models/message.js';
import { fakeGraph } from '../setup.js';
import type { TestSession } from '../support/session.js';
import { postSigned, textWebhook, until, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

/** Creates an active retrieval AI agent through the API; answers its id. */
export async function createAiAgent(s: TestSession, name: string, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await s.call('POST', '/api/ai-agents', { body: { name, ...fields } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

/** A Q&A pair to teach. */
export interface Pair {
  question: string;
  answer: string;
  alternatives?: string[];
}

/** Adds a text knowledge source with these Q&A pairs to an AI agent through the API; answers the source's id and each pair's id by its answer. */
export async function teach(s: TestSession, agentId: string, pairs: Pair[]): Promise<{ sourceId: string; qnaIds: Record<string, string> }> {
  const source = await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources`, { body: { kind: 'text', title: 'FAQ toko', text: 'Pertanyaan yang sering ditanyakan pelanggan.' } });
  expect(source.status, JSON.stringify(source.body)).to.equal(201);
  const qnaIds: Record<string, string> = {};
  for (const pair of pairs) {
    const res = await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources/${source.body.id}/qna`, { body: pair });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    qnaIds[pair.answer] = res.body.id;
  }
  return { sourceId: source.body.id as string, qnaIds };
}

/** The text messages we sent to `to` from this WhatsApp number (the fake Graph API's record), in order. */
export const sentTextsTo = (wa: WhatsappAccount, to: string): string[] =>
  fakeGraph()
    .requests.filter((r) => r.path === `/v21.0/${wa.phoneNumberId}/messages` && (r.json as { to?: string }).to === to && (r.json as { type?: string }).type === 'text')
    .map((r) => (r.json as { text: { body: string } }).text.body);

/** The customer of `c` writes again; answers our id of the message once it is stored. */
export async function customerWrites(s: TestSession, wa: WhatsappAccount, c: StartedConversation, text: string): Promise<string> {
  const wamid = `wamid.${randomBytes(12).toString('base64url')}`;
  expect((await postSigned(textWebhook(wa.phoneNumberId, c.from, wamid, text), wa.appSecret)).status).to.equal(200);
  const id = naturalId('message', s.tenantId, 'whatsapp', wamid);
  await until(() => messages.findOwnedOrNull(s.tenantId, id), `message ${wamid}`);
  return id;
}

/** Waits until the AI-replies listener has handled the message.created of message `id` (its cursor is past it). */
export async function aiListenerHandled(s: TestSession, id: string): Promise<void> {
  const event = await until(async () => (await readEventsAfter(s.tenantId, 0, 5000)).find((e) => e.event === EVENTS.messageCreated && (e.data as { id: string }).id === id), `message.created of ${id}`);
  await until(async () => ((await findCursor('ai-replies', s.tenantId))?.seq ?? 0) >= event.seq, 'the ai-replies listener past the message', 10_000);
}
