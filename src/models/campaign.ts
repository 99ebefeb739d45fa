/**
 * Campaigns and their recipients. A recipient's `_id` is naturalId('campaign-recipient', tenant,
 * campaign, address), so the same phone (or channel identity) added twice, by id, filter or CSV,
 * is one recipient (invariant 10); its send is claimed by a compare-and-set on that `_id`
 * (pending -> sending), and the message it sends has a natural id of its own, so a crash or a
 * second process never sends it twice (src/services/campaign-run.ts).
 */
import { model, Schema } from 'mongoose';
import type { ChannelName } from '../../channels/types.js';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import { tenantRepo } from './repo.js';

/** A campaign's states: draft is the only editable one; completed, cancelled and failed are final. */
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'completed', 'cancelled', 'failed'] as const;

/** A campaign state. */
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** What a campaign sends: a WhatsApp template with per-recipient body parameters, or free text. */
export type CampaignMessage =
  | { type: 'template'; template: { name: string; language: string; body_parameters: string[] } }
  | { type: 'text'; text: string };

/** Counters of recipient transitions (each counted once, when a recipient first reaches it). */
export interface CampaignCounters {
  total: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
}

/** A stored campaign. */
export interface Campaign extends TenantDoc {
  name: string;
  description: string | null;
  channel: ChannelName;
  /** The integration account it sends through. */
  account_id: string;
  message: CampaignMessage;
  status: CampaignStatus;
  /** When a scheduled campaign starts (UTC). */
  send_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  /** Why a failed campaign failed. */
  failure_reason: string | null;
  counters: CampaignCounters;
  /** The run holding the campaign (a random id per job run) and its last sign of life. */
  run_id: string | null;
  run_heartbeat_at: Date | null;
  created_by: string | null;
}

const schema = baseSchema<Campaign>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: null },
    channel: { type: String, required: true },
    account_id: { type: String, required: true },
    message: { type: Schema.Types.Mixed, required: true },
    status: { type: String, required: true, enum: CAMPAIGN_STATUSES },
    send_at: { type: Date, default: null },
    started_at: { type: Date, default: null },
    completed_at: { type: Date, default: null },
    cancelled_at: { type: Date, default: null },
    failure_reason: { type: String, default: null },
    counters: { type: Schema.Types.Mixed, default: () => ({ total: 0, sent: 0, delivered: 0, read: 0, failed: 0 }) },
    run_id: { type: String, default: null },
    run_heartbeat_at: { type: Date, default: null },
    created_by: { type: String, default: null },
  },
  'campaigns',
);
// Serves the list, newest first, and its status filter.
schema.index({ tenant_id: 1, created_at: -1, _id: -1 });
schema.index({ tenant_id: 1, status: 1, created_at: -1, _id: -1 });
// Serves the sweeper (any tenant): scheduled campaigns now due, sending ones whose run went quiet.
schema.index({ status: 1, send_at: 1 });
schema.index({ status: 1, run_heartbeat_at: 1 });

/** The campaigns collection. */
export const CampaignModel = model<Campaign>('Campaign', schema);

/** Tenant-scoped access to campaigns. */
export const campaigns = tenantRepo(CampaignModel, 'Campaign');

/**
 * Moves a campaign from one of `from` to a new state with `set`, atomically: the one writer of a
 * state change wins (two cancels, a cancel racing the run's completion). Null when it was not in `from`.
 */
export async function transitionCampaign(tenantId: string, id: string, from: readonly CampaignStatus[], set: Partial<Campaign>, extra: Record<string, unknown> = {}): Promise<Campaign | null> {
  return CampaignModel.findOneAndUpdate({ _id: id, tenant_id: tenantId, status: { $in: from }, ...extra }, { $set: set }, { returnDocument: 'after' })
    .lean<Campaign>()
    .exec();
}

/** Adds to a campaign's counters (one `$inc`, so concurrent transitions all count). */
export async function incrementCounters(id: string, inc: Partial<CampaignCounters>): Promise<void> {
  const fields = Object.fromEntries(Object.entries(inc).filter(([, n]) => n !== 0).map(([k, n]) => [`counters.${k}`, n]));
  if (Object.keys(fields).length === 0) return;
  await collectionOf(CampaignModel).updateOne({ _id: id }, { $inc: fields });
}

/** Sets a campaign's counters to recounted values (the run's reconciliation). */
export async function setCounters(id: string, counters: CampaignCounters): Promise<void> {
  await collectionOf(CampaignModel).updateOne({ _id: id }, { $set: { counters } });
}

/** Scheduled campaigns due at `now` (any tenant), oldest first. */
export const dueCampaigns = (now: Date, limit: number) =>
  CampaignModel.find({ status: 'scheduled', send_at: { $lte: now } }).sort({ send_at: 1 }).limit(limit).lean<Campaign[]>().exec();

/** Sending campaigns whose run has not shown a sign of life since `cutoff` (any tenant). */
export const quietCampaigns = (cutoff: Date, limit: number) =>
  CampaignModel.find({ status: 'sending', $or: [{ run_heartbeat_at: null }, { run_heartbeat_at: { $lte: cutoff } }] })
    .limit(limit)
    .lean<Campaign[]>()
    .exec();

/**
 * Takes the run of a sending campaign for `runId`: granted when nobody holds it or its holder
 * went quiet before `staleBefore`. The one fence between two runs of one campaign; recipients
 * are claimed one by one on top of it.
 */
export async function takeCampaignRun(id: string, runId: string, now: Date, staleBefore: Date): Promise<boolean> {
  const res = await collectionOf(CampaignModel).updateOne(
    { _id: id, status: 'sending', $or: [{ run_id: null }, { run_heartbeat_at: null }, { run_heartbeat_at: { $lte: staleBefore } }] },
    { $set: { run_id: runId, run_heartbeat_at: now } },
  );
  return res.matchedCount === 1;
}

/** Renews the holder's heartbeat; false when the campaign left `sending` or another run took it. */
export async function renewCampaignRun(id: string, runId: string, now: Date): Promise<boolean> {
  const res = await collectionOf(CampaignModel).updateOne({ _id: id, status: 'sending', run_id: runId }, { $set: { run_heartbeat_at: now } });
  return res.matchedCount === 1;
}

/** Frees the run of a quiet campaign (heartbeat still `seen`) for a new run; false when another sweeper did. */
export async function releaseQuietRun(id: string, seen: Date | null, now: Date): Promise<boolean> {
  const res = await collectionOf(CampaignModel).updateOne({ _id: id, status: 'sending', run_heartbeat_at: seen }, { $set: { run_id: null, run_heartbeat_at: now } });
  return res.matchedCount === 1;
}

/** A recipient's send state; `sending` is a claim in progress (presented as pending). */
export const RECIPIENT_STATUSES = ['pending', 'sending', 'sent', 'delivered', 'read', 'failed'] as const;

/** A recipient's state. */
export type RecipientStatus = (typeof RECIPIENT_STATUSES)[number];

/** Where a recipient came from. */
export type RecipientSource = 'contact' | 'filter' | 'csv';

/** One recipient of one campaign. */
export interface CampaignRecipient extends TenantDoc {
  campaign_id: string;
  /** The address on the campaign's channel: an E.164 phone (+628…) on WhatsApp, else the contact's identity. */
  address: string;
  /** The contact, when known (CSV rows get theirs at send time). */
  contact_id: string | null;
  source: RecipientSource;
  /** The CSV row's other columns (template parameters read them as `{{csv.column}}`). */
  variables: Record<string, string>;
  status: RecipientStatus;
  error: { code: string; message: string } | null;
  /** Our message and the provider's id once sent. */
  message_id: string | null;
  external_id: string | null;
  claimed_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  failed_at: Date | null;
}

const recipientSchema = baseSchema<CampaignRecipient>(
  {
    tenant_id: { type: String, required: true },
    campaign_id: { type: String, required: true },
    address: { type: String, required: true },
    contact_id: { type: String, default: null },
    source: { type: String, required: true },
    variables: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, required: true, enum: RECIPIENT_STATUSES },
    error: { type: Schema.Types.Mixed, default: null },
    message_id: { type: String, default: null },
    external_id: { type: String, default: null },
    claimed_at: { type: Date, default: null },
    sent_at: { type: Date, default: null },
    delivered_at: { type: Date, default: null },
    read_at: { type: Date, default: null },
    failed_at: { type: Date, default: null },
  },
  'campaign_recipients',
);
// Serves the recipient list (in the order added, by id for ties), its status filter, the run's
// "next pending batch" and the recount. Not unique: the `_id` is the dedupe.
recipientSchema.index({ tenant_id: 1, campaign_id: 1, created_at: 1, _id: 1 });
recipientSchema.index({ campaign_id: 1, status: 1, _id: 1 });

/** The campaign_recipients collection. */
export const CampaignRecipientModel = model<CampaignRecipient>('CampaignRecipient', recipientSchema);

/** Tenant-scoped access to recipients. */
export const campaignRecipients = tenantRepo(CampaignRecipientModel, 'Campaign recipient');

/** The natural id of one address in one campaign. */
export const recipientId = (tenantId: string, campaignId: string, address: string): string => naturalId('campaign-recipient', tenantId, campaignId, address);

/** Up to `limit` recipients of a campaign in `status`, by id. */
export const recipientsIn = (campaignId: string, status: RecipientStatus, limit: number, claimedBefore?: Date) =>
  CampaignRecipientModel.find({ campaign_id: campaignId, status, ...(claimedBefore ? { claimed_at: { $lte: claimedBefore } } : {}) })
    .sort({ _id: 1 })
    .limit(limit)
    .lean<CampaignRecipient[]>()
    .exec();

/**
 * Moves a recipient from `from` to `set.status` (and fields) only if it is still in `from`: the
 * exactly-once step of every transition (a claim, a send's record, a delivery status).
 */
export async function moveRecipient(id: string, from: RecipientStatus, set: Partial<CampaignRecipient>, extra: Record<string, unknown> = {}): Promise<boolean> {
  const res = await collectionOf(CampaignRecipientModel).updateOne({ _id: id, status: from, ...extra }, { $set: { ...set, updated_at: new Date() } });
  return res.matchedCount === 1;
}

/**
 * The counters recounted from the recipients themselves (the truth the `$inc`s follow): sent,
 * delivered and read count recipients that ever reached them (their time is set), failed those
 * failed now.
 */
export async function recountCounters(campaignId: string): Promise<CampaignCounters> {
  const count = (extra: Record<string, unknown>) => CampaignRecipientModel.countDocuments({ campaign_id: campaignId, ...extra }).exec();
  const [total, sent, delivered, read, failed] = await Promise.all([
    count({}),
    count({ sent_at: { $ne: null } }),
    count({ delivered_at: { $ne: null } }),
    count({ read_at: { $ne: null } }),
    count({ status: 'failed' }),
  ]);
  return { total, sent, delivered, read, failed };
}

/** Inserts recipients 1,000 at a time, past duplicates; answers how many were new. */
export async function insertRecipientsPastDuplicates(docs: Omit<CampaignRecipient, 'created_at' | 'updated_at'>[]): Promise<number> {
  let added = 0;
  const now = new Date();
  for (let i = 0; i < docs.length; i += 1000) {
    const chunk = docs.slice(i, i + 1000).map((d) => ({ ...d, created_at: now, updated_at: now }));
    try {
      const res = await collectionOf(CampaignRecipientModel).insertMany(chunk as never[], { ordered: false });
      added += res.insertedCount;
    } catch (err) {
      const e = err as { writeErrors?: { code?: number }[]; result?: { insertedCount?: number }; insertedCount?: number };
      const errors = e.writeErrors ?? [];
      if (!errors.length || errors.some((w) => w.code !== 11000)) throw err;
      added += chunk.length - errors.length;
    }
  }
  return added;
}
