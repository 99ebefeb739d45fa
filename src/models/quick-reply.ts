/**
 * Quick replies (canned responses) and their per-agent favourites. A shortcut is unique per scope
 * owner (the tenant, one division, one agent), without case; that is kept by a unique claim, not a
 * unique index, because on secantusd-rs an index entry goes stale when a shortcut is renamed
 * (ARCHITECTURE, "Storage engine facts"). A favourite is its own document keyed by
 * (reply, agent), so adding it twice is a duplicate-key no-op on every engine.
 */
import { model } from 'mongoose';
import { naturalId } from '../ids.js';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo, type Scoped, type Sort } from './repo.js';
import { withUniqueClaims } from './unique-claim.js';

/** Who a quick reply belongs to: the whole tenant, one division, or one agent. */
export const QUICK_REPLY_SCOPES = ['tenant', 'division', 'personal'] as const;

/** A quick reply's scope. */
export type QuickReplyScope = (typeof QUICK_REPLY_SCOPES)[number];

/** A stored quick reply. */
export interface QuickReply extends TenantDoc {
  /** As entered (without a leading `/`); compared without case. */
  shortcut: string;
  /** `shortcut` lower-cased: the sort tie-break and the import's lookup key. */
  shortcut_key: string;
  title: string;
  /** The text, with `{{variable}}` placeholders from the catalogue. */
  content: string;
  scope: QuickReplyScope;
  /** Set for scope `division`, else null. */
  division_id: string | null;
  /** The agent a `personal` reply belongs to, else null. */
  owner_id: string | null;
  created_by: string | null;
  /** quickReplySearchText of shortcut, title and content: what `q` searches. */
  search_text: string;
  usage_count: number;
  last_used_at: Date | null;
}

const schema = baseSchema<QuickReply>(
  {
    tenant_id: { type: String, required: true },
    shortcut: { type: String, required: true },
    shortcut_key: { type: String, required: true },
    title: { type: String, required: true },
    content: { type: String, required: true },
    scope: { type: String, required: true, enum: QUICK_REPLY_SCOPES },
    division_id: { type: String, default: null },
    owner_id: { type: String, default: null },
    created_by: { type: String, default: null },
    search_text: { type: String, required: true },
    usage_count: { type: Number, default: 0 },
    last_used_at: { type: Date, default: null },
  },
  'quick_replies',
);
// Serves the list and the export: the caller's visible replies by usage, then shortcut.
schema.index({ tenant_id: 1, usage_count: -1, shortcut_key: 1, _id: 1 });
// Serves the import's "does this shortcut exist already" lookup. Not unique (see the banner).
schema.index({ tenant_id: 1, shortcut_key: 1 });

/**
 * Shortcut, title and content lower-cased in one field, so a search is one case-sensitive
 * `$regex` on lower-cased text. secantusd-rs runs a case-insensitive `$regex` about 30 times
 * slower (measured: 830 ms against 26 ms over 5,000 replies; three fields with `$options: 'i'`
 * took 2.8 s), and the answers are the same on MongoDB.
 */
export const quickReplySearchText = (r: Pick<QuickReply, 'shortcut' | 'title' | 'content'>): string =>
  `${r.shortcut}\n${r.title}\n${r.content}`.toLowerCase();

/** The quick_replies collection. */
export const QuickReplyModel = model<QuickReply>('QuickReply', schema);

/** The value claimed per tenant: scope, scope owner and shortcut (compared without case). */
export const quickReplyClaimValue = (d: Pick<QuickReply, 'scope' | 'division_id' | 'owner_id' | 'shortcut'>): string =>
  `${d.scope}:${d.division_id ?? d.owner_id ?? '-'}:${d.shortcut}`;

/** Tenant-scoped access to quick replies; a shortcut is claimed per scope owner, any case. */
export const quickReplies = withUniqueClaims(tenantRepo(QuickReplyModel, 'Quick reply'), {
  kind: 'quick_reply.shortcut',
  fields: ['shortcut', 'scope', 'division_id', 'owner_id'],
  valueOf: quickReplyClaimValue,
});

/** A range of replies by skip and limit (a list made of two segments needs arbitrary offsets). */
export const findQuickReplyRange = (filter: Scoped, sort: Sort, skip: number, limit: number): Promise<QuickReply[]> =>
  QuickReplyModel.find(filter).sort(sort).skip(skip).limit(limit).lean<QuickReply[]>().exec();

/**
 * Counts one use: one atomic `$inc` (concurrent uses are all counted, on either engine) that
 * leaves `updated_at` alone, since using a reply does not edit it. Null when it is gone.
 */
export const recordQuickReplyUse = (tenantId: string, id: string, at: Date): Promise<QuickReply | null> =>
  QuickReplyModel.findOneAndUpdate(
    { _id: id, tenant_id: tenantId },
    { $inc: { usage_count: 1 }, $set: { last_used_at: at } },
    { returnDocument: 'after', timestamps: false },
  )
    .lean<QuickReply>()
    .exec();

/** One agent's favourite; `_id` is quickReplyFavoriteId(tenant, reply, agent). */
export interface QuickReplyFavorite extends TenantDoc {
  quick_reply_id: string;
  user_id: string;
}

const favoriteSchema = baseSchema<QuickReplyFavorite>(
  {
    tenant_id: { type: String, required: true },
    quick_reply_id: { type: String, required: true },
    user_id: { type: String, required: true },
  },
  'quick_reply_favorites',
);
// Serves "an agent's favourites" (the list's first segment) and "a reply's favourites" (its deletion).
favoriteSchema.index({ tenant_id: 1, user_id: 1 });
favoriteSchema.index({ tenant_id: 1, quick_reply_id: 1 });

/** The quick_reply_favorites collection. */
export const QuickReplyFavoriteModel = model<QuickReplyFavorite>('QuickReplyFavorite', favoriteSchema);

/** The natural id of one agent's favourite of one reply. */
export const quickReplyFavoriteId = (tenantId: string, quickReplyId: string, userId: string): string =>
  naturalId('quick-reply-favorite', tenantId, quickReplyId, userId);

/** Tenant-scoped access to favourites. */
export const quickReplyFavorites = tenantRepo(QuickReplyFavoriteModel, 'Quick reply favorite');
