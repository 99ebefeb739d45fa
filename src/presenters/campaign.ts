/** Campaigns, their recipients and recipient-add reports, as the API shows them. */
import { z } from 'zod';
import type { Campaign, CampaignRecipient } from '../models/campaign.js';
import type { AddReport } from '../services/campaign-recipients.js';
import { iso } from './page.js';

/** What a campaign sends (the same shape as the create body's `message`). */
export const CampaignMessageBody = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('template'),
    template: z.object({
      name: z.string().describe('The approved WhatsApp template’s name'),
      language: z.string().describe('Its language code, e.g. id or en_US'),
      body_parameters: z
        .array(z.string())
        .describe('The body’s {{1}}, {{2}}… in order, each filled per recipient: text with variables such as {{contact.name|Pelanggan}} (| gives a fallback), {{csv.order_id}}, {{contact.attributes.city}}, {{campaign.name}}'),
    }),
  }),
  z.object({ type: z.literal('text'), text: z.string() }),
]);

/** The campaign JSON shape. */
export const CampaignBody = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  channel: z.enum(['whatsapp', 'messenger', 'instagram', 'email', 'webchat']),
  account_id: z.uuid().describe('The sending integration account'),
  message: CampaignMessageBody,
  status: z.enum(['draft', 'scheduled', 'sending', 'completed', 'cancelled', 'failed']),
  send_at: z.iso.datetime().nullable().describe('When it starts (scheduled) or started, UTC'),
  started_at: z.iso.datetime().nullable(),
  completed_at: z.iso.datetime().nullable(),
  cancelled_at: z.iso.datetime().nullable(),
  failure_reason: z.string().nullable().describe('Why a failed campaign could not send (its account disconnected or disabled)'),
  counters: z
    .object({
      total: z.number().int().describe('Recipients'),
      sent: z.number().int().describe('Recipients the provider accepted'),
      delivered: z.number().int().describe('Recipients whose message was delivered (or read)'),
      read: z.number().int(),
      failed: z.number().int().describe('Recipients failed now, at sending or by a later status'),
      pending: z.number().int().describe('total minus those sent or failed'),
    })
    .describe('Each recipient counts once per level, however often the provider repeats a status'),
  created_by: z.uuid().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a campaign. */
export function presentCampaign(c: Campaign): z.infer<typeof CampaignBody> {
  const { total, sent, delivered, read, failed } = c.counters;
  return {
    id: c._id,
    name: c.name,
    description: c.description,
    channel: c.channel,
    account_id: c.account_id,
    message: c.message,
    status: c.status,
    send_at: iso(c.send_at),
    started_at: iso(c.started_at),
    completed_at: iso(c.completed_at),
    cancelled_at: iso(c.cancelled_at),
    failure_reason: c.failure_reason,
    counters: { total, sent, delivered, read, failed, pending: Math.max(0, total - sent - failed) },
    created_by: c.created_by,
    created_at: iso(c.created_at) as string,
    updated_at: iso(c.updated_at) as string,
  };
}

/** The recipient JSON shape. */
export const CampaignRecipientBody = z.object({
  id: z.uuid(),
  campaign_id: z.uuid(),
  address: z.string().describe('E.164 phone (+628…) on WhatsApp, else the contact’s channel identity'),
  contact_id: z.uuid().nullable().describe('Null for a CSV row not yet sent (its contact is found or created at sending)'),
  source: z.enum(['contact', 'filter', 'csv']),
  variables: z.record(z.string(), z.string()).describe('A CSV row’s other columns'),
  status: z.enum(['pending', 'sent', 'delivered', 'read', 'failed']),
  error: z.object({ code: z.string(), message: z.string() }).nullable().describe('Why it failed'),
  message_id: z.uuid().nullable().describe('The message in the contact’s conversation'),
  external_id: z.string().nullable().describe('The provider’s message id'),
  sent_at: z.iso.datetime().nullable(),
  delivered_at: z.iso.datetime().nullable(),
  read_at: z.iso.datetime().nullable(),
  failed_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a recipient (a send in progress shows as pending). */
export function presentCampaignRecipient(r: CampaignRecipient): z.infer<typeof CampaignRecipientBody> {
  return {
    id: r._id,
    campaign_id: r.campaign_id,
    address: r.address,
    contact_id: r.contact_id,
    source: r.source,
    variables: r.variables,
    status: r.status === 'sending' ? 'pending' : r.status,
    error: r.error,
    message_id: r.message_id,
    external_id: r.external_id,
    sent_at: iso(r.sent_at),
    delivered_at: iso(r.delivered_at),
    read_at: iso(r.read_at),
    failed_at: iso(r.failed_at),
    created_at: iso(r.created_at) as string,
    updated_at: iso(r.updated_at) as string,
  };
}

/** What adding recipients did. */
export const AddRecipientsReportBody = z.object({
  added: z.number().int(),
  duplicates: z.number().int().describe('Addresses already in the campaign or repeated in this request'),
  rejected: z
    .array(z.object({ row: z.number().int().describe('The CSV row number (header = 1)'), value: z.string(), reason: z.string() }))
    .describe('CSV rows not added, with their reasons'),
  total: z.number().int().describe('The campaign’s recipients now'),
});

/** Shapes an add report. */
export const presentAddReport = (r: AddReport): z.infer<typeof AddRecipientsReportBody> => ({ ...r });
