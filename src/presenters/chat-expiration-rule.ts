/** Chat expiration rules as the API shows them. */
import { z } from 'zod';
import { CHANNELS } from '../models/integration.js';
import type { ChatExpirationRule } from '../models/chat-expiration-rule.js';
import { iso } from './page.js';

/** The chat expiration rule JSON shape. */
export const ChatExpirationRuleBody = z.object({
  id: z.uuid(),
  channel: z.enum(CHANNELS),
  enabled: z.boolean(),
  expire_after_hours: z.number().int().describe('Expire open and pending conversations after this many hours without a message from the customer'),
  closing_message: z.string().nullable().describe('Sent to the customer just before expiring, when the channel’s messaging window allows'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a rule. */
export function presentChatExpirationRule(r: ChatExpirationRule): z.infer<typeof ChatExpirationRuleBody> {
  return {
    id: r._id,
    channel: r.channel,
    enabled: r.enabled,
    expire_after_hours: r.expire_after_hours,
    closing_message: r.closing_message,
    created_at: iso(r.created_at) as string,
    updated_at: iso(r.updated_at) as string,
  };
}
