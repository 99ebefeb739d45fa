/**
 * Template messages checked against the stored WhatsApp template before they are sent (a reply,
 * a scheduled message, a campaign): the template of the sending account's WABA, name and
 * language, when one is stored; otherwise Meta decides. Not approved, or parameters that do not
 * fit it (services/wa-template-rules.ts), is a 422 naming the problem.
 */
import { AppError } from '../errors.js';
import type { Conversation } from '../models/conversation.js';
import { findIntegration, type Integration } from '../models/integration.js';
import { integrationAccounts, type IntegrationAccount } from '../models/integration-account.js';
import { waTemplateId, waTemplates, type TemplateStatus } from '../models/wa-template.js';
import { checkTemplateParameters, mediaHeaderComponent } from './wa-template-rules.js';
import { mediaHeaderFormat, wabaOf } from './wa-templates.js';

/** Statuses Meta sends templates in: approved, and approved but flagged for low quality (not yet paused). */
const SENDABLE: ReadonlySet<TemplateStatus> = new Set(['APPROVED', 'FLAGGED']);

/** A template message as the send path carries it. */
export interface TemplateSend {
  name: string;
  language: string;
  components?: Record<string, unknown>[] | undefined;
}

/**
 * Checks a template send through `account` against the template stored for its WABA, name and
 * language, when one is stored (otherwise Meta decides): 422 when it is not approved, or when the
 * parameters do not fit it (naming the problem). Answers the send with the stored header media
 * filled in where the send gave none.
 */
export async function checkTemplateSend(tenantId: string, account: IntegrationAccount, integration: Integration | null, send: TemplateSend): Promise<TemplateSend> {
  const wabaId = wabaOf(account, integration);
  const stored = wabaId ? await waTemplates.findOwnedOrNull(tenantId, waTemplateId(tenantId, wabaId, send.name, send.language)) : null;
  if (!stored) return send;
  const problem = (code: string, message: string, field: string) => new AppError(422, code, message, [{ in: 'body', field, message }]);
  if (!SENDABLE.has(stored.status)) {
    const reason = stored.status_reason ? ` (${stored.status_reason})` : '';
    throw problem('template_not_approved', `Template "${stored.name}" (${stored.language}) is ${stored.status}${reason}; only APPROVED templates can be sent`, 'template.name');
  }
  const check = checkTemplateParameters(stored, send.components ?? []);
  if (!check.ok) throw problem('template_parameters_invalid', `The template parameters do not fit the stored template: ${check.problem}`, 'template.components');
  return { ...send, components: check.components };
}

/**
 * The header a campaign's template messages carry, which give only body parameters: the stored
 * header media of a template with an IMAGE, VIDEO or DOCUMENT header, or null when there is none
 * to add (no such header, no media stored, or no template stored: Meta decides then). Read once
 * per campaign run, not per recipient.
 */
export async function campaignTemplateHeader(tenantId: string, accountId: string, send: Pick<TemplateSend, 'name' | 'language'>): Promise<Record<string, unknown> | null> {
  const account = await integrationAccounts.findOwnedOrNull(tenantId, accountId);
  const wabaId = account ? wabaOf(account, await findIntegration(tenantId, 'whatsapp')) : null;
  const stored = wabaId ? await waTemplates.findOwnedOrNull(tenantId, waTemplateId(tenantId, wabaId, send.name, send.language)) : null;
  const format = stored ? mediaHeaderFormat(stored.components) : null;
  return stored?.header_media_url && format ? mediaHeaderComponent(format.toLowerCase(), stored.header_media_url) : null;
}

/**
 * checkTemplateSend for a template to be sent into a conversation later (a scheduled message):
 * through the conversation's account, else its channel's default; nothing to check against when
 * neither is connected now (the send itself decides then).
 */
export async function checkConversationTemplate(c: Pick<Conversation, 'tenant_id' | 'channel' | 'account_id'>, send: TemplateSend): Promise<void> {
  if (c.channel !== 'whatsapp') return;
  const integration = await findIntegration(c.tenant_id, 'whatsapp');
  const accountId = c.account_id ?? integration?.default_account_id ?? null;
  const account = accountId ? await integrationAccounts.findOwnedOrNull(c.tenant_id, accountId) : null;
  if (account) await checkTemplateSend(c.tenant_id, account, integration, send);
}
