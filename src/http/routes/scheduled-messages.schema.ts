/** Schemas of the Scheduled Messages group. */
import { z } from 'zod';
import { ScheduledMessageBody } from '../../presenters/scheduled-message.js';
import { SCHEDULED_STATUSES } from '../../models/scheduled-message.js';
import { PageQuery, pageOf } from '../schemas/common.js';
import { SendMessageBody } from './messages.schema.js';

/** POST /api/conversations/{id}/scheduled-messages */
export const ScheduleMessageBody = z.strictObject({
  send_at: z
    .string()
    .min(10)
    .max(40)
    .describe(
      'When to send: ISO 8601 with an offset (2025-01-31T09:00:00+07:00, 2025-01-31T02:00:00Z), or a local date-time without one (2025-01-31T09:00) read in the organization’s time zone. Must be in the future and at most 365 days ahead.',
    ),
  message: SendMessageBody.describe(
    'Exactly the body POST /api/conversations/{id}/messages takes (text, media, template, interactive or reaction, with its idempotency_key: a retry with the same key answers the first schedule)',
  ),
});

/** GET /api/conversations/{id}/scheduled-messages */
export const ListScheduledMessagesQuery = PageQuery.extend({
  status: z.enum(SCHEDULED_STATUSES).optional().describe('Only scheduled messages in this status'),
});

/** A page of scheduled messages, in send_at order. */
export const ScheduledMessagePage = pageOf(ScheduledMessageBody);
