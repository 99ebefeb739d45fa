/** Campaigns: one message (a WhatsApp template, or text) sent to many recipients, rate-limited per sending account. */
import { acting } from '../../services/agents.js';
import { AddRecipientsReportBody, CampaignBody, presentAddReport, presentCampaign, presentCampaignRecipient } from '../../presenters/campaign.js';
import { presentPage } from '../../presenters/page.js';
import { addRecipients, clearRecipients, listRecipients } from '../../services/campaign-recipients.js';
import { cancelCampaign, createCampaign, deleteCampaign, getCampaign, listCampaigns, sendCampaign, updateCampaign } from '../../services/campaigns.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import {
  AddRecipientsBody,
  CampaignPage,
  ClearedBody,
  CreateCampaignBody,
  ListCampaignsQuery,
  ListRecipientsQuery,
  RecipientPage,
  SendCampaignBody,
  UpdateCampaignBody,
} from './campaigns.schema.js';

const DRAFT_ONLY = 'The campaign is not a draft (the message names its state)';
const TEMPLATE_MISFIT =
  'the WhatsApp template stored for the account’s WABA (GET /api/wa-templates) is not approved (code template_not_approved), or needs other parameters than body_parameters gives, which are all a campaign fills (code template_parameters_invalid)';

/** The Campaigns group. */
export const campaignRoutes: RouteGroup = {
  group: 'Campaigns',
  routes: [
    route({
      method: 'get',
      path: '/api/campaigns',
      summary: 'List campaigns',
      description: 'The organization’s campaigns, newest first, with their counters. Requires campaigns.view permission.',
      access: 'campaigns.view',
      query: ListCampaignsQuery,
      response: CampaignPage,
      handler: async ({ query, principal }) =>
        presentPage(await listCampaigns({ ...acting(principal), status: query.status, page: query.page, limit: query.limit }), presentCampaign),
    }),
    route({
      method: 'post',
      path: '/api/campaigns',
      summary: 'Create a new campaign (draft)',
      description:
        'A draft sending `message` on `channel` through `account_id` (default: the channel’s default account). WhatsApp campaigns send a ' +
        'template (business-initiated messages outside the 24-hour window must be templates), with body parameters filled per recipient; ' +
        'Messenger, Instagram and e-mail campaigns send text (Messenger and Instagram deliver it only to customers who wrote within 24 hours; ' +
        'the others fail with that reason). Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      body: CreateCampaignBody,
      response: CampaignBody,
      status: 201,
      errors: { 422: `The channel has no default account and no account_id was given; or ${TEMPLATE_MISFIT}` },
      audit: { action: 'campaign.created', resource: 'campaign' },
      handler: async ({ body, principal }) =>
        presentCampaign(
          await createCampaign({
            ...acting(principal),
            name: body.name,
            description: body.description ?? null,
            channel: body.channel,
            accountId: body.account_id ?? null,
            message: body.message,
          }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/campaigns/{id}',
      summary: 'Get a campaign',
      description: 'One campaign with its state and counters. Requires campaigns.view permission.',
      access: 'campaigns.view',
      params: IdParams,
      response: CampaignBody,
      handler: async ({ params, principal }) => presentCampaign(await getCampaign({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'delete',
      path: '/api/campaigns/{id}',
      summary: 'Delete a draft campaign',
      description: 'Deletes a draft and its recipients; campaigns that were sent or scheduled stay (cancel a scheduled one). Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      params: IdParams,
      response: MessageBody,
      errors: { 422: DRAFT_ONLY },
      audit: { action: 'campaign.deleted', resource: 'campaign' },
      handler: async ({ params, principal }) => {
        const c = await deleteCampaign({ ...acting(principal), id: params.id });
        return { message: `Campaign "${c.name}" deleted` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/campaigns/{id}',
      summary: 'Update a draft campaign',
      description: 'Changes a draft’s name, description, sending account or message; absent fields stay. The channel is fixed. Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      params: IdParams,
      body: UpdateCampaignBody,
      response: CampaignBody,
      errors: { 422: `${DRAFT_ONLY}; or ${TEMPLATE_MISFIT}` },
      audit: { action: 'campaign.updated', resource: 'campaign' },
      handler: async ({ params, body, principal }) =>
        presentCampaign(
          await updateCampaign({
            ...acting(principal),
            id: params.id,
            name: body.name,
            description: body.description,
            accountId: body.account_id,
            message: body.message,
          }),
        ),
    }),
    route({
      method: 'get',
      path: '/api/campaigns/{id}/recipients',
      summary: 'List campaign recipients',
      description:
        'Recipients in the order added, each with its status (pending, sent, delivered, read, or failed with the reason), updated from the ' +
        'provider’s delivery statuses. Requires campaigns.view permission.',
      access: 'campaigns.view',
      params: IdParams,
      query: ListRecipientsQuery,
      response: RecipientPage,
      handler: async ({ params, query, principal }) =>
        presentPage(await listRecipients({ ...acting(principal), id: params.id, status: query.status, page: query.page, limit: query.limit }), presentCampaignRecipient),
    }),
    route({
      method: 'post',
      path: '/api/campaigns/{id}/recipients',
      summary: 'Add recipients to a campaign',
      description:
        'Exactly one of: `contact_ids` (contacts of the campaign’s channel; 400 names the first that is not), `filter` (contacts of the ' +
        'channel with any or all of `tags`), or `csv` (WhatsApp: CSV text with a phone column). Each CSV row is checked on its own: a phone ' +
        'becomes E.164 (spaces, dashes, dots and brackets ignored; `+` or `00` starts an international number; a leading 0 is a national ' +
        'number of `default_country_code`, 62 unless given, so 0812-3456-7890 becomes +6281234567890; other digits are taken as ' +
        'international, as WhatsApp’s wa_id), and rows that are not valid numbers are reported with their row number and reason while ' +
        'the rest are added. Recipients are deduplicated per campaign by address, whichever way they were added (`duplicates`). ' +
        'Drafts only. Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      params: IdParams,
      body: AddRecipientsBody,
      response: AddRecipientsReportBody,
      errors: { 422: `${DRAFT_ONLY}; or a CSV for a campaign that is not on WhatsApp; or more than 100,000 recipients` },
      audit: { action: 'campaign.recipients_added', resource: 'campaign' },
      handler: async ({ params, body, principal }) =>
        presentAddReport(
          await addRecipients({
            ...acting(principal),
            id: params.id,
            contactIds: body.contact_ids,
            filter: body.filter,
            csv: body.csv !== undefined ? { text: body.csv, defaultCountryCode: body.default_country_code } : undefined,
          }),
        ),
    }),
    route({
      method: 'delete',
      path: '/api/campaigns/{id}/recipients',
      summary: 'Clear all recipients from a campaign',
      description: 'Removes every recipient of a draft. Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      params: IdParams,
      response: ClearedBody,
      errors: { 422: DRAFT_ONLY },
      audit: { action: 'campaign.recipients_cleared', resource: 'campaign' },
      handler: async ({ params, principal }) => {
        const removed = await clearRecipients({ ...acting(principal), id: params.id });
        return { message: `${removed} recipients removed`, removed };
      },
    }),
    route({
      method: 'post',
      path: '/api/campaigns/{id}/send',
      summary: 'Send or schedule a campaign',
      description:
        'Starts a draft now (status sending) or at `send_at` (status scheduled; stored in UTC). Sending goes in batches through the ' +
        'sending account at no more than CAMPAIGN_RATE_PER_SECOND messages per second (default 80, Meta’s default throughput), shared by ' +
        'every server process; each recipient’s message goes into the contact’s conversation (opened if needed, so agents see it in the ' +
        'inbox), once, even across a crash or a restart. Needs at least one recipient. Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      params: IdParams,
      body: SendCampaignBody,
      response: CampaignBody,
      errors: { 422: `${DRAFT_ONLY}, or it has no recipients, or ${TEMPLATE_MISFIT}` },
      audit: { action: 'campaign.sent', resource: 'campaign' },
      handler: async ({ params, body, principal }) =>
        presentCampaign(await sendCampaign({ ...acting(principal), id: params.id, sendAt: body.send_at ? new Date(body.send_at) : null })),
    }),
    route({
      method: 'post',
      path: '/api/campaigns/{id}/cancel',
      summary: 'Cancel a campaign',
      description:
        'Cancels a scheduled or sending campaign: sending stops before the next batch; recipients already sent stay sent, pending ones are ' +
        'never sent. Requires campaigns.manage permission.',
      access: 'campaigns.manage',
      params: IdParams,
      response: CampaignBody,
      errors: { 422: 'The campaign is a draft (delete it instead) or already completed, cancelled or failed' },
      audit: { action: 'campaign.cancelled', resource: 'campaign' },
      handler: async ({ params, principal }) => presentCampaign(await cancelCampaign({ ...acting(principal), id: params.id })),
    }),
  ],
};
