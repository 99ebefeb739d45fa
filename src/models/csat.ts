/**
 * CSAT surveys and each tenant's CSAT settings.
 *
 * A survey, `_id` = naturalId('csat-survey', tenant, conversation): one per conversation, so
 * creating it is an exactly-once claim whether a person asks (POST) or the resolve listener
 * does, however often. Its rating link carries a token that is never stored: only its SHA-256
 * (`token_hash`, what PATCH /api/csat/{token} looks up) and the random `token_nonce` from which
 * the server re-derives it with its secret key (services/csat-tokens.ts) should a crash come
 * between the claim and the send. A submission is one conditional update on `responded_at: null`:
 * one winner, the rest are reuse.
 */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf, findDocById } from './driver.js';
import { tenantRepo } from './repo.js';

/** Where a survey stands. sending: claimed, its message not yet handed over; not_sent: refused or failed (see send_error). */
export const CSAT_STATUSES = ['sending', 'sent', 'not_sent', 'completed'] as const;

/** A survey's status. */
export type CsatStatus = (typeof CSAT_STATUSES)[number];

/** A stored survey. */
export interface CsatSurvey extends TenantDoc {
  conversation_id: string;
  contact_id: string;
  channel: string;
  /** The conversation's assignee and division when the survey was created: whom the rating is about. */
  agent_id: string | null;
  division_id: string | null;
  trigger: 'manual' | 'resolved';
  /** The user who asked for it (manual), else null. */
  created_by: string | null;
  status: CsatStatus;
  token_hash: string;
  token_nonce: string;
  expires_at: Date;
  /** The survey message, once stored. */
  message_id: string | null;
  send_error: { code: string; message: string } | null;
  rating: number | null;
  comment: string | null;
  responded_at: Date | null;
}

const schema = baseSchema<CsatSurvey>(
  {
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    contact_id: { type: String, required: true },
    channel: { type: String, required: true },
    agent_id: { type: String, default: null },
    division_id: { type: String, default: null },
    trigger: { type: String, required: true, enum: ['manual', 'resolved'] },
    created_by: { type: String, default: null },
    status: { type: String, required: true, enum: CSAT_STATUSES },
    token_hash: { type: String, required: true },
    token_nonce: { type: String, required: true },
    expires_at: { type: Date, required: true },
    message_id: { type: String, default: null },
    send_error: { type: Object, default: null },
    rating: { type: Number, default: null },
    comment: { type: String, default: null },
    responded_at: { type: Date, default: null },
  },
  'csat_surveys',
);
// Serves the public submit: the token's hash to its survey. Not unique (a hash of 256 random bits does not collide).
schema.index({ token_hash: 1 });
// Serves the analytics: a tenant's surveys created in a date range.
schema.index({ tenant_id: 1, created_at: 1 });

/** The csat_surveys collection. */
export const CsatSurveyModel = model<CsatSurvey>('CsatSurvey', schema);

/** Tenant-scoped access to surveys. */
export const csatSurveys = tenantRepo(CsatSurveyModel, 'CSAT survey');

/** The survey whose token hashes to `hash`, any tenant (the public submit knows only the token). */
export const findSurveyByTokenHash = (hash: string) => CsatSurveyModel.findOne({ token_hash: hash }).lean<CsatSurvey>().exec();

/** Sets fields of a survey. */
export async function setSurveyFields(id: string, set: Partial<CsatSurvey>): Promise<void> {
  await collectionOf(CsatSurveyModel).updateOne({ _id: id }, { $set: { ...set, updated_at: new Date() } });
}

/** Records the rating if none is recorded yet; false when one was (the token was used). */
export async function recordRating(id: string, rating: number, comment: string | null, at: Date): Promise<boolean> {
  const res = await collectionOf(CsatSurveyModel).updateOne(
    { _id: id, responded_at: null },
    { $set: { rating, comment, responded_at: at, status: 'completed', updated_at: at } },
  );
  return res.matchedCount === 1;
}

/** One row of the analytics aggregation: surveys of one agent, division and rating (null: not answered). */
export interface CsatGroup {
  agent_id: string | null;
  division_id: string | null;
  rating: number | null;
  sent: boolean;
  count: number;
  /** The tenant-zone bucket the surveys were created in, when the aggregation was asked to bucket. */
  start?: Date;
}

/** Buckets of a bucketed aggregation: `$dateTrunc` in the tenant's zone (weeks from Monday). */
export interface CsatBucketing {
  unit: 'hour' | 'day' | 'week' | 'month';
  zone: string;
}

/**
 * A tenant's surveys created in [from, to), grouped by agent, division, rating and whether the
 * message went out (and by bucket when asked): the indexed `$match` bounds it by tenant and
 * range, and the groups are at most agents x divisions x 12 rows (per bucket).
 */
export async function groupSurveys(tenantId: string, from: Date, to: Date, filter: { agent_id?: string; division_id?: string }, bucket: CsatBucketing | null = null): Promise<CsatGroup[]> {
  const start = bucket ? { start: { $dateTrunc: { date: '$created_at', unit: bucket.unit, timezone: bucket.zone, startOfWeek: 'monday' } } } : {};
  const rows = await CsatSurveyModel.aggregate<{ _id: Omit<CsatGroup, 'count'>; count: number }>([
    { $match: { tenant_id: tenantId, created_at: { $gte: from, $lt: to }, ...filter } },
    { $group: { _id: { agent_id: '$agent_id', division_id: '$division_id', rating: '$rating', sent: { $ne: ['$status', 'not_sent'] }, ...start }, count: { $sum: 1 } } },
  ]).exec();
  return rows.map((r) => ({ ...r._id, count: r.count }));
}

/** A tenant's CSAT settings: `_id` = naturalId('csat-settings', tenant). */
export interface CsatSettings extends TenantDoc {
  /** Send a survey when a conversation is resolved (once per conversation). */
  auto_send_on_resolve: boolean;
}

const settingsSchema = baseSchema<CsatSettings>(
  {
    tenant_id: { type: String, required: true },
    auto_send_on_resolve: { type: Boolean, required: true },
  },
  'csat_settings',
);

/** The csat_settings collection. */
export const CsatSettingsModel = model<CsatSettings>('CsatSettings', settingsSchema);

/** A tenant's settings document, or null (defaults apply). */
export const findCsatSettings = (id: string) => findDocById<CsatSettings>(CsatSettingsModel as never, id);

/** Writes a tenant's settings document; answers its new updated_at. */
export async function saveCsatSettings(doc: Omit<CsatSettings, 'created_at' | 'updated_at'>): Promise<Date> {
  const now = new Date();
  await collectionOf(CsatSettingsModel).updateOne({ _id: doc._id }, { $set: { ...doc, updated_at: now }, $setOnInsert: { created_at: now } }, { upsert: true });
  return now;
}
