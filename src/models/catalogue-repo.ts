/**
 * Data access for platform-wide catalogue collections (billing plans, coupons, add-ons): not
 * tenant-scoped (the platform operator owns them), each with a `code` unique across the platform.
 * Uniqueness lives in unique_claims (unique-claim.ts), not a unique index: codes can be renamed,
 * and on the embedded engine a unique index entry stays taken after an update (ARCHITECTURE,
 * "Storage engine facts").
 */
import type { Model } from 'mongoose';
import { ConflictError, isDuplicateKey, NotFoundError } from '../errors.js';
import type { BaseDoc } from './base.js';
import { findDocById, insertDoc } from './driver.js';
import { moveUnique, releaseUnique, type UniqueKind } from './unique-claim.js';

/** A catalogue document: it has a platform-unique code. */
export interface CatalogueDoc extends BaseDoc {
  code: string;
}

/** Data access for one catalogue collection. */
export interface CatalogueRepo<T extends CatalogueDoc> {
  /** The document with this id, or NotFoundError(resource). */
  findById(id: string): Promise<T>;
  /** The document with this id, or null. */
  findByIdOrNull(id: string): Promise<T | null>;
  /** The document with this code (normalized as the claims compare), or null. */
  findByCode(code: string): Promise<T | null>;
  /** The documents with these ids (missing ones left out). */
  findMany(ids: string[]): Promise<T[]>;
  /** Documents matching the filter (fields the collection indexes), sorted, at most `limit`. */
  find(filter: Record<string, unknown>, sort: Record<string, 1 | -1>, limit: number): Promise<T[]>;
  /** One page and the total matching. */
  page(filter: Record<string, unknown>, sort: Record<string, 1 | -1>, page: number, limit: number): Promise<{ items: T[]; total: number }>;
  /** Inserts, claiming the code; a taken code is a 409 naming it. */
  insert(doc: Omit<T, 'created_at' | 'updated_at'>): Promise<T>;
  /** Sets fields (moving the code claim when it changes); 404 when gone, 409 when the new code is taken. */
  update(id: string, set: Partial<Omit<T, '_id' | 'created_at' | 'updated_at'>>): Promise<T>;
  /** Deletes and frees the code; false when there was none. */
  remove(id: string): Promise<boolean>;
}

const PLATFORM_SCOPE = 'platform';

/** Builds the repository; `resource` names it in 404/409 messages, `normalize` is the code's comparison form. */
export function catalogueRepo<T extends CatalogueDoc>(model: Model<T>, resource: string, normalize: (code: string) => string): CatalogueRepo<T> {
  const findByIdOrNull = (id: string) => findDocById<T>(model as never, id);
  const findById = async (id: string): Promise<T> => {
    const doc = await findByIdOrNull(id);
    if (!doc) throw NotFoundError(resource);
    return doc;
  };
  const kind: UniqueKind = {
    name: `${model.collection.collectionName}.code`,
    normalize,
    async holds(_scope, ownerId, key) {
      const doc = await findByIdOrNull(ownerId);
      return doc !== null && normalize(doc.code) === key;
    },
  };
  const taken = (code: string) => ConflictError(`A ${resource.toLowerCase()} with the code ${code} already exists`);
  const claiming = async <R>(run: () => Promise<R>, code: string): Promise<R> => {
    try {
      return await run();
    } catch (err) {
      if (isDuplicateKey(err)) throw taken(code);
      throw err;
    }
  };
  return {
    findById,
    findByIdOrNull,
    findByCode: (code) => model.findOne({ code: normalize(code) }).lean<T>().exec(),
    findMany: async (ids) => (ids.length === 0 ? [] : model.find({ _id: { $in: [...new Set(ids)] } }).lean<T[]>().exec()),
    find: (filter, sort, limit) => model.find(filter).sort(sort).limit(limit).lean<T[]>().exec(),
    async page(filter, sort, page, limit) {
      const [items, total] = await Promise.all([
        model.find(filter).sort(sort).skip((page - 1) * limit).limit(limit).lean<T[]>().exec(),
        model.countDocuments(filter).exec(),
      ]);
      return { items, total };
    },
    insert: (doc) =>
      claiming(() => moveUnique(kind, PLATFORM_SCOPE, doc._id, null, doc.code, () => insertDoc<T>(model, { ...doc, code: normalize(doc.code) })), doc.code),
    async update(id, set) {
      const before = await findById(id);
      const write = async () => {
        const updated = await model
          .findByIdAndUpdate(id, { $set: (set.code === undefined ? set : { ...set, code: normalize(set.code) }) as Partial<T> }, { returnDocument: 'after' })
          .lean<T>()
          .exec();
        if (!updated) throw NotFoundError(resource);
        return updated;
      };
      if (set.code === undefined) return write();
      const code = set.code;
      return claiming(() => moveUnique(kind, PLATFORM_SCOPE, id, before.code, code, write), code);
    },
    async remove(id) {
      const before = await findByIdOrNull(id);
      if (!before) return false;
      const res = await model.deleteOne({ _id: id }).exec();
      if (res.deletedCount !== 1) return false;
      await releaseUnique(kind, PLATFORM_SCOPE, before.code, id);
      return true;
    },
  };
}
