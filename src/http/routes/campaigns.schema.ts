/** Schemas of the Campaigns group. */
import { z } from 'zod';
import { CampaignRecipientBody, CampaignBody } from '../../presenters/campaign.js';
import { CAMPAIGN_STATUSES } from '../../models/campaign.js';
import { Id, PageQuery, pageOf } from '../schemas/common.js';

const Channel = z.enum(['whatsapp', 'messenger', 'instagram', 'email']);
const Name = z.string().trim().min(1).max(120);
const Description = z.string().trim().max(1000).nullable();

/** What a campaign sends: a WhatsApp template with per-recipient body parameters, or text (Messenger, Instagram, e-mail). */
const Message = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('template'),
    template: z.strictObject({
      name: z.string().trim().regex(/^[a-z0-9_]{1,512}$/, 'must be a template name: lower-case letters, digits and _'),
      language: z.string().trim().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code such as id, en or en_US'),
      body_parameters: z
        .array(z.string().min(1).max(1024))
        .max(20)
        .default([])
        .describe('The body’s {{1}}, {{2}}… in order: text with variables ({{contact.name|fallback}}, {{contact.phone}}, {{contact.email}}, {{contact.attributes.<key>}}, {{csv.<column>}}, {{campaign.name}})'),
    }),
  }),
  z.strictObject({ type: z.literal('text'), text: z.string().trim().min(1).max(4096) }),
]);

/** GET /api/campaigns */
export const ListCampaignsQuery = PageQuery.extend({
  status: z.enum(CAMPAIGN_STATUSES).optional().describe('Only campaigns in this state'),
});

/** POST /api/campaigns */
export const CreateCampaignBody = z.strictObject({
  name: Name,
  description: Description.optional(),
  channel: Channel,
  account_id: Id.nullable().optional().describe('The sending account (of this channel); absent: the channel’s default account'),
  message: Message,
});

/** PATCH /api/campaigns/{id} */
export const UpdateCampaignBody = z
  .strictObject({
    name: Name.optional(),
    description: Description.optional(),
    account_id: Id.optional(),
    message: Message.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'must change at least one field');

/** GET /api/campaigns/{id}/recipients */
export const ListRecipientsQuery = PageQuery.extend({
  status: z.enum(['pending', 'sent', 'delivered', 'read', 'failed']).optional().describe('Only recipients in this status'),
});

/** POST /api/campaigns/{id}/recipients */
export const AddRecipientsBody = z
  .strictObject({
    contact_ids: z.array(Id).min(1).max(50_000).optional().describe('Contacts of the campaign’s channel'),
    filter: z
      .strictObject({
        tags: z.array(z.string().trim().min(1).max(50)).max(30).default([]).describe('Contacts with any (or all, see match) of these tags; empty: every contact of the channel'),
        match: z.enum(['any', 'all']).default('any'),
        channel: Channel.optional().describe('Must be the campaign’s channel when given'),
      })
      .optional(),
    csv: z
      .string()
      .min(1)
      .optional()
      .describe('CSV text (UTF-8; comma or semicolon separated) with a header row naming a phone column (phone, phone_number or wa_id); other columns become {{csv.<column>}} variables. WhatsApp campaigns only.'),
    default_country_code: z
      .string()
      .regex(/^[1-9]\d{0,2}$/, 'must be a calling code such as 62')
      .default('62')
      .describe('The calling code for national numbers in the CSV (a leading 0: 0812… becomes +62812…); default 62, Indonesia'),
  })
  .refine((b) => [b.contact_ids, b.filter, b.csv].filter((v) => v !== undefined).length === 1, 'must give exactly one of contact_ids, filter or csv');

/** POST /api/campaigns/{id}/send */
export const SendCampaignBody = z.strictObject({
  send_at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('When to start, RFC 3339 with an offset (stored UTC); absent or not in the future: now'),
});

/** A page of campaigns. */
export const CampaignPage = pageOf(CampaignBody);

/** A page of recipients. */
export const RecipientPage = pageOf(CampaignRecipientBody);

/** DELETE /api/campaigns/{id}/recipients */
export const ClearedBody = z.object({ message: z.string(), removed: z.number().int() });
