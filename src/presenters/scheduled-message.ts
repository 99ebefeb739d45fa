/** Scheduled messages as the API shows them: the instant in UTC and in the tenant's time zone. */
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { ScheduledMessage } from '../models/scheduled-message.js';
import { SCHEDULED_STATUSES } from '../models/scheduled-message.js';
import type { OutgoingContent } from '../services/outbound.js';
import type { ScheduledView } from '../services/scheduled-messages.js';
import { iso } from './page.js';

/** The scheduled message JSON shape. */
export const ScheduledMessageBody = z.object({
  id: z.uuid().describe('Also the idempotency key of the send when it fires: it is sent at most once'),
  conversation_id: z.uuid(),
  status: z.enum(SCHEDULED_STATUSES).describe('scheduled (waiting) → sending → sent or failed; cancelled while waiting'),
  send_at: z.iso.datetime().describe('The due instant, UTC'),
  send_at_local: z.string().describe('The same instant in the organization’s time zone, ISO 8601 with its offset'),
  time_zone: z.string().describe('The organization’s IANA time zone send_at_local is rendered in'),
  message: z.record(z.string(), z.unknown()).describe('What will be sent: the body of POST /api/conversations/{id}/messages, without idempotency_key'),
  idempotency_key: z.string(),
  message_id: z.uuid().nullable().describe('The outbound message, once it was stored at the due time'),
  failure_reason: z.object({ code: z.string(), message: z.string() }).nullable().describe('Why it failed (outside the messaging window, the provider’s error...)'),
  attempts: z.number().int().describe('Claims that tried to send it'),
  created_by: z.uuid(),
  finished_at: z.iso.datetime().nullable().describe('When it was sent or failed'),
  cancelled_at: z.iso.datetime().nullable(),
  cancelled_by: z.uuid().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** A stored content back in the API's snake_case shape (the inverse of the messages route's contentOf). */
function presentContent(c: OutgoingContent, replyTo: string | null): Record<string, unknown> {
  const reply = replyTo ? { reply_to_message_id: replyTo } : {};
  switch (c.type) {
    case 'text':
      return { type: 'text', text: c.text, ...reply };
    case 'media': {
      const { type, url, mediaId, caption, filename } = c.media;
      return { type: 'media', media: { type, ...(url ? { url } : {}), ...(mediaId ? { media_id: mediaId } : {}), ...(caption ? { caption } : {}), ...(filename ? { filename } : {}) }, ...reply };
    }
    case 'template':
      return { type: 'template', template: c.template, ...reply };
    case 'interactive':
      return { type: 'interactive', interactive: c.interactive, ...reply };
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: c.reaction.messageId, emoji: c.reaction.emoji } };
  }
}

/** Shapes a scheduled message, rendering send_at in the tenant's current time zone. */
export function presentScheduledMessage(v: ScheduledView): z.infer<typeof ScheduledMessageBody> {
  const s: ScheduledMessage = v.scheduled;
  return {
    id: s._id,
    conversation_id: s.conversation_id,
    status: s.status,
    send_at: iso(s.send_at) as string,
    send_at_local: DateTime.fromJSDate(new Date(s.send_at), { zone: v.timeZone }).toISO() as string,
    time_zone: v.timeZone,
    message: presentContent(s.content, s.reply_to_message_id),
    idempotency_key: s.idempotency_key,
    message_id: s.message_id,
    failure_reason: s.failure ? { code: s.failure.code, message: s.failure.message } : null,
    attempts: s.attempts,
    created_by: s.created_by,
    finished_at: iso(s.finished_at),
    cancelled_at: iso(s.cancelled_at),
    cancelled_by: s.cancelled_by,
    created_at: iso(s.created_at) as string,
    updated_at: iso(s.updated_at) as string,
  };
}
