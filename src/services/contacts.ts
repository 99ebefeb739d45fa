/**
 * Contacts: the customers behind channel identities. They are created by the inbound pipeline
 * (contact-resolution.ts); agents list, read and edit them here.
 *
 * An edit is one `$set` of exactly the fields the caller sent, by `_id`, never a read-modify-write
 * in our code: for one field the last write wins, and fields the caller did not send are left
 * alone. On MongoDB that alone keeps concurrent edits of different fields; the embedded engine,
 * though, rewrites the whole document for every update, so the edits go through the contact's
 * actor (actors/contact), one at a time. `tags` and `attributes` are replaced as a whole, like
 * every other field, so a client sends the full list or object it shows.
 */
import { askContactUpdate, type ContactEdit } from '../../actors/contact/index.js';
import { CONTACT_SEARCHED, contacts, type Contact } from '../models/contact.js';
import { conversations, type Conversation, type ConversationStatus } from '../models/conversation.js';
import type { Page, Scoped } from '../models/repo.js';
import type { ContactJson } from '../presenters/contact.js';
import type { ChannelName } from '../../channels/types.js';
import type { Acting } from './agents.js';
import { searchFilter, type SearchTerm } from './text-match.js';
import { visibleConversationsFilter } from './conversation-access.js';

/** Filters of the contact list. */
export interface ListContacts {
  /** The caller's tenant. */
  tenantId: string;
  /** Part of the name, phone, e-mail or username, any case. */
  q?: string | undefined;
  channel?: ChannelName | undefined;
  /** Contacts carrying this tag (exact). */
  tag?: string | undefined;
  page: number;
  limit: number;
}

/** One page of contacts, newest first. */
export async function listContacts(q: ListContacts): Promise<Page<Contact>> {
  const filter: Scoped = { tenant_id: q.tenantId };
  if (q.q) {
    const terms: SearchTerm[] = [{ text: q.q, fields: CONTACT_SEARCHED }];
    // Phones are stored as E.164 digits; "+62 812-3456" should still find them.
    const digits = q.q.replace(/[\s()+.-]/g, '');
    if (/^[0-9]{3,}$/.test(digits) && digits !== q.q) terms.push({ text: digits, fields: ['phone'] });
    Object.assign(filter, searchFilter(terms));
  }
  if (q.channel) filter.channel = q.channel;
  if (q.tag) filter.tags = q.tag;
  return contacts.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** One contact of the tenant, or NotFoundError. */
export async function getContact(tenantId: string, id: string): Promise<Contact> {
  return contacts.findOwned(tenantId, id);
}

/** Edit a contact: absent fields are kept, null clears. */
export interface UpdateContact extends Acting {
  /** The contact; another tenant's id is a 404. */
  id: string;
  name?: string | null | undefined;
  email?: string | null | undefined;
  /** E.164 digits without "+". */
  phone?: string | null | undefined;
  /** Replaces the whole attribute object. */
  attributes?: Record<string, unknown> | undefined;
  /** Replaces the whole tag list. */
  tags?: string[] | undefined;
}

/** Sets the given fields through the contact's actor, which announces `contact.updated`; 404 for another tenant's contact. */
export async function updateContact(cmd: UpdateContact): Promise<ContactJson> {
  const set: ContactEdit = {};
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.email !== undefined) set.email = cmd.email;
  if (cmd.phone !== undefined) set.phone = cmd.phone;
  if (cmd.attributes !== undefined) set.attributes = cmd.attributes;
  if (cmd.tags !== undefined) set.tags = cmd.tags;
  return askContactUpdate(cmd.tenantId, cmd.id, set);
}

/** A contact's conversations. */
export interface ListContactConversations extends Acting {
  contactId: string;
  status?: ConversationStatus | undefined;
  page: number;
  limit: number;
}

/** One page of the contact's conversations the caller may see, newest first; 404 for an unknown contact. */
export async function listContactConversations(q: ListContactConversations): Promise<Page<Conversation>> {
  await contacts.findOwned(q.tenantId, q.contactId);
  const filter: Scoped = { ...(await visibleConversationsFilter(q.principal)), contact_id: q.contactId };
  if (q.status) filter.status = q.status;
  return conversations.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}
