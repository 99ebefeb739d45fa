/** The transfer-history resource and the conversation.transferred payload. */
import { z } from 'zod';
import type { Contact } from '../models/contact.js';
import type { Conversation } from '../models/conversation.js';
import type { Transfer } from '../models/transfer.js';
import { ConversationBody, presentConversation } from './conversation.js';
import { ConversationViewBody, presentConversationView } from './conversation-view.js';
import { iso } from './page.js';

/** The transfer JSON shape. */
export const TransferBody = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  from_agent_id: z.uuid().nullable(),
  from_division_id: z.uuid().nullable(),
  to_agent_id: z.uuid().nullable(),
  to_division_id: z.uuid().nullable(),
  reason: z.string(),
  transferred_by: z.uuid(),
  created_at: z.iso.datetime(),
});

/** Shapes a transfer record. */
export function presentTransfer(t: Transfer): z.infer<typeof TransferBody> {
  return {
    id: t._id,
    conversation_id: t.conversation_id,
    from_agent_id: t.from_agent_id,
    from_division_id: t.from_division_id,
    to_agent_id: t.to_agent_id,
    to_division_id: t.to_division_id,
    reason: t.reason,
    transferred_by: t.transferred_by,
    created_at: iso(t.created_at) as string,
  };
}

/**
 * The data of conversation.transferred: the conversation after the transfer with the record of
 * it (like conversation.assigned, the shared conversation shape plus what changed hands).
 */
export const TransferredConversationBody = ConversationBody.extend({ transfer: TransferBody });

/** Shapes the data of conversation.transferred. */
export function presentTransferredConversation(c: Conversation, t: Transfer): z.infer<typeof TransferredConversationBody> {
  return { ...presentConversation(c), transfer: presentTransfer(t) };
}

/** The answer of POST /transfer: the conversation as the Conversations API shows it, with the transfer. */
export const TransferredConversationViewBody = ConversationViewBody.extend({ transfer: TransferBody });

/** Shapes the answer of POST /transfer. */
export function presentTransferredConversationView(c: Conversation, contact: Contact | null, t: Transfer): z.infer<typeof TransferredConversationViewBody> {
  return { ...presentConversationView(c, contact), transfer: presentTransfer(t) };
}
