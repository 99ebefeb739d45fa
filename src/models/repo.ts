/**
 * Tenant-scoped data access. Every filter must name `tenant_id`, so a query that forgets the
 * tenant does not compile; single documents are read by `_id` and then checked for ownership,
 * so another tenant's id is a 404.
 */
import type { Model } from 'mongoose';
import { NotFoundError } from '../errors.js';
import type { TenantDoc } from './base.js';
import { findDocById, insertDoc } from './driver.js';

/** A filter that always names the tenant. */
export type Scoped = { tenant_id: string } & Record<string, unknown>;

/** Sort order: field -> 1 | -1. Always end with `_id` for a stable order. */
export type Sort = Record<string, 1 | -1>;

/** One page of a list. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
}

/** The fields a caller supplies on insert. */
export type NewDoc<T extends TenantDoc> = Omit<T, 'created_at' | 'updated_at'>;

/** Data access for one tenant-owned collection. */
export interface TenantRepo<T extends TenantDoc> {
  /** The document with this id in this tenant, or NotFoundError(resource). */
  findOwned(tenantId: string, id: string): Promise<T>;
  /** The document with this id in this tenant, or null. */
  findOwnedOrNull(tenantId: string, id: string): Promise<T | null>;
  /** Documents matching the scoped filter. */
  find(filter: Scoped, sort?: Sort, limit?: number): Promise<T[]>;
  /** The tenant's documents with these ids (any order; missing and other tenants' ids left out). */
  findMany(tenantId: string, ids: string[]): Promise<T[]>;
  /** One page of documents matching the scoped filter. */
  page(filter: Scoped, sort: Sort, page: number, limit: number): Promise<Page<T>>;
  /** How many documents match. */
  count(filter: Scoped): Promise<number>;
  /** Inserts a document; a duplicate `_id` or unique key rejects with code 11000. */
  insert(doc: NewDoc<T>): Promise<T>;
  /** Sets fields on an owned document and returns it as stored. */
  update(tenantId: string, id: string, set: Partial<T>): Promise<T>;
  /** Deletes an owned document; false when there was none. */
  remove(tenantId: string, id: string): Promise<boolean>;
  /** Deletes every document matching the scoped filter. */
  removeMany(filter: Scoped): Promise<number>;
}

/** Builds the scoped repository for a model; `resource` names it in 404 messages. */
export function tenantRepo<T extends TenantDoc>(model: Model<T>, resource: string): TenantRepo<T> {
  const findOwnedOrNull = async (tenantId: string, id: string): Promise<T | null> => {
    const doc = await findDocById<T>(model as never, id);
    return doc && doc.tenant_id === tenantId ? doc : null;
  };
  const findOwned = async (tenantId: string, id: string): Promise<T> => {
    const doc = await findOwnedOrNull(tenantId, id);
    if (!doc) throw NotFoundError(resource);
    return doc;
  };
  return {
    findOwned,
    findOwnedOrNull,
    find: (filter, sort = { created_at: 1, _id: 1 }, limit = 0) =>
      model.find(filter).sort(sort).limit(limit).lean<T[]>().exec(),
    findMany: async (tenantId, ids) =>
      ids.length === 0 ? [] : model.find({ _id: { $in: [...new Set(ids)] }, tenant_id: tenantId }).lean<T[]>().exec(),
    async page(filter, sort, page, limit) {
      const [items, total] = await Promise.all([
        model
          .find(filter)
          .sort(sort)
          .skip((page - 1) * limit)
          .limit(limit)
          .lean<T[]>()
          .exec(),
        model.countDocuments(filter).exec(),
      ]);
      return { items, total, page, limit };
    },
    count: (filter) => model.countDocuments(filter).exec(),
    insert: (doc) => insertDoc(model, doc),
    async update(tenantId, id, set) {
      await findOwned(tenantId, id);
      const updated = await model
        .findByIdAndUpdate(id, { $set: set }, { returnDocument: 'after', runValidators: true })
        .lean<T>()
        .exec();
      if (!updated) throw NotFoundError(resource);
      return updated;
    },
    async remove(tenantId, id) {
      if (!(await findOwnedOrNull(tenantId, id))) return false;
      const res = await model.deleteOne({ _id: id }).exec();
      return res.deletedCount === 1;
    },
    async removeMany(filter) {
      const res = await model.deleteMany(filter).exec();
      return res.deletedCount;
    },
  };
}
