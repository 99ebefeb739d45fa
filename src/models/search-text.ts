/**
 * Folded search copies: each searchable collection keeps `search_text`, its searched fields
 * lower-cased with diacritics removed (Unicode NFKD, marks dropped: "José" is stored "jose"), so
 * a search is one case-sensitive literal `$regex` (src/services/text-match.ts, searchFilter).
 * secantusd-rs runs a case-insensitive `$regex` 40 times slower than a literal one (measured
 * over 5,000 contacts: 1.9 s against 51 ms), and the answers are the same on MongoDB 7.
 *
 * The copy is written by the repository (withSearchText), so every caller of insert and update
 * keeps it; writes that bypass the repository (contact enrichment) use the same helpers. An
 * update of a searched field is compare-and-set on the searched fields as read, so two writers
 * changing different searched fields of one document at once cannot leave a copy built from a
 * state that never existed. Documents stored before the copy existed lack the field until the
 * startup backfill (backfillSearchText) reaches them; the query falls back for those alone.
 */
import type { Model } from 'mongoose';
import { isDuplicateKey } from '../errors.js';
import type { TenantDoc } from './base.js';
import { collectionOf } from './driver.js';
import type { TenantRepo } from './repo.js';

/** A document that carries a folded search copy. */
export interface Searchable {
  /** searchTextOf its searched fields; absent on documents the backfill has not reached yet. */
  search_text?: string;
}

/** The same text as folded for search: NFKD, combining marks removed, lower case. */
export const foldText = (text: string): string => text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();

// Between two fields of the copy: nobody types it, so a query cannot match across fields.
const FIELD_SEPARATOR = '\u001f';

/** The folded search copy of a document's searched fields (null and empty fields left out). */
export function searchTextOf<T>(doc: Partial<T>, fields: readonly (keyof T & string)[]): string {
  const values = fields.map((f) => doc[f]).filter((v): v is T[keyof T & string] & string => typeof v === 'string' && v !== '');
  return values.map(foldText).join(FIELD_SEPARATOR);
}

/** A filter matching the searched fields exactly as they were read (null also matches a missing field). */
export const searchedAsRead = <T>(doc: Partial<T>, fields: readonly (keyof T & string)[]): Record<string, unknown> =>
  Object.fromEntries(fields.map((f) => [f, doc[f] ?? null]));

/** True when the change sets one of the searched fields. */
export const touchesSearched = <T>(set: Partial<T>, fields: readonly (keyof T & string)[]): boolean => fields.some((f) => f in set);

// A compare-and-set that keeps losing means other writers keep changing the same document.
const MAX_ATTEMPTS = 5;

/**
 * The repository with `search_text` kept on insert and on every update that sets a searched
 * field. Wrap the plain tenantRepo (withUniqueClaims goes outside), so callers cannot miss it.
 */
export function withSearchText<T extends TenantDoc & Searchable>(repo: TenantRepo<T>, model: Model<T>, fields: readonly (keyof T & string)[]): TenantRepo<T> {
  return {
    ...repo,
    insert: (doc) => repo.insert({ ...doc, search_text: searchTextOf<T>(doc as Partial<T>, fields) }),
    async update(tenantId, id, set) {
      if (!touchesSearched(set, fields)) return repo.update(tenantId, id, set);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const before = await repo.findOwned(tenantId, id);
        const search_text = searchTextOf<T>({ ...before, ...set }, fields);
        const updated = await model
          .findOneAndUpdate({ _id: id, tenant_id: tenantId, ...searchedAsRead(before, fields) }, { $set: { ...set, search_text } }, { returnDocument: 'after', runValidators: true })
          .lean<T>()
          .exec();
        if (updated) return updated;
      }
      throw new Error(`${model.collection.collectionName} ${id}: searched fields kept changing during the update`);
    },
  };
}

/** Progress of one collection's backfill, shared by every process: `_id` is the collection name. */
interface BackfillProgress {
  _id: string;
  /** Every document up to this `_id` has been looked at. */
  after_id: string;
  done_at: Date | null;
}

/** How a backfill runs. */
export interface BackfillOptions {
  /** Documents read per batch. */
  batch: number;
  /** Pause between batches, so live traffic keeps the database. */
  pauseMs: number;
  /** True once the backfill should stop (the server is closing). */
  stopped(): boolean;
  /** Progress lines. */
  log(fields: Record<string, unknown>, message: string): void;
}

const progressOf = (model: Model<never>) => model.db.collection<BackfillProgress>('search_text_backfills');

/** Moves the shared cursor forward (never back: several processes may walk at once). */
async function advance(model: Model<never>, name: string, set: Pick<Partial<BackfillProgress>, 'after_id' | 'done_at'>): Promise<void> {
  const progress = progressOf(model);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const update = set.after_id ? { $max: { after_id: set.after_id }, $setOnInsert: { done_at: null } } : { $set: { done_at: set.done_at ?? null } };
      await progress.updateOne({ _id: name }, update, { upsert: true });
      return;
    } catch (err) {
      // Two processes upserting the first progress document: the loser updates it.
      if (!isDuplicateKey(err)) throw err;
    }
  }
}

/**
 * Fills `search_text` on the documents of `model` that lack it, in `_id` order, `batch` at a
 * time; answers how many it filled. Idempotent and safe with several processes: each write is
 * conditional on the field still missing and the searched fields unchanged since the read (a
 * document rewritten meanwhile got its copy from the repository), and the shared cursor lets a
 * process skip what another already walked. Once a collection is done it is not walked again.
 */
export async function backfillSearchText<T extends Searchable>(model: Model<T>, fields: readonly (keyof T & string)[], opts: BackfillOptions): Promise<number> {
  const m = model as unknown as Model<never>;
  const name = model.collection.collectionName;
  const progress = progressOf(m);
  const collection = collectionOf(m);
  const projection = Object.fromEntries([...fields, 'search_text'].map((f) => [f, 1]));
  let filled = 0;
  let batches = 0;
  while (!opts.stopped()) {
    const state = await progress.findOne({ _id: name });
    if (state?.done_at) break;
    const after = state?.after_id ?? '';
    const docs = await collection.find({ _id: { $gt: after } }, { projection }).sort({ _id: 1 }).limit(opts.batch).toArray();
    const last = docs.at(-1);
    if (!last) {
      await advance(m, name, { done_at: new Date() });
      opts.log({ collection: name, filled }, 'search_text backfill done');
      break;
    }
    const lacking = docs.filter((d) => typeof d.search_text !== 'string');
    if (lacking.length > 0) {
      const res = await collection.bulkWrite(
        lacking.map((d) => ({
          updateOne: {
            filter: { _id: d._id, search_text: { $exists: false }, ...searchedAsRead<T>(d as unknown as Partial<T>, fields) },
            update: { $set: { search_text: searchTextOf<T>(d as unknown as Partial<T>, fields) } },
          },
        })),
        { ordered: false },
      );
      filled += res.modifiedCount;
    }
    await advance(m, name, { after_id: last._id });
    if (++batches % 20 === 0) opts.log({ collection: name, filled, after_id: last._id }, 'search_text backfill progress');
    if (opts.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
  }
  return filled;
}

/** Forgets a collection's backfill progress, so the next run walks it again (tests, and a change of folding). */
export async function resetSearchTextBackfill(model: Model<never>): Promise<void> {
  await progressOf(model).deleteOne({ _id: model.collection.collectionName });
}
