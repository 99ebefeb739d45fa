/**
 * A contact's live conversation: its "open slot", `_id` = naturalId('open-conversation', tenant,
 * contact), names the conversation that takes the contact's messages. The slot is claimed by
 * insert with a fresh conversation id, so concurrent webhooks from the same customer agree on one
 * conversation; the conversation itself is created by its actor with the first message.
 */
import { naturalId, newId } from '../ids.js';
import { claimSlot, slotConversationId } from '../models/conversation.js';

/** The `_id` of a contact's open-conversation slot. */
export const slotId = (tenantId: string, contactId: string) => naturalId('open-conversation', tenantId, contactId);

/**
 * The id of the contact's live conversation, claiming a new one if the contact has none
 * (`claimed`); for a contact created just now (`newContact`) the claim is tried first, without a
 * read.
 */
export async function liveConversationId(tenantId: string, contactId: string, newContact = false): Promise<{ id: string; claimed: boolean }> {
  const id = slotId(tenantId, contactId);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 && newContact ? null : await slotConversationId(id);
    if (current) return { id: current, claimed: false };
    const conversationId = newId();
    if (await claimSlot({ _id: id, tenant_id: tenantId, conversation_id: conversationId })) return { id: conversationId, claimed: true };
    // Another webhook of the same customer claimed it first: take theirs (unless it closed at once).
  }
  throw new Error(`the conversation slot of contact ${contactId} keeps changing`);
}
