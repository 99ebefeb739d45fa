/** Messages: a conversation's thread, sending, and search across conversations. */
import type { OutgoingContent } from '../../services/outbound.js';
import { listMessages, searchMessages, sendMessage } from '../../services/messages.js';
import { MessageBody } from '../../presenters/conversation.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { ListMessagesQuery, MessagePageBody, SearchMessagesBody, SearchMessagesQuery, SendMessageBody, type SendMessageInput } from './messages.schema.js';

/** The send body's content in the service's terms. */
export function contentOf(body: SendMessageInput): OutgoingContent {
  switch (body.type) {
    case 'text':
      return { type: 'text', text: body.text };
    case 'media': {
      const { type, url, media_id, caption, filename } = body.media;
      return { type: 'media', media: { type, url, mediaId: media_id, caption, filename } };
    }
    case 'template':
      return { type: 'template', template: body.template };
    case 'interactive':
      return { type: 'interactive', interactive: body.interactive };
    case 'reaction':
      return { type: 'reaction', reaction: { messageId: body.reaction.message_id, emoji: body.reaction.emoji } };
  }
}

/** The Messages group. */
export const messageRoutes: RouteGroup = {
  group: 'Messages',
  routes: [
    route({
      method: 'get',
      path: '/api/conversations/{id}/messages',
      summary: 'List messages in a conversation',
      description:
        'Conversation order is the provider time (`sent_at`), ties by id. Without a cursor, page 1 holds the newest `limit` messages (default 50, at most 100) and page 2 the ones before them; `before=<message id>` answers the messages just older than that message (scroll back) and `after=<message id>` the ones just newer (catch up after a reconnect). Within every page messages are oldest first, ready to render; `has_older`/`has_newer` say whether to keep paging. A conversation the caller may not see is a 404.',
      access: 'conversations.view',
      params: IdParams,
      query: ListMessagesQuery,
      response: MessagePageBody,
      handler: ({ params, query, principal }) =>
        listMessages({ tenantId: principal.tenantId, principal, conversationId: params.id, page: query.page, limit: query.limit, before: query.before, after: query.after }),
    }),
    route({
      method: 'post',
      path: '/api/conversations/{id}/messages',
      summary: 'Send an outbound message',
      description:
        'Sends text, media (by link or provider media id), a WhatsApp template, a WhatsApp interactive message or a reaction through the conversation’s channel account. `idempotency_key` is required: the first request answers 201; a retry with the same key (even concurrent) answers 200 with the same message and the header `Idempotent-Replayed: true`, and nothing is sent twice. A provider refusal still answers 201 with the message in status `failed` and the provider’s error in `errors` (it stays in the thread; send again with a new key); delivery statuses then arrive as `message.updated` events. 422 when the conversation is closed or expired, outside the channel’s 24-hour messaging window (WhatsApp: only templates go then), for content the channel cannot carry, or when its account is disconnected or disabled; 409 when the key was used in another conversation.',
      access: 'messages.send',
      params: IdParams,
      body: SendMessageBody,
      response: MessageBody,
      errors: { 409: 'The idempotency_key was used for a message in another conversation', 422: 'The channel cannot carry it now: outside the messaging window, a closed conversation, a type the channel does not support, or a disconnected or disabled account' },
      status: 201,
      alsoSucceeds: { 200: 'A replay: the message first sent with this idempotency_key (header Idempotent-Replayed: true), sent once' },
      audit: { action: 'message.sent', resource: 'message', target: ({ result }) => result.id },
      handler: async ({ params, body, principal, ctx }) => {
        const { message, replayed } = await sendMessage({
          tenantId: principal.tenantId,
          principal,
          conversationId: params.id,
          content: contentOf(body),
          idempotencyKey: body.idempotency_key,
          replyToMessageId: body.type === 'reaction' ? undefined : body.reply_to_message_id,
        });
        if (!replayed) return message;
        ctx.set('Idempotent-Replayed', 'true');
        return new HttpResult(200, message);
      },
    }),
    route({
      method: 'get',
      path: '/api/messages/search',
      summary: 'Search messages across conversations',
      description:
        'Case-insensitive search for `q` (2-100 characters, taken literally) in message texts, newest first, in the conversations the caller may see. Filters: `channel`, `from`/`to` (sent_at, RFC 3339), `agent_id` (messages that agent sent), `contact_id`, `conversation_id`. Each hit carries its `conversation_id`.',
      access: 'conversations.view',
      query: SearchMessagesQuery,
      response: SearchMessagesBody,
      handler: ({ query, principal }) =>
        searchMessages({
          tenantId: principal.tenantId,
          principal,
          q: query.q,
          channel: query.channel,
          from: query.from,
          to: query.to,
          agentId: query.agent_id,
          contactId: query.contact_id,
          conversationId: query.conversation_id,
          page: query.page,
          limit: query.limit,
        }),
    }),
  ],
};
