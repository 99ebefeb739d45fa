/** WhatsApp templates and template syncs as the API shows them. */
import { z } from 'zod';
import { TEMPLATE_CATEGORIES, TEMPLATE_STATUSES, type WaTemplate } from '../models/wa-template.js';
import type { SyncResult } from '../services/wa-templates.js';
import { variableCount } from '../services/wa-template-rules.js';
import { iso } from './page.js';

/** The template JSON shape. */
export const WaTemplateBody = z.object({
  id: z.uuid(),
  account_id: z.uuid().describe('The WhatsApp account whose token submits and syncs it'),
  waba_id: z.string().describe('The WhatsApp Business Account it lives in'),
  meta_template_id: z.string().nullable().describe('Meta’s template id; null until Meta accepted the submission'),
  name: z.string(),
  language: z.string(),
  category: z.enum(TEMPLATE_CATEGORIES),
  status: z.enum(TEMPLATE_STATUSES).describe('Meta’s review status, kept current by sync and by the message_template_status_update webhook'),
  status_reason: z.string().nullable().describe('Why Meta rejected, paused or disabled it (e.g. INVALID_FORMAT); null otherwise'),
  status_changed_at: z.iso.datetime().nullable().describe('When Meta reported the current status'),
  components: z.array(z.record(z.string(), z.unknown())).describe('HEADER, BODY, FOOTER and BUTTONS components in Meta’s shape, with their examples'),
  body_variables: z.number().int().describe('How many parameters a send gives the body ({{1}} to {{n}})'),
  header_media_url: z.string().nullable().describe('The IMAGE/VIDEO/DOCUMENT header media a send uses when it gives none'),
  source: z.enum(['created', 'synced']).describe('Created through this API, or first seen in a sync from Meta'),
  synced_at: z.iso.datetime().nullable().describe('Last seen in Meta’s list; null when never'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** Shapes a template. */
export function presentWaTemplate(t: WaTemplate): z.infer<typeof WaTemplateBody> {
  const body = t.components.find((c) => String(c.type).toUpperCase() === 'BODY');
  return {
    id: t._id,
    account_id: t.account_id,
    waba_id: t.waba_id,
    meta_template_id: t.meta_template_id,
    name: t.name,
    language: t.language,
    category: t.category,
    status: t.status,
    status_reason: t.status_reason,
    status_changed_at: iso(t.status_changed_at),
    components: t.components.map((c) => ({ ...c })),
    body_variables: variableCount(body?.text),
    header_media_url: t.header_media_url,
    source: t.source,
    synced_at: iso(t.synced_at),
    created_at: iso(t.created_at) as string,
    updated_at: iso(t.updated_at) as string,
  };
}

/** What a sync did. */
export const TemplateSyncBody = z.object({
  account_id: z.uuid(),
  waba_id: z.string(),
  total: z.number().int().describe('Templates Meta listed (every page)'),
  created: z.number().int().describe('New here'),
  updated: z.number().int().describe('Known here, with a changed status, reason, category, components or Meta id'),
  unchanged: z.number().int(),
  local_only: z.number().int().describe('Stored here but not listed by Meta: kept as they are'),
  synced_at: z.iso.datetime(),
});

/** Shapes a sync result. */
export const presentTemplateSync = (r: SyncResult): z.infer<typeof TemplateSyncBody> => ({ ...r, synced_at: iso(r.synced_at) as string });

/**
 * `template.status_changed`'s data: the template as it is now, the status it changed from and
 * how the change was learnt (Meta's answer to the submission, a sync, or Meta's webhook).
 */
export function presentTemplateStatusChange(after: WaTemplate, before: Pick<WaTemplate, 'status' | 'status_reason'>, source: 'submission' | 'sync' | 'webhook') {
  return { template: presentWaTemplate(after), previous_status: before.status, previous_status_reason: before.status_reason, source };
}
