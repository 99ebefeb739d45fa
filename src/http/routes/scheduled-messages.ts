/** Scheduled Messages: messages written now that go out at a later instant. */
import { presentPage } from '../../presenters/page.js';
import { presentScheduledMessage, ScheduledMessageBody } from '../../presenters/scheduled-message.js';
import { cancelScheduledMessage, listScheduledMessages, scheduleMessage } from '../../services/scheduled-messages.js';
import type { RouteGroup } from '../mount.js';
import { HttpResult } from '../result.js';
import { route } from '../route.js';
import { IdParams } from '../schemas/common.js';
import { contentOf } from './messages.js';
import { ListScheduledMessagesQuery, ScheduledMessagePage, ScheduleMessageBody } from './scheduled-messages.schema.js';

const NOT_VISIBLE = 'A conversation of another organization, or one the caller may not see, is a 404.';

const EVENTS_NOTE =
  'Realtime: when it is sent, fails or is cancelled, `scheduled_message.sent`, `scheduled_message.failed` (with `failure_reason`) or ' +
  '`scheduled_message.cancelled` goes once, with the scheduled message as this API shows it, to the Socket.IO clients who may see the conversation.';

/** The Scheduled Messages group. */
export const scheduledMessageRoutes: RouteGroup = {
  group: 'Scheduled Messages',
  routes: [
    route({
      method: 'post',
      path: '/api/conversations/{id}/scheduled-messages',
      summary: 'Schedule a message for future delivery',
      description:
        '`message` is exactly the body of POST /api/conversations/{id}/messages; `send_at` an instant with an offset, or a local date-time in the organization’s time zone (stored UTC; the answer gives both `send_at` and `send_at_local`). ' +
        'A past instant, one more than 365 days ahead, or a local time that a daylight-saving change skips is a 400. A closed or expired conversation, or a kind of message its channel cannot carry, is a 422 now. ' +
        'At `send_at` (within a few seconds) it goes out as a normal outbound message of the caller through the conversation, with the channel’s rules at that moment: outside WhatsApp’s 24-hour window only a template goes, so a free-form message due then ends `failed` with the reason in `failure_reason` instead of being sent. ' +
        'It is sent at most once: its id is the send’s idempotency key. A retry with the same idempotency_key answers 200 with the first schedule (header Idempotent-Replayed: true); the key used in another conversation is a 409. ' +
        `${NOT_VISIBLE} ${EVENTS_NOTE}`,
      access: 'messages.send',
      params: IdParams,
      body: ScheduleMessageBody,
      response: ScheduledMessageBody,
      status: 201,
      alsoSucceeds: { 200: 'A replay: the message first scheduled with this idempotency_key (header Idempotent-Replayed: true)' },
      errors: { 409: 'The idempotency_key was used to schedule a message in another conversation', 422: 'A closed or expired conversation, or a kind of message its channel cannot carry; or a WhatsApp template that is stored (GET /api/wa-templates) but not approved, or whose components do not fit it (the message names the problem)' },
      audit: { action: 'scheduled_message.created', resource: 'scheduled_message', target: ({ result }) => result.id },
      handler: async ({ params, body, principal, ctx }) => {
        const m = body.message;
        const { view, replayed } = await scheduleMessage({
          tenantId: principal.tenantId,
          principal,
          conversationId: params.id,
          content: contentOf(m),
          replyToMessageId: m.type === 'reaction' ? undefined : m.reply_to_message_id,
          idempotencyKey: m.idempotency_key,
          sendAt: body.send_at,
        });
        if (!replayed) return presentScheduledMessage(view);
        ctx.set('Idempotent-Replayed', 'true');
        return new HttpResult(200, presentScheduledMessage(view));
      },
    }),
    route({
      method: 'get',
      path: '/api/conversations/{id}/scheduled-messages',
      summary: 'List scheduled messages for a conversation',
      description: `Every scheduled message of the conversation in \`send_at\` order, optionally of one \`status\` (scheduled, sending, sent, failed, cancelled), with the reason of a failure and the id of the sent message. ${NOT_VISIBLE}`,
      access: 'conversations.view',
      params: IdParams,
      query: ListScheduledMessagesQuery,
      response: ScheduledMessagePage,
      handler: async ({ params, query, principal }) => {
        const { page, timeZone } = await listScheduledMessages({ tenantId: principal.tenantId, principal, conversationId: params.id, status: query.status, page: query.page, limit: query.limit });
        return presentPage(page, (scheduled) => presentScheduledMessage({ scheduled, timeZone }));
      },
    }),
    route({
      method: 'delete',
      path: '/api/scheduled-messages/{id}',
      summary: 'Cancel a scheduled message',
      description:
        'Cancels a message still waiting for its time and answers it with status `cancelled` (kept in the list). One that is being sent, sent, failed or already cancelled is a 422 naming its status, and nothing changes. A scheduled message of another organization, or in a conversation the caller may not see, is a 404. ' +
        EVENTS_NOTE,
      access: 'messages.send',
      params: IdParams,
      response: ScheduledMessageBody,
      errors: { 422: 'It is no longer waiting: being sent, sent, failed or already cancelled' },
      audit: { action: 'scheduled_message.cancelled', resource: 'scheduled_message' },
      handler: async ({ params, principal }) => presentScheduledMessage(await cancelScheduledMessage({ tenantId: principal.tenantId, principal, id: params.id })),
    }),
  ],
};
