/** A tenant organization: the unit of isolation. Not tenant-scoped itself. */
import { model } from 'mongoose';
import { baseSchema, type BaseDoc } from './base.js';
import { caseless, moveUnique, releaseUnique, type UniqueKind } from './unique-claim.js';

/**
 * The limits a plan sets (billing_plans.limits) and a tenant has (plan + add-ons, or set by the
 * platform operator); null is unlimited. Monthly ones count calendar months in the tenant's zone.
 */
export const LIMIT_KEYS = ['agents', 'channel_accounts', 'monthly_conversations', 'monthly_messages', 'monthly_ai_replies', 'storage_bytes'] as const;

/** One limit's name. */
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** What a tenant's plan allows; null is unlimited. */
export type TenantLimits = Record<LimitKey, number | null>;

/** No limits: what a tenant whose limits were never set has. */
const UNLIMITED: TenantLimits = Object.fromEntries(LIMIT_KEYS.map((k) => [k, null])) as TenantLimits;

/** The limits a tenant has, `patch` applied (absent keys stay, null lifts one). */
export const tenantLimits = (tenant: Pick<Tenant, 'limits'>, patch: Partial<TenantLimits> = {}): TenantLimits => ({ ...UNLIMITED, ...tenant.limits, ...patch });

/** A stored tenant. */
export interface Tenant extends BaseDoc {
  name: string;
  slug: string;
  timezone: string;
  timezone_updated_at: Date;
  status: 'active' | 'suspended';
  /** Absent on tenants stored before plans existed: unlimited (keys added since are absent too). */
  limits?: Partial<TenantLimits>;
}

const schema = baseSchema<Tenant>(
  {
    name: { type: String, required: true },
    slug: { type: String, required: true },
    timezone: { type: String, required: true },
    timezone_updated_at: { type: Date, required: true },
    status: { type: String, required: true, enum: ['active', 'suspended'] },
    limits: { type: { ...Object.fromEntries(LIMIT_KEYS.map((k) => [k, Number])), _id: false }, default: undefined },
  },
  'tenants',
);
// Serves the public working-hours status lookup by slug (findTenantByIdOrSlug). Not unique:
// slugs are unique through the `tenant.slug` claim, which works on every engine.
schema.index({ slug: 1 });

// Serves the super-admin tenant list, newest first, with or without its status filter.
schema.index({ created_at: -1, _id: -1 });
schema.index({ status: 1, created_at: -1, _id: -1 });

/** The tenants collection. */
export const TenantModel = model<Tenant>('Tenant', schema);

/** Filters of the platform's tenant list. */
export interface TenantListFilter {
  status?: Tenant['status'];
  /** A matcher of the name or slug (services/text-match.ts containsText). */
  q?: { $regex: string; $options: string };
}

/** One page of every tenant (the platform operator's view; not tenant-scoped), newest first. */
export async function pageTenants(f: TenantListFilter, page: number, limit: number): Promise<{ items: Tenant[]; total: number }> {
  const filter: Record<string, unknown> = {};
  if (f.status) filter.status = f.status;
  if (f.q) filter.$or = [{ name: f.q }, { slug: f.q }];
  const [items, total] = await Promise.all([
    TenantModel.find(filter).sort({ created_at: -1, _id: -1 }).skip((page - 1) * limit).limit(limit).lean<Tenant[]>().exec(),
    TenantModel.countDocuments(filter).exec(),
  ]);
  return { items, total };
}

/** The tenant with this id or slug, or null. */
export async function findTenantByIdOrSlug(idOrSlug: string): Promise<Tenant | null> {
  const byId = await TenantModel.findById(idOrSlug).lean<Tenant>().exec();
  return byId ?? TenantModel.findOne({ slug: idOrSlug.toLowerCase() }).lean<Tenant>().exec();
}

/** The tenant with this id, or null. */
export const findTenant = (id: string) => TenantModel.findById(id).lean<Tenant>().exec();

// Slugs are unique across the platform, not per tenant.
const PLATFORM_SCOPE = 'platform';

const slugKind: UniqueKind = {
  name: 'tenant.slug',
  // Lookups lower-case the slug they are given, so slugs differing in case would be one slug.
  normalize: caseless,
  async holds(_scope, ownerId, key) {
    const tenant = await findTenant(ownerId);
    return tenant !== null && caseless(tenant.slug) === key;
  },
};

/** Inserts a tenant, claiming its slug; a taken slug rejects with code 11000. */
export const insertTenant = (doc: Omit<Tenant, 'created_at' | 'updated_at'>) =>
  moveUnique(slugKind, PLATFORM_SCOPE, doc._id, null, doc.slug, async () => (await TenantModel.create(doc)).toObject() as Tenant);

/**
 * Sets fields on a tenant. The slug is left out: nothing renames one, and doing so would have to
 * move its claim. So is the status: it changes through setTenantStatus (services/tenants.ts),
 * which also ends or re-checks the organization's open sockets.
 */
export const updateTenant = (id: string, set: Partial<Omit<Tenant, 'slug' | 'status'>>) =>
  TenantModel.findByIdAndUpdate(id, { $set: set }, { returnDocument: 'after' }).lean<Tenant>().exec();

/** Sets a tenant's status; only setTenantStatus calls it. */
export const updateTenantStatus = (id: string, status: Tenant['status']) =>
  TenantModel.findByIdAndUpdate(id, { $set: { status } }, { returnDocument: 'after' }).lean<Tenant>().exec();

/** Removes a tenant and frees its slug (only used to undo a half-finished registration). */
export async function deleteTenant(id: string): Promise<void> {
  const tenant = await findTenant(id);
  await TenantModel.deleteOne({ _id: id }).exec();
  if (tenant) await releaseUnique(slugKind, PLATFORM_SCOPE, tenant.slug, id);
}
