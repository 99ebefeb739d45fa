/** Chat Expiration: per-channel rules that expire conversations whose customer went quiet. */
import { ChatExpirationRuleBody, presentChatExpirationRule } from '../../presenters/chat-expiration-rule.js';
import { listExpirationRules, upsertExpirationRule } from '../../services/chat-expiration.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';
import { ChannelParams, ChatExpirationRuleList, UpsertChatExpirationRuleBody } from './chat-expiration.schema.js';

/** The Chat Expiration group. */
export const chatExpirationRoutes: RouteGroup = {
  group: 'Chat Expiration',
  routes: [
    route({
      method: 'get',
      path: '/api/chat-expiration-rules',
      summary: 'List chat expiration rules',
      description: 'The organization’s rules, one per configured channel, in channel order; a channel without a rule never expires by itself.',
      access: 'settings.manage',
      response: ChatExpirationRuleList,
      handler: async ({ principal }) => (await listExpirationRules({ tenantId: principal.tenantId })).map(presentChatExpirationRule),
    }),
    route({
      method: 'put',
      path: '/api/chat-expiration-rules/{channel}',
      summary: 'Upsert a chat expiration rule for a channel',
      description:
        'Creates (201) or replaces (200) the channel’s rule. While `enabled`, a sweeper (every CHAT_EXPIRATION_SWEEP_MS, default one minute) expires the channel’s open and pending conversations whose customer has not written for `expire_after_hours`, counted from the customer’s last message (from the last message or creation when the customer never wrote; our own messages do not keep a chat alive). ' +
        'Each expiry goes through the conversation, which re-checks that the customer is still silent; expired is final and frees the contact, so their next message starts a new conversation. ' +
        '`closing_message` is sent to the customer once, just before expiring, when the channel allows it; on WhatsApp, Messenger and Instagram that means within 24 hours of the customer’s last message, so a closing message with `expire_after_hours` of 24 or more is a 422. POST /api/conversations/expire applies the same closing messages.',
      access: 'settings.manage',
      params: ChannelParams,
      body: UpsertChatExpirationRuleBody,
      response: ChatExpirationRuleBody,
      alsoSucceeds: { 201: 'The rule was created' },
      errors: { 422: 'A closing message the channel’s 24-hour messaging window could never let through' },
      audit: { action: 'chat_expiration_rule.updated', resource: 'chat_expiration_rule', target: ({ result }) => result.id },
      handler: async ({ principal, params, body }) => {
        const { created, rule } = await upsertExpirationRule({
          tenantId: principal.tenantId,
          channel: params.channel,
          enabled: body.enabled,
          expireAfterHours: body.expire_after_hours,
          closingMessage: body.closing_message,
        });
        return new HttpResult(created ? 201 : 200, presentChatExpirationRule(rule));
      },
    }),
  ],
};
