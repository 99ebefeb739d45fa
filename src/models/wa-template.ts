/**
 * WhatsApp message templates of a tenant, one per (WhatsApp Business Account, name, language) as
 * Meta keys them. That triple is the natural key: `_id` is naturalId('wa-template', tenant, waba,
 * name, language), so a create is an exactly-once claim (a second one fails with 11000), a sync
 * upserts by `_id`, and a status webhook (which names the WABA, name and language) is an `_id`
 * lookup. Components are kept in Meta's own shape (HEADER/BODY/FOOTER/BUTTONS with examples).
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** Review statuses Meta reports (message_template_status_update `event`, the template's `status`). */
export const TEMPLATE_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED', 'FLAGGED', 'IN_APPEAL', 'PENDING_DELETION', 'DELETED', 'LIMIT_EXCEEDED', 'ARCHIVED'] as const;

/** A template's review status. */
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

/** Meta's template categories. */
export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;

/** A template's category. */
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** One component in Meta's shape (`type`, `format`, `text`, `example`, `buttons`...). */
export type TemplateComponent = Record<string, unknown>;

/** A stored template. */
export interface WaTemplate extends TenantDoc {
  /** The WhatsApp integration account whose token submits and syncs it. */
  account_id: string;
  /** The WhatsApp Business Account the template lives in. */
  waba_id: string;
  /** Meta's template id; null until Meta accepted the submission. */
  meta_template_id: string | null;
  /** Lower-case letters, digits and underscores; unique per WABA and language. */
  name: string;
  /** e.g. en_US, id. */
  language: string;
  category: TemplateCategory;
  components: TemplateComponent[];
  status: TemplateStatus;
  /** Why it was rejected, paused or disabled, as Meta said; null otherwise. */
  status_reason: string | null;
  /** When Meta's status was reported (webhook time or sync time): older reports do not overwrite newer ones. */
  status_changed_at: Date | null;
  /**
   * The status and reason the current report replaced, written with it: what its
   * template.status_changed says it changed from, even when it is emitted again after a crash.
   */
  previous_status?: TemplateStatus | null;
  previous_status_reason?: string | null;
  /** The default media of an IMAGE/VIDEO/DOCUMENT header when a send gives none. */
  header_media_url: string | null;
  /** `created` here and submitted, or `synced` (first seen in Meta's list). */
  source: 'created' | 'synced';
  /** Last seen in Meta's list; null when never (a template only this server knows). */
  synced_at: Date | null;
  created_by: string | null;
}

const schema = baseSchema<WaTemplate>(
  {
    tenant_id: { type: String, required: true },
    account_id: { type: String, required: true },
    waba_id: { type: String, required: true },
    meta_template_id: { type: String, default: null },
    name: { type: String, required: true },
    language: { type: String, required: true },
    category: { type: String, required: true },
    components: { type: [Schema.Types.Mixed], default: [] },
    status: { type: String, required: true },
    status_reason: { type: String, default: null },
    status_changed_at: { type: Date, default: null },
    previous_status: { type: String, default: null },
    previous_status_reason: { type: String, default: null },
    header_media_url: { type: String, default: null },
    source: { type: String, required: true },
    synced_at: { type: Date, default: null },
    created_by: { type: String, default: null },
  },
  'wa_templates',
);
// The list, newest first, optionally by status; and a sync's "templates of this WABA".
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, status: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, waba_id: 1, created_at: 1, _id: 1 });

/** The wa_templates collection. */
export const WaTemplateModel = model<WaTemplate>('WaTemplate', schema);

/** Tenant-scoped access to WhatsApp templates. */
export const waTemplates = tenantRepo(WaTemplateModel, 'WhatsApp template');

/** The `_id` of the template `name` in `language` of a WABA, in a tenant. */
export const waTemplateId = (tenantId: string, wabaId: string, name: string, language: string): string => naturalId('wa-template', tenantId, wabaId, name, language);

/** A status report recorded: the template before and after it; `replayed` when this very report was recorded already. */
export interface RecordedStatus {
  before: Pick<WaTemplate, 'status' | 'status_reason'>;
  after: WaTemplate;
  replayed: boolean;
}

/**
 * Sets Meta's status on a template unless a newer report was already recorded (webhooks may
 * arrive out of order, and a sync may read an older state than a webhook just wrote): a
 * compare-and-set on the status it read, keeping that as `previous_status`. The same report
 * again (Meta retrying, a recovery pass after a crash) changes nothing and answers `replayed`,
 * with the status it had replaced. Null when the template is gone or a newer report is recorded.
 */
export async function recordTemplateStatus(tenantId: string, id: string, status: TemplateStatus, reason: string | null, at: Date): Promise<RecordedStatus | null> {
  const collection = collectionOf(WaTemplateModel);
  for (let attempt = 0; attempt < 5; attempt++) {
    const doc = (await collection.findOne({ _id: id, tenant_id: tenantId })) as unknown as WaTemplate | null;
    if (!doc || (doc.status_changed_at && doc.status_changed_at > at)) return null;
    if (doc.status_changed_at?.getTime() === at.getTime() && doc.status === status && doc.status_reason === reason) {
      const before = doc.previous_status ? { status: doc.previous_status, status_reason: doc.previous_status_reason ?? null } : doc;
      return { before: { status: before.status, status_reason: before.status_reason }, after: doc, replayed: true };
    }
    const set = { status, status_reason: reason, status_changed_at: at, previous_status: doc.status, previous_status_reason: doc.status_reason, updated_at: new Date() };
    const res = await collection.updateOne({ _id: id, tenant_id: tenantId, status: doc.status, status_reason: doc.status_reason, status_changed_at: doc.status_changed_at }, { $set: set });
    if (res.matchedCount === 1) return { before: { status: doc.status, status_reason: doc.status_reason }, after: { ...doc, ...set }, replayed: false };
  }
  // Reports of one template do not race five times over; failing lets the webhook's processing retry.
  throw new Error(`the status of template ${id} kept changing while recording a report`);
}
