/**
 * The conversation as the Conversations API answers it (the shared conversation shape plus a
 * summary of its contact), and the data of conversation.assigned and conversation.takeover
 * (the shared shape plus who held it before and who made the change).
 */
import { z } from 'zod';
import type { Contact } from '../models/contact.js';
import type { Conversation } from '../models/conversation.js';
import { ConversationBody, presentConversation } from './conversation.js';

/** Who the customer is, enough to show an inbox row. */
export const ConversationContactBody = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  channel: z.string(),
});

/** Shapes a contact summary. */
export function presentConversationContact(c: Contact): z.infer<typeof ConversationContactBody> {
  return { id: c._id, name: c.name, phone: c.phone, email: c.email, channel: c.channel };
}

/** A conversation with its contact (null only if the contact was deleted). */
export const ConversationViewBody = ConversationBody.extend({ contact: ConversationContactBody.nullable() });

/** Shapes a conversation with its contact. */
export function presentConversationView(c: Conversation, contact: Contact | null): z.infer<typeof ConversationViewBody> {
  return { ...presentConversation(c), contact: contact ? presentConversationContact(contact) : null };
}

/** The data of conversation.assigned. */
export const AssignedConversationBody = ConversationBody.extend({
  previous_assignee_id: z.uuid().nullable(),
  /** The agent who assigned it; null when auto-assignment did. */
  assigned_by: z.uuid().nullable(),
});

/** Shapes the data of conversation.assigned. */
export function presentAssignedConversation(c: Conversation, previousAssigneeId: string | null, assignedBy: string | null): z.infer<typeof AssignedConversationBody> {
  return { ...presentConversation(c), previous_assignee_id: previousAssigneeId, assigned_by: assignedBy };
}

/** The data of conversation.takeover. */
export const TakenOverConversationBody = ConversationBody.extend({
  previous_assignee_id: z.uuid().nullable(),
  taken_over_by: z.uuid(),
  reason: z.string().nullable(),
});

/** Shapes the data of conversation.takeover. */
export function presentTakenOverConversation(c: Conversation, previousAssigneeId: string | null, by: string, reason: string | null): z.infer<typeof TakenOverConversationBody> {
  return { ...presentConversation(c), previous_assignee_id: previousAssigneeId, taken_over_by: by, reason };
}
