/**
 * Conversations and their "open slot". Only the conversation's actor writes a conversation
 * (ARCHITECTURE invariant 4). The slot, `_id` = naturalId('open-conversation', tenant, contact),
 * is claimed by insert when a conversation starts and released when it closes or expires, so a
 * customer never has two live conversations on a channel, even under concurrent webhooks.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import type { EventDraft } from '../events/types.js';
import { baseSchema, type TenantDoc } from './base.js';
import { findDocById, insertClaim } from './driver.js';
import { tenantRepo } from './repo.js';
import { writeVersioned } from './versioned.js';

/** Conversation statuses; closed and expired are final. */
export const CONVERSATION_STATUSES = ['open', 'pending', 'resolved', 'closed', 'expired'] as const;

/** A conversation status. */
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** A stored conversation. */
export interface Conversation extends TenantDoc {
  contact_id: string;
  channel: ChannelName;
  /** The integration account the customer wrote to (null for conversations started otherwise). */
  account_id: string | null;
  division_id: string | null;
  assignee_id: string | null;
  status: ConversationStatus;
  tags: string[];
  /** Per agent: when they last read it. */
  read_markers: Record<string, string>;
  message_count: number;
  unread_count: number;
  note_count: number;
  last_message_at: Date | null;
  last_inbound_at: Date | null;
  last_message_preview: string | null;
  closed_at: Date | null;
  /** Bumped on every write; the actor's second fence. */
  version: number;
  /** The events of the last change, written with it; appended to the log right after (actors/conversation/state.ts). */
  outbox: EventDraft[];
}

const schema = baseSchema<Conversation>(
  {
    tenant_id: { type: String, required: true },
    contact_id: { type: String, required: true },
    channel: { type: String, required: true },
    account_id: { type: String, default: null },
    division_id: { type: String, default: null },
    assignee_id: { type: String, default: null },
    status: { type: String, required: true, enum: CONVERSATION_STATUSES },
    tags: { type: [String], default: [] },
    read_markers: { type: Schema.Types.Mixed, default: {} },
    message_count: { type: Number, default: 0 },
    unread_count: { type: Number, default: 0 },
    note_count: { type: Number, default: 0 },
    last_message_at: { type: Date, default: null },
    last_inbound_at: { type: Date, default: null },
    last_message_preview: { type: String, default: null },
    closed_at: { type: Date, default: null },
    version: { type: Number, required: true },
    outbox: { type: [Schema.Types.Mixed], default: [] },
  },
  'conversations',
);
// The inbox, newest activity first: all, by status, by assignee (mine, unassigned, an agent's),
// by division; and a contact's conversations. Each list's equality filter leads its index and the
// sort follows, so a page is an index range; combined filters use the most selective one.
schema.index({ tenant_id: 1, last_message_at: -1, _id: -1 });
schema.index({ tenant_id: 1, status: 1, last_message_at: -1, _id: -1 });
schema.index({ tenant_id: 1, assignee_id: 1, last_message_at: -1, _id: -1 });
schema.index({ tenant_id: 1, division_id: 1, last_message_at: -1, _id: -1 });
schema.index({ tenant_id: 1, contact_id: 1, created_at: -1 });
// Serves the platform's usage count of a tenant's conversations opened since a date.
schema.index({ tenant_id: 1, created_at: 1 });
// Serves the chat-expiration sweep: one channel's open and pending conversations, oldest first.
schema.index({ tenant_id: 1, channel: 1, status: 1, last_message_at: 1 });

/** The conversations collection. */
export const ConversationModel = model<Conversation>('Conversation', schema);

/** Tenant-scoped access to conversations. */
export const conversations = tenantRepo(ConversationModel, 'Conversation');

/** A conversation that crossed processes as JSON, with its dates made dates again. */
export function reviveConversation(c: Conversation): Conversation {
  const date = (d: Date | string | null) => (d === null ? null : new Date(d));
  return {
    ...c,
    last_message_at: date(c.last_message_at),
    last_inbound_at: date(c.last_inbound_at),
    closed_at: date(c.closed_at),
    created_at: new Date(c.created_at),
    updated_at: new Date(c.updated_at),
  };
}

/** The conversation with this id in any tenant: only its actor, addressed by id alone, reads it so. */
export const findConversationById = (id: string) => findDocById<Conversation>(ConversationModel as never, id);

/** Inserts a new conversation; false when one with this id exists. */
export const insertConversation = (doc: Conversation): Promise<boolean> => insertClaim(ConversationModel, doc);

/** Writes fields of a conversation only if it still has `version` (its actor's second fence). */
export const writeConversation = (id: string, version: number, set: Partial<Conversation>) =>
  writeVersioned(ConversationModel, 'conversation', id, version, { $set: set });

/** A contact's live conversation: `_id` = naturalId('open-conversation', tenant, contact). */
export interface ConversationSlot {
  _id: string;
  tenant_id: string;
  conversation_id: string;
}

const slotSchema = new Schema<ConversationSlot>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
  },
  { collection: 'conversation_slots', versionKey: false },
);

/** The conversation_slots collection. */
export const ConversationSlotModel = model<ConversationSlot>('ConversationSlot', slotSchema);

/** The conversation a slot names, or null when the contact has no live conversation. */
export async function slotConversationId(slotId: string): Promise<string | null> {
  const slot = await findDocById<ConversationSlot>(ConversationSlotModel as never, slotId);
  return slot?.conversation_id ?? null;
}

/** Claims a free slot for a conversation; false when it is taken. */
export const claimSlot = (slot: ConversationSlot): Promise<boolean> => insertClaim(ConversationSlotModel, slot);

/** Frees a slot only if it still names this conversation (while it was live, no other could claim it). */
export async function releaseSlot(slotId: string, conversationId: string): Promise<void> {
  await ConversationSlotModel.deleteOne({ _id: slotId, conversation_id: conversationId }).exec();
}
