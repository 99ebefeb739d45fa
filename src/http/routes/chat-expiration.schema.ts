/** Schemas of the Chat Expiration group. */
import { z } from 'zod';
import { ChatExpirationRuleBody } from '../../presenters/chat-expiration-rule.js';

export { ChannelParams } from './integrations.schema.js';

/** PUT /api/chat-expiration-rules/{channel}: the whole rule. */
export const UpsertChatExpirationRuleBody = z.strictObject({
  enabled: z.boolean().describe('Whether the sweeper applies this rule'),
  expire_after_hours: z.number().int().min(1).max(720).describe('Hours without a message from the customer before the conversation expires (1-720)'),
  closing_message: z
    .string()
    .trim()
    .min(1, 'must not be empty; use null for none')
    .max(1000)
    .nullable()
    .default(null)
    .describe('Text sent to the customer just before expiring; null or absent for none. On WhatsApp, Messenger and Instagram it requires expire_after_hours under 24 (the messaging window)'),
});

/** GET /api/chat-expiration-rules */
export const ChatExpirationRuleList = z.array(ChatExpirationRuleBody);
