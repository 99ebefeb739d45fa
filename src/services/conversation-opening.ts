/**
 * Finds a contact's live conversation or starts one. The open slot is claimed by `_id`, so
 * concurrent webhooks from the same customer never start two conversations.
 */
import type { ChannelName } from '../../channels/types.js';
import { isDuplicateKey } from '../errors.js';
import { emitEvent } from '../events/publish.js';
import { EVENTS } from '../events/types.js';
import { naturalId, newId } from '../ids.js';
import type { Contact } from '../models/contact.js';
import { ConversationModel, ConversationSlotModel, type Conversation, type ConversationSlot } from '../models/conversation.js';
import { presentConversation } from '../presenters/conversation.js';
import { audienceOf } from '../../actors/conversation/inbound.js';

/** The `_id` of a contact's open-conversation slot. */
export const slotId = (tenantId: string, contactId: string) => naturalId('open-conversation', tenantId, contactId);

/** Where a new conversation starts. */
export interface OpenConversation {
  tenantId: string;
  contact: Contact;
  channel: ChannelName;
  accountId: string | null;
  divisionId: string | null;
}

/** The contact's live conversation, and whether this call started it. */
export interface OpenedConversation {
  id: string;
  created: boolean;
}

/** The contact's live conversation, starting one (and announcing it) if needed. */
export async function openConversation(cmd: OpenConversation): Promise<OpenedConversation> {
  const id = slotId(cmd.tenantId, cmd.contact._id);
  let slot = await ConversationSlotModel.findById(id).lean<ConversationSlot>().exec();
  if (!slot) {
    try {
      slot = (await ConversationSlotModel.create({ _id: id, tenant_id: cmd.tenantId, conversation_id: newId() })).toObject();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      slot = await ConversationSlotModel.findById(id).lean<ConversationSlot>().exec();
    }
  }
  if (!slot) throw new Error('conversation slot vanished while opening');
  // Whoever inserts the conversation announces it; a slot left by a crash before this insert
  // is completed by the next message.
  try {
    const now = new Date();
    const doc: Conversation = {
      _id: slot.conversation_id,
      tenant_id: cmd.tenantId,
      contact_id: cmd.contact._id,
      channel: cmd.channel,
      account_id: cmd.accountId,
      division_id: cmd.divisionId,
      assignee_id: null,
      status: 'open',
      tags: [],
      read_markers: {},
      message_count: 0,
      unread_count: 0,
      note_count: 0,
      last_message_at: null,
      last_inbound_at: null,
      last_message_preview: null,
      closed_at: null,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await ConversationModel.create(doc);
    await emitEvent(cmd.tenantId, EVENTS.conversationCreated, presentConversation(doc), audienceOf(doc));
    return { id: doc._id, created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  return { id: slot.conversation_id, created: false };
}
