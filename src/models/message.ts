/**
 * Messages. An inbound message's `_id` is naturalId('message', tenant, channel, provider id), so
 * a webhook retried by Meta is stored once; an agent's send with an idempotency key gets
 * naturalId('outbound', tenant, key), so a retried request returns the first message. Every
 * provider id (inbound or returned by a send) is claimed in `message_refs`, which is how
 * delivery statuses and reactions find their message by `_id`.
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, findDocById, insertClaim } from './driver.js';
import { tenantRepo } from './repo.js';
import { withSearchText, type Searchable } from './search-text.js';

/** Delivery states in the order they may advance; `failed` is final. */
export const DELIVERY_ORDER = ['pending', 'sent', 'delivered', 'read'] as const;

/** A message's delivery state. */
export type DeliveryStatus = (typeof DELIVERY_ORDER)[number] | 'failed' | 'received';

/** A stored message. */
export interface Message extends TenantDoc, Searchable {
  conversation_id: string;
  contact_id: string;
  channel: ChannelName;
  direction: 'inbound' | 'outbound';
  sender_type: 'contact' | 'agent' | 'ai' | 'system' | 'external';
  sender_id: string | null;
  external_id: string | null;
  idempotency_key: string | null;
  type: string;
  text: string | null;
  /** Channel-specific content (media, location, choice, reaction, e-mail headers...). */
  content: Record<string, unknown>;
  status: DeliveryStatus;
  delivery_errors: unknown[];
  reply_to_external_id: string | null;
  /** The provider's time (inbound) or our send time (outbound): the conversation's order. */
  sent_at: Date;
  /**
   * Outbound: when a process began handing the message to the provider. Set once, before the
   * call, so a message left pending by a crash tells whether the provider may have it.
   */
  send_attempted_at?: Date | null;
}

const schema = baseSchema<Message>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    contact_id: { type: String, required: true },
    channel: { type: String, required: true },
    direction: { type: String, required: true },
    sender_type: { type: String, required: true },
    sender_id: { type: String, default: null },
    external_id: { type: String, default: null },
    idempotency_key: { type: String, default: null },
    type: { type: String, required: true },
    text: { type: String, default: null },
    content: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, required: true },
    delivery_errors: { type: [Schema.Types.Mixed], default: [] },
    reply_to_external_id: { type: String, default: null },
    sent_at: { type: Date, required: true },
    send_attempted_at: { type: Date, default: null },
    search_text: { type: String },
  },
  'messages',
);
// Serves a conversation's messages in order (provider time, then id for ties).
schema.index({ tenant_id: 1, conversation_id: 1, sent_at: 1, _id: 1 });
// Serves search across conversations.
schema.index({ tenant_id: 1, sent_at: -1 });
// Serves the sweeper of sends left pending by a crash (few: a message is pending for a moment).
schema.index({ status: 1, created_at: 1 });

/** The messages collection. */
export const MessageModel = model<Message>('Message', schema);

/** The fields message search looks in (in `search_text`): only the text. */
export const MESSAGE_SEARCHED = ['text'] as const satisfies readonly (keyof Message)[];

/** Tenant-scoped access to messages; `search_text` is the folded text (set on insert: a text never changes). */
export const messages = withSearchText(tenantRepo(MessageModel, 'Message'), MessageModel, MESSAGE_SEARCHED);

/** A message that crossed processes as JSON, with its dates made dates again. */
export const reviveMessage = (m: Message): Message => ({ ...m, sent_at: new Date(m.sent_at), created_at: new Date(m.created_at), updated_at: new Date(m.updated_at) });

/** The message with this id in any tenant (its conversation's actor checks the owner). */
export const findMessageById = (id: string) => findDocById<Message>(MessageModel as never, id);

/**
 * Sets fields of a message only if its delivery status is still `from` (the status the actor
 * read), so an advance is judged and written on the same state; false when it moved.
 */
export async function setMessageFields(id: string, from: DeliveryStatus, set: Partial<Message>): Promise<boolean> {
  const res = await collectionOf(MessageModel).updateOne({ _id: id, status: from }, { $set: { updated_at: new Date(), ...set } });
  return res.matchedCount === 1;
}

/** Up to `limit` outbound messages still pending since before `cutoff`, oldest first (any tenant). */
export const stuckSends = (cutoff: Date, limit: number) =>
  MessageModel.find({ status: 'pending', created_at: { $lte: cutoff } }).sort({ created_at: 1 }).limit(limit).lean<Message[]>().exec();

/** A conversation's outbound messages in one of `statuses`, sent up to `until`, oldest first (Messenger's watermark receipts). */
export const outboundSentUntil = (tenantId: string, conversationId: string, until: Date, statuses: readonly DeliveryStatus[]) =>
  MessageModel.find({ tenant_id: tenantId, conversation_id: conversationId, sent_at: { $lte: until }, direction: 'outbound', status: { $in: statuses } })
    .sort({ sent_at: 1, _id: 1 })
    .lean<Message[]>()
    .exec();

/** A provider message id -> our message: `_id` = naturalId('message-ref', tenant, channel, provider id). */
export interface MessageRef {
  _id: string;
  tenant_id: string;
  message_id: string;
  conversation_id: string;
}

const refSchema = new Schema<MessageRef>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    message_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
  },
  { collection: 'message_refs', versionKey: false },
);

/** The message_refs collection. */
export const MessageRefModel = model<MessageRef>('MessageRef', refSchema);

/** The `_id` of the ref of a provider message id. */
export const messageRefId = (tenantId: string, channel: ChannelName, externalId: string) => naturalId('message-ref', tenantId, channel, externalId);

/** Claims a provider message id for our message; a second claim is a no-op. */
export async function claimMessageRef(ref: MessageRef): Promise<void> {
  await insertClaim(MessageRefModel, ref);
}

/** Our message behind a provider message id, or null. */
export const findMessageRef = (tenantId: string, channel: ChannelName, externalId: string) =>
  findDocById<MessageRef>(MessageRefModel as never, messageRefId(tenantId, channel, externalId));
