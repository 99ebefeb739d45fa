/** A tenant organization: the unit of isolation. Not tenant-scoped itself. */
import { model } from 'mongoose';
import { baseSchema, type BaseDoc } from './base.js';

/** A stored tenant. */
export interface Tenant extends BaseDoc {
  name: string;
  slug: string;
  timezone: string;
  timezone_updated_at: Date;
  status: 'active' | 'suspended';
}

const schema = baseSchema<Tenant>(
  {
    name: { type: String, required: true },
    slug: { type: String, required: true },
    timezone: { type: String, required: true },
    timezone_updated_at: { type: Date, required: true },
    status: { type: String, required: true, enum: ['active', 'suspended'] },
  },
  'tenants',
);
// Serves the public working-hours status lookup by slug and makes slugs unique.
schema.index({ slug: 1 }, { unique: true });

/** The tenants collection. */
export const TenantModel = model<Tenant>('Tenant', schema);

/** The tenant with this id or slug, or null. */
export async function findTenantByIdOrSlug(idOrSlug: string): Promise<Tenant | null> {
  const byId = await TenantModel.findById(idOrSlug).lean<Tenant>().exec();
  return byId ?? TenantModel.findOne({ slug: idOrSlug.toLowerCase() }).lean<Tenant>().exec();
}

/** The tenant with this id, or null. */
export const findTenant = (id: string) => TenantModel.findById(id).lean<Tenant>().exec();

/** Inserts a tenant; a taken slug rejects with code 11000. */
export const insertTenant = async (doc: Omit<Tenant, 'created_at' | 'updated_at'>) =>
  (await TenantModel.create(doc)).toObject() as Tenant;

/** Sets fields on a tenant. */
export const updateTenant = (id: string, set: Partial<Tenant>) =>
  TenantModel.findByIdAndUpdate(id, { $set: set }, { returnDocument: 'after' }).lean<Tenant>().exec();

/** Removes a tenant (only used to undo a half-finished registration). */
export const deleteTenant = (id: string) => TenantModel.deleteOne({ _id: id }).exec();
