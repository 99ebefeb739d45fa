/**
 * Writes through the driver, without mongoose's document machinery: hydrating and validating a
 * document costs about 1 ms of CPU per insert (measured under load, against 0.3 ms for the
 * driver's insert), the largest single cost of the inbound path. Documents are built whole by our
 * own typed code (the repositories' NewDoc types require every field), so they are stored as
 * given; the schema's timestamps are set here. A duplicate `_id` or unique key rejects with 11000.
 *
 * Single inserts group-commit per collection (src/group-commit.ts): inserts that arrive while
 * one is on its way go together as one unordered insertMany, and each caller gets its own
 * document's outcome (a duplicate rejects only its own insert). Every command costs the server
 * process a few hundred microseconds of CPU here whatever its size, so under load this is most
 * of what the inbound path's throughput is made of; alone, an insert waits for nothing.
 */
import type { Model, mongo } from 'mongoose';
import { isDuplicateKey } from '../errors.js';
import { GroupCommit } from '../group-commit.js';

/** A model's driver collection, typed with our string `_id`s. */
export const collectionOf = (model: Pick<Model<never>, 'collection'>) => model.collection as unknown as mongo.Collection<{ _id: string } & mongo.Document>;

const stamped = (model: Model<never>) => Boolean(model.schema.get('timestamps'));

function prepare<T>(model: Model<T>, doc: object, now: Date): T {
  const stored = { ...doc } as T & { created_at?: Date; updated_at?: Date };
  if (stamped(model as unknown as Model<never>)) {
    stored.created_at ??= now;
    stored.updated_at ??= now;
  }
  return stored;
}

/** One document of a batched insert, and its collection. */
interface PendingInsert {
  collection: mongo.Collection<{ _id: string } & mongo.Document>;
  doc: object;
}

/** A document's own failure within a batch, in the driver's error shape (code 11000 for a duplicate). */
class InsertError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = 'InsertError';
  }
}

/** One unordered insertMany; answers each document's own failure (null: stored), in order. */
async function insertEach(collection: mongo.Collection<{ _id: string } & mongo.Document>, docs: object[]): Promise<(InsertError | null)[]> {
  try {
    await collection.insertMany(docs as never[], { ordered: false });
    return docs.map(() => null);
  } catch (err) {
    const writeErrors = (err as { writeErrors?: { index: number; code?: number; errmsg?: string }[] }).writeErrors;
    // Not one document's problem (the connection, the server): every insert of the batch fails.
    if (!Array.isArray(writeErrors)) throw err;
    const failed = new Map(writeErrors.map((e) => [e.index, new InsertError(e.errmsg ?? 'insert failed', e.code)]));
    return docs.map((_, i) => failed.get(i) ?? null);
  }
}

const inserts = new GroupCommit<PendingInsert, InsertError | null>((_collection, items) =>
  insertEach((items[0] as PendingInsert).collection, items.map((i) => i.doc)),
);

/** Inserts one document (group-committed with its collection's concurrent inserts); answers it as stored. */
export async function insertDoc<T>(model: Model<T>, doc: object): Promise<T> {
  const stored = prepare(model, doc, new Date());
  const collection = collectionOf(model);
  const [failure] = await inserts.add(collection.collectionName, [{ collection, doc: stored as object }]);
  if (failure) throw failure;
  return stored;
}

// Reads by `_id` group the same way: the ids asked for while one read of a collection is on its
// way are read together with `$in` (a single-document read costs a command like any other).
const reads = new GroupCommit<{ collection: mongo.Collection<{ _id: string } & mongo.Document>; id: string }, mongo.Document | null>(async (_collection, items) => {
  const collection = (items[0] as { collection: mongo.Collection<{ _id: string } & mongo.Document> }).collection;
  const ids = [...new Set(items.map((i) => i.id))];
  const found = await collection.find({ _id: ids.length === 1 ? (ids[0] as string) : { $in: ids } }).toArray();
  const byId = new Map(found.map((d) => [d._id, d]));
  return items.map((i) => byId.get(i.id) ?? null);
});

/** The document with this `_id`, or null (batched with its collection's concurrent reads by id). */
export async function findDocById<T>(model: Pick<Model<never>, 'collection'>, id: string): Promise<T | null> {
  const collection = collectionOf(model);
  const [doc] = await reads.add(collection.collectionName, [{ collection, id }]);
  return (doc ?? null) as T | null;
}

/** Inserts a document under a natural `_id` (an exactly-once claim); false when it was taken. */
export async function insertClaim<T>(model: Model<T>, doc: object): Promise<boolean> {
  try {
    await insertDoc(model, doc);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * Inserts documents under natural `_id`s in one unordered command (exactly-once claims, many at
 * a time); answers, per document and in order, whether this call stored it (false: it was taken).
 */
export async function insertClaims<T>(model: Model<T>, docs: object[]): Promise<boolean[]> {
  if (docs.length === 0) return [];
  const now = new Date();
  const failures = await insertEach(collectionOf(model), docs.map((d) => prepare(model, d, now) as object));
  const other = failures.find((f) => f !== null && !isDuplicateKey(f));
  if (other) throw other;
  return failures.map((f) => f === null);
}

/** Inserts documents in one command; `ordered: false` goes on past duplicates (rejecting with them after). */
export async function insertDocs<T>(model: Model<T>, docs: object[], ordered = true): Promise<T[]> {
  if (docs.length === 0) return [];
  const now = new Date();
  const stored = docs.map((d) => prepare(model, d, now));
  await collectionOf(model).insertMany(stored as never[], { ordered });
  return stored;
}
