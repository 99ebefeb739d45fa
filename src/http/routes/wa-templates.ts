/** WA Templates: WhatsApp message templates, submitted to Meta for review and synced from the WhatsApp Business Account. */
import { presentPage } from '../../presenters/page.js';
import { presentTemplateSync, presentWaTemplate } from '../../presenters/wa-template.js';
import { acting } from '../../services/agents.js';
import { createWaTemplate, deleteWaTemplate, getWaTemplate, listWaTemplates, setTemplateHeaderMedia, syncWaTemplates } from '../../services/wa-templates.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import { CreateWaTemplateBody, HeaderMediaBody, ListWaTemplatesQuery, SyncWaTemplatesBody, TemplateSyncBody, WaTemplateBody, WaTemplatePage } from './wa-templates.schema.js';

const NO_ACCOUNT = 'The organization has no active WhatsApp account (or account_id’s is disabled), or the account has no WhatsApp Business Account id (settings.waba_id)';
const META_REFUSED = 'Meta refused the call (code provider_refused): the message carries Meta’s message, code, subcode and fbtrace_id (an invalid template, a token that is refused or lacks whatsapp_business_management)';
const META_DOWN = {
  502: 'The Graph API answered something unreadable (code provider_error)',
  503: 'The Graph API could not be reached, timed out, rate limited us, or kept answering 5xx/429 after retries with backoff (code provider_unavailable); try again later',
};

/** The WA Templates group. */
export const waTemplateRoutes: RouteGroup = {
  group: 'WA Templates',
  routes: [
    route({
      method: 'get',
      path: '/api/wa-templates',
      summary: 'List WhatsApp message templates',
      description: 'Newest first, as stored here (POST /api/wa-templates/sync brings Meta’s). Filters combine.',
      access: 'templates.view',
      query: ListWaTemplatesQuery,
      response: WaTemplatePage,
      handler: async ({ query, principal }) => presentPage(await listWaTemplates({ ...acting(principal), ...query }), presentWaTemplate),
    }),
    route({
      method: 'post',
      path: '/api/wa-templates',
      summary: 'Create a WhatsApp message template',
      description:
        'Checked as Meta checks it (400 naming the field: name format, one BODY, variables {{1}} to {{n}} without gaps, one example value per variable, button limits), ' +
        'then submitted for review to the WhatsApp Business Account of the account (POST /{waba-id}/message_templates). Answers the template with Meta’s id and status (usually PENDING); ' +
        'the review outcome arrives by webhook (message_template_status_update) or sync, and each change of status emits `template.status_changed` (Socket.IO and outgoing webhooks) to holders of templates.manage.',
      access: 'templates.manage',
      body: CreateWaTemplateBody,
      response: WaTemplateBody,
      status: 201,
      errors: { 409: 'A template with this name and language already exists in the WhatsApp Business Account, here or at Meta (Meta’s message in `message`)', 422: `${NO_ACCOUNT}; or ${META_REFUSED}`, ...META_DOWN },
      audit: { action: 'wa_template.created', resource: 'wa_template' },
      handler: async ({ body, principal }) =>
        presentWaTemplate(
          await createWaTemplate({
            ...acting(principal),
            accountId: body.account_id,
            name: body.name,
            language: body.language,
            category: body.category,
            allowCategoryChange: body.allow_category_change,
            components: body.components,
          }),
        ),
    }),
    route({
      method: 'post',
      path: '/api/wa-templates/sync',
      summary: 'Sync templates from Meta',
      description:
        'Reads every template of the WhatsApp Business Account (all pages) and stores what is new; known templates take Meta’s status (APPROVED, REJECTED with its reason, PAUSED, DISABLED...), category and components. ' +
        'Templates stored here that Meta does not list are kept (`local_only`).',
      access: 'templates.manage',
      body: SyncWaTemplatesBody,
      response: TemplateSyncBody,
      errors: { 422: `${NO_ACCOUNT}; or ${META_REFUSED}`, ...META_DOWN },
      audit: { action: 'wa_template.synced', resource: 'wa_template', target: () => null },
      handler: async ({ body, principal }) => presentTemplateSync(await syncWaTemplates({ ...acting(principal), accountId: body.account_id })),
    }),
    route({
      method: 'get',
      path: '/api/wa-templates/{id}',
      summary: 'Get a WhatsApp template by ID',
      access: 'templates.view',
      params: IdParams,
      response: WaTemplateBody,
      handler: async ({ params, principal }) => presentWaTemplate(await getWaTemplate({ ...acting(principal), id: params.id })),
    }),
    route({
      method: 'delete',
      path: '/api/wa-templates/{id}',
      summary: 'Delete a WhatsApp template (local only)',
      description: 'Removes it here only; Meta keeps it (delete it in WhatsApp Manager), and the next sync brings it back while Meta lists it.',
      access: 'templates.manage',
      params: IdParams,
      response: MessageBody,
      audit: { action: 'wa_template.deleted', resource: 'wa_template' },
      handler: async ({ params, principal }) => {
        const template = await deleteWaTemplate({ ...acting(principal), id: params.id });
        return { message: `Template "${template.name}" (${template.language}) deleted here; it stays in Meta’s WhatsApp Manager` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/wa-templates/{id}/header-media',
      summary: 'Update template header media URL',
      description: 'The IMAGE, VIDEO or DOCUMENT a template send uses for the header when its components give none (sent to Meta as the header parameter’s link). Stored here only.',
      access: 'templates.manage',
      params: IdParams,
      body: HeaderMediaBody,
      response: WaTemplateBody,
      errors: { 422: 'The template has no IMAGE, VIDEO or DOCUMENT header' },
      audit: { action: 'wa_template.header_media_updated', resource: 'wa_template' },
      handler: async ({ params, body, principal }) => presentWaTemplate(await setTemplateHeaderMedia({ ...acting(principal), id: params.id, url: body.header_media_url })),
    }),
  ],
};
