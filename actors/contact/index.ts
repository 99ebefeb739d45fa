/**
 * The contact actor: the one writer of an agent's edits to a contact. One mailbox per contact
 * makes the edits one at a time, so their `contact.updated` events, each carrying the contact as
 * that edit left it, go out in the order the edits were written (two concurrent requests could
 * otherwise announce their states in the opposite order).
 */
import { appContext } from '../../src/context.js';
import { draftEvent, emitEvent } from '../../src/events/publish.js';
import { newId } from '../../src/ids.js';
import { EVENTS } from '../../src/events/types.js';
import { contacts, type Contact } from '../../src/models/contact.js';
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
  // Only the fields sent; another tenant's contact is a 404.
  const updated = await contacts.update(msg.tenantId, id, msg.set as Partial<Contact>);
  const json = presentContact(updated);
  // Durable first, then announced; a contact is tenant-wide, not one conversation's, and only
  // for those who may view contacts.
  await emitEvent(msg.tenantId, draftEvent(msg.tenantId, `contact:${id}:edit:${newId()}`, EVENTS.contactUpdated, json, { scope: 'tenant', permission: 'contacts.view' }));
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
