/**
 * The contact actor: the one writer of an agent's edits to a contact. A `$set` of given fields
 * looks safe without it, but the embedded engine applies every update as read, change in Go,
 * write back (ARCHITECTURE "Storage engine facts"): two concurrent `$set`s of *different* fields
 * of one contact lost one of them in our tests. One mailbox per contact makes the edits one at a
 * time, so each keeps every field the others set, and their `contact.updated` events go out in
 * the order the edits were written.
 */
import { appContext } from '../../src/context.js';
import { NotFoundError } from '../../src/errors.js';
import { draftEvent, emitEvent } from '../../src/events/publish.js';
import { newId } from '../../src/ids.js';
import { EVENTS } from '../../src/events/types.js';
import { ContactModel, type Contact } from '../../src/models/contact.js';
import { presentContact, type ContactJson } from '../../src/presenters/contact.js';
import type { ActorBehaviour } from '../runtime.js';

/** The fields an edit sets (JSON, as every actor message). */
export interface ContactEdit {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  attributes?: Record<string, unknown>;
  tags?: string[];
}

/** An edit of one tenant's contact. */
interface ContactMessage {
  type: 'update';
  tenantId: string;
  set: ContactEdit;
}

async function applyEdit(id: string, msg: ContactMessage): Promise<ContactJson> {
  const found = await ContactModel.findById(id).lean<Contact>().exec();
  if (!found || found.tenant_id !== msg.tenantId) throw NotFoundError('Contact');
  // Only the fields sent; filtered by `_id` alone, the one lookup the embedded engine indexes.
  const updated = await ContactModel.findByIdAndUpdate(id, { $set: msg.set }, { returnDocument: 'after', runValidators: true }).lean<Contact>().exec();
  if (!updated) throw NotFoundError('Contact');
  const json = presentContact(updated);
  // Durable first, then announced; a contact is tenant-wide, not one conversation's.
  await emitEvent(msg.tenantId, draftEvent(msg.tenantId, `contact:${id}:edit:${newId()}`, EVENTS.contactUpdated, json, { scope: 'tenant' }));
  return json;
}

/** The behaviour registered with the ActorSystem; it keeps no state between messages. */
export const contactActor: ActorBehaviour<null, ContactMessage, ContactJson> = {
  kind: 'contact',
  init: async () => null,
  async receive(state, msg, ctx) {
    if (msg.type !== 'update') throw new Error(`contact actor: unknown message type ${String(msg.type)}`);
    return { state, reply: await applyEdit(ctx.id, msg) };
  },
};

/** Asks a contact's actor to set fields; answers the contact as presented after the write. */
export async function askContactUpdate(tenantId: string, contactId: string, set: ContactEdit): Promise<ContactJson> {
  return appContext().actors.ask<ContactJson>('contact', contactId, { type: 'update', tenantId, set } satisfies ContactMessage);
}
