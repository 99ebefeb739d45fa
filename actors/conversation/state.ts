/**
 * What every conversation-actor handler shares: its shape, and how a change is committed. A
 * change and its events are one single-document write: the conversation's new fields, fenced by
 * the version the actor read, and the events the change causes in the document's `outbox`. The
 * events are then appended to the tenant's log; if the process dies in between, the next start
 * of this actor appends what the log is missing (ids derive from the change, so nothing twice).
 */
import type { EventDraft, EventType, Audience } from '../../src/events/types.js';
import { audienceOf } from '../../src/events/audience.js';
import { draftEvent, emitEvents, emitMissingEvents } from '../../src/events/publish.js';
import { isDuplicateKey } from '../../src/errors.js';
import type { TenantDoc } from '../../src/models/base.js';
import { findConversationById, insertConversation, writeConversation, type Conversation } from '../../src/models/conversation.js';
import { findEventsByIds } from '../../src/models/event.js';
import type { NewDoc, TenantRepo } from '../../src/models/repo.js';

/** A handler: (conversation, payload) -> the conversation after, and the reply. */
export type ConversationHandler<P, R> = (conversation: Conversation, payload: P) => Promise<{ state: Conversation; reply: R }>;

/** The key of the change that wrote this version of the conversation. */
const versionKey = (c: Conversation) => `conversation:${c._id}:v${c.version}`;

/** An event of the change that produced `next`; the audience defaults to the conversation's own. */
export const changeEvent = (next: Conversation, event: EventType, data: unknown, audience: Audience = audienceOf(next)): EventDraft =>
  draftEvent(next.tenant_id, versionKey(next), event, data, audience);

/**
 * Writes a change of the conversation with the next version and the events it causes, then
 * appends them; answers the new state. A version that moved on (another process owns the actor
 * now) throws StaleWriteError, which the runtime answers by reloading and retrying once.
 */
export async function commitConversation(c: Conversation, set: Partial<Conversation>, events: (next: Conversation) => EventDraft[]): Promise<Conversation> {
  const next: Conversation = { ...c, ...set, version: c.version + 1, updated_at: new Date() };
  const outbox = events(next);
  next.outbox = outbox;
  await writeConversation(c._id, c.version, { ...set, version: next.version, updated_at: next.updated_at, outbox });
  await emitEvents(c.tenant_id, outbox);
  return next;
}

/** Inserts a new conversation (version 1) with the events of its creation, then appends them; false if it exists. */
export async function commitNewConversation(doc: Conversation, events: (created: Conversation) => EventDraft[]): Promise<boolean> {
  const outbox = events(doc);
  if (!(await insertConversation({ ...doc, outbox }))) return false;
  await emitEvents(doc.tenant_id, outbox);
  return true;
}

/** The conversation as stored, with the events of its last change appended if a crash left them out. */
export async function loadConversation(id: string): Promise<Conversation | null> {
  const c = await findConversationById(id);
  if (c?.outbox?.length) await emitMissingEvents(c.tenant_id, c.outbox);
  return c;
}

/**
 * Inserts the document a change creates (a message, a note, a transfer record) under its id, or
 * finds it when an earlier run of the same message got that far: a retry after a crash, or the
 * runtime's retry after a refused write. `committed` says whether that earlier run also
 * committed its change, told by the change's announcing event being in the log (the last
 * change's outbox was appended when this actor loaded, so the log is the whole truth).
 */
export async function insertOnce<T extends TenantDoc>(repo: TenantRepo<T>, doc: NewDoc<T>, announcingEventId: string): Promise<{ stored: T; committed: boolean }> {
  try {
    return { stored: await repo.insert(doc), committed: false };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const [stored, [announced]] = await Promise.all([repo.findOwned(doc.tenant_id, doc._id), findEventsByIds(doc.tenant_id, [announcingEventId])]);
  return { stored, committed: announced !== undefined };
}
