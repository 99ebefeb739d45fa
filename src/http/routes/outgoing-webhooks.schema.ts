/** Schemas of the Outgoing Webhooks group. */
import { z } from 'zod';
import { EVENTS } from '../../events/types.js';
import { ALL_EVENTS } from '../../models/outgoing-webhook.js';
import { EventTypeBody, OutgoingWebhookBody, OutgoingWebhookDeliveryBody } from '../../presenters/outgoing-webhook.js';
import { MAX_OUTGOING_WEBHOOKS } from '../../services/outgoing-webhooks.js';
import { PageQuery, pageOf } from '../schemas/common.js';

const EventName = z.enum([ALL_EVENTS, ...Object.values(EVENTS)], { message: `must be an event type (GET /api/outgoing-webhooks/event-types) or "${ALL_EVENTS}"` });

const Url = z
  .string()
  .trim()
  .max(2048)
  .refine((v) => URL.canParse(v), 'must be an absolute http:// or https:// URL')
  .refine((v) => !URL.canParse(v) || ['http:', 'https:'].includes(new URL(v).protocol), 'must be an http:// or https:// URL')
  .refine((v) => !URL.canParse(v) || (!new URL(v).username && !new URL(v).password), 'must not carry a user name or password (the signature authenticates us)')
  .describe('Where deliveries are POSTed. Its host must be public (it may not be or resolve to a loopback, private or link-local address unless OUTBOUND_ALLOWED_NETWORKS allows it: 422), checked again at every connection; redirects are not followed');

const fields = {
  name: z.string().trim().min(1).max(100).regex(/^[^\p{C}]+$/u, 'must not contain control characters'),
  description: z.string().trim().max(500),
  url: Url,
  events: z
    .array(EventName)
    .min(1)
    .max(50)
    .transform((list) => (list.includes(ALL_EVENTS) ? [ALL_EVENTS] : [...new Set(list)]))
    .describe(`Event types to receive; ["${ALL_EVENTS}"] for every type, including types added later`),
  is_active: z.boolean(),
};

/** POST /api/outgoing-webhooks */
export const CreateOutgoingWebhookBody = z
  .strictObject({
    name: fields.name,
    description: fields.description.default(''),
    url: fields.url,
    events: fields.events,
    is_active: fields.is_active.default(true),
  })
  .describe(`At most ${MAX_OUTGOING_WEBHOOKS} webhooks per organization`);

/** PATCH /api/outgoing-webhooks/{id} */
export const UpdateOutgoingWebhookBody = z
  .strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    url: fields.url.optional(),
    events: fields.events.optional(),
    is_active: fields.is_active.optional().describe('true on a disabled webhook enables it again: clears disabled_reason and consecutive_failures and sends its pending deliveries in order'),
    rotate_secret: z.boolean().optional().describe('true: a new signing secret, answered once in `secret`; the old one stops signing at once'),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');

/** GET /api/outgoing-webhooks */
export const ListOutgoingWebhooksQuery = PageQuery;

/** GET /api/outgoing-webhooks/{id}/deliveries */
export const ListDeliveriesQuery = PageQuery.extend({
  status: z.enum(['pending', 'delivered', 'failed']).optional().describe('Only deliveries in this state'),
});

/** A page of webhooks. */
export const OutgoingWebhookPage = pageOf(OutgoingWebhookBody);

/** A page of deliveries. */
export const DeliveryPage = pageOf(OutgoingWebhookDeliveryBody);

/** Every event type. */
export const EventTypeList = z.object({ data: z.array(EventTypeBody) });
