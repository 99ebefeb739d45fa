/**
 * Meta's message-template edge of one WhatsApp Business Account, played on the run's fake Graph
 * API (test/support/fake-graph.ts): submissions are stored and answered `{ id, status, category }`,
 * a second submission of a name and language answers Meta's "already exists" error, and the list
 * answers pages of `pageSize` with Meta's `paging.cursors` and `paging.next`. A test can make the
 * next answers fail (`failNext`) to see retries and error mapping.
 */
import { randomBytes } from 'node:crypto';
import { fakeGraph } from '../setup.js';
import type { FakeReply, RecordedRequest } from './fake-graph.js';
import { digits } from './whatsapp.js';

/** A template as Meta lists it. */
export interface MetaTemplate {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string;
  components: Record<string, unknown>[];
  rejected_reason?: string;
}

/** Meta's answer to a template that exists already in that language (as Graph v21 writes it). */
export const alreadyExists = (language: string): FakeReply => ({
  status: 400,
  body: {
    error: {
      message: 'Invalid parameter',
      type: 'OAuthException',
      code: 100,
      error_subcode: 2388023,
      is_transient: false,
      error_user_title: 'Message template language is being deleted',
      error_user_msg: `New ${language} content can't be added while the existing ${language} content is being deleted.`,
      fbtrace_id: `A${randomBytes(8).toString('hex')}`,
    },
  },
});

/** One WABA's templates at Meta. */
export interface MetaTemplates {
  wabaId: string;
  templates: MetaTemplate[];
  /** The template submissions received (POST bodies). */
  submissions: RecordedRequest[];
  /** The list requests received. */
  listings: RecordedRequest[];
  /** Adds a template as if made in WhatsApp Manager. */
  add(t: Partial<MetaTemplate> & { name: string }): MetaTemplate;
  /** The next `n` requests to the edge answer `reply` instead. */
  failNext(n: number, reply: FakeReply): void;
}

const cursor = (index: number) => Buffer.from(`index:${index}`).toString('base64url');
const indexOf = (after: string | null) => (after ? Number(Buffer.from(after, 'base64url').toString().replace('index:', '')) : 0);

/** Plays Meta's message_templates edge of `wabaId`. */
export function playMetaTemplates(wabaId: string, pageSize = 2): MetaTemplates {
  const failures: FakeReply[] = [];
  const state: MetaTemplates = {
    wabaId,
    templates: [],
    submissions: [],
    listings: [],
    add(t) {
      const template: MetaTemplate = { id: digits(15), language: 'en_US', status: 'APPROVED', category: 'UTILITY', components: [{ type: 'BODY', text: 'Hello' }], ...t };
      state.templates.push(template);
      return template;
    },
    failNext(n, reply) {
      for (let i = 0; i < n; i++) failures.push(reply);
    },
  };
  const path = `/v21.0/${wabaId}/message_templates`;
  fakeGraph().on('POST', path, (req) => {
    state.submissions.push(req);
    const failure = failures.shift();
    if (failure) return failure;
    const body = req.json as { name: string; language: string; category: string; components: Record<string, unknown>[] };
    if (state.templates.some((t) => t.name === body.name && t.language === body.language)) return alreadyExists(body.language);
    const t = state.add({ name: body.name, language: body.language, category: body.category, components: body.components, status: 'PENDING' });
    return { body: { id: t.id, status: 'PENDING', category: body.category } };
  });
  fakeGraph().on('GET', path, (req) => {
    state.listings.push(req);
    const failure = failures.shift();
    if (failure) return failure;
    const start = indexOf(req.query.get('after'));
    const data = state.templates.slice(start, start + pageSize);
    const end = start + data.length;
    const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(end) } };
    if (end < state.templates.length) paging.next = `https://graph.facebook.com${path}?after=${cursor(end)}&limit=${pageSize}`;
    return { body: { data, paging } };
  });
  return state;
}
