/**
 * Chat expiration rules: one per tenant and channel, `_id` = naturalId('chat-expiration-rule',
 * tenant, channel), so an upsert is one `_id` write and there is never a second rule for a channel.
 */
import { model } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { CHANNELS } from './integration.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** A stored rule. */
export interface ChatExpirationRule extends TenantDoc {
  channel: ChannelName;
  enabled: boolean;
  /** Expire after this many hours without a message from the customer. */
  expire_after_hours: number;
  /** Sent to the customer just before expiring (when the channel's window allows); null for none. */
  closing_message: string | null;
}

const schema = baseSchema<ChatExpirationRule>(
  {
    tenant_id: { type: String, required: true },
    channel: { type: String, required: true, enum: [...CHANNELS] },
    enabled: { type: Boolean, required: true },
    expire_after_hours: { type: Number, required: true },
    closing_message: { type: String, default: null },
  },
  'chat_expiration_rules',
);
// Serves the sweeper's query for the rules to apply (every tenant's enabled ones).
schema.index({ enabled: 1 });

/** The chat_expiration_rules collection. */
export const ChatExpirationRuleModel = model<ChatExpirationRule>('ChatExpirationRule', schema);

/** Tenant-scoped access to rules. */
export const chatExpirationRules = tenantRepo(ChatExpirationRuleModel, 'Chat expiration rule');

/** Every enabled rule of every tenant (few: at most one per tenant and channel). */
export const enabledExpirationRules = () => ChatExpirationRuleModel.find({ enabled: true }).sort({ tenant_id: 1, channel: 1 }).lean<ChatExpirationRule[]>().exec();

/** Writes a whole rule under its `_id` (insert or replace); true when it was created. */
export async function saveExpirationRule(rule: Omit<ChatExpirationRule, 'created_at' | 'updated_at'>, now: Date): Promise<boolean> {
  const res = await collectionOf(ChatExpirationRuleModel).updateOne(
    { _id: rule._id },
    { $set: { ...rule, updated_at: now }, $setOnInsert: { created_at: now } },
    { upsert: true },
  );
  return res.upsertedCount === 1;
}
