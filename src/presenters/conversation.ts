/** Conversation and message resources, shared by HTTP, Socket.IO and outgoing webhooks. */
import { z } from 'zod';
import type { Conversation } from '../models/conversation.js';
import type { Message } from '../models/message.js';
import { iso } from './page.js';

/** The conversation JSON shape. */
export const ConversationBody = z.object({
  id: z.uuid(),
  contact_id: z.uuid(),
  channel: z.string(),
  account_id: z.uuid().nullable(),
  division_id: z.uuid().nullable(),
  assignee_id: z.uuid().nullable(),
  status: z.string(),
  tags: z.array(z.string()),
  /** Agent id -> when that agent last marked the conversation read. */
  read_markers: z.record(z.string(), z.iso.datetime()),
  message_count: z.number().int(),
  unread_count: z.number().int(),
  note_count: z.number().int(),
  last_message_at: z.iso.datetime().nullable(),
  last_inbound_at: z.iso.datetime().nullable(),
  last_message_preview: z.string().nullable(),
  closed_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a conversation. */
export function presentConversation(c: Conversation): z.infer<typeof ConversationBody> {
  return {
    id: c._id,
    contact_id: c.contact_id,
    channel: c.channel,
    account_id: c.account_id,
    division_id: c.division_id,
    assignee_id: c.assignee_id,
    status: c.status,
    tags: c.tags,
    read_markers: { ...c.read_markers },
    message_count: c.message_count,
    unread_count: c.unread_count,
    note_count: c.note_count,
    last_message_at: iso(c.last_message_at),
    last_inbound_at: iso(c.last_inbound_at),
    last_message_preview: c.last_message_preview,
    closed_at: iso(c.closed_at),
    created_at: iso(c.created_at) as string,
    updated_at: iso(c.updated_at) as string,
  };
}

/** The message JSON shape. */
export const MessageBody = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  contact_id: z.uuid(),
  channel: z.string(),
  direction: z.enum(['inbound', 'outbound']),
  sender_type: z.string(),
  sender_id: z.string().nullable(),
  external_id: z.string().nullable(),
  type: z.string(),
  text: z.string().nullable(),
  content: z.record(z.string(), z.unknown()),
  status: z.string(),
  errors: z.array(z.unknown()),
  reply_to_external_id: z.string().nullable(),
  sent_at: z.iso.datetime(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a message. */
export function presentMessage(m: Message): z.infer<typeof MessageBody> {
  return {
    id: m._id,
    conversation_id: m.conversation_id,
    contact_id: m.contact_id,
    channel: m.channel,
    direction: m.direction,
    sender_type: m.sender_type,
    sender_id: m.sender_id,
    external_id: m.external_id,
    type: m.type,
    text: m.text,
    content: m.content,
    status: m.status,
    errors: m.delivery_errors,
    reply_to_external_id: m.reply_to_external_id,
    sent_at: iso(m.sent_at) as string,
    created_at: iso(m.created_at) as string,
    updated_at: iso(m.updated_at) as string,
  };
}
