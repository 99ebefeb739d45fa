/** The MongoDB connection (MongoDB 7 in production, the embedded secantusd-rs in development and tests). */
import mongoose, { type Model } from 'mongoose';
import { logger } from './logger.js';

/** Opens the default mongoose connection and builds the indexes every model declares. */
export async function connectDatabase(uri: string): Promise<typeof mongoose> {
  mongoose.set('strictQuery', true);
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: false });
  const models = Object.values(mongoose.models);
  await Promise.all(models.map(dropRetiredUniqueIndexes));
  await Promise.all(models.map((m) => m.createIndexes()));
  return mongoose;
}

// MongoDB's "namespace not found": the collection does not exist yet, so it has no indexes.
const NAMESPACE_NOT_FOUND = 26;

/**
 * Drops unique indexes a model no longer declares unique (those on e-mails, names and slugs
 * became claims). Left in place they would keep refusing values, and createIndexes refuses to
 * turn one into its non-unique twin (IndexKeySpecsConflict, code 86), so an older database
 * would not boot.
 */
async function dropRetiredUniqueIndexes(m: Model<unknown>): Promise<void> {
  const declared = new Set(m.schema.indexes().filter(([, options]) => options.unique).map(([keys]) => JSON.stringify(keys)));
  let existing: { name?: string; key: Record<string, unknown>; unique?: boolean }[];
  try {
    existing = await m.collection.listIndexes().toArray();
  } catch (err) {
    if ((err as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return;
    throw err;
  }
  for (const { name, key, unique } of existing) {
    if (!unique || !name || name === '_id_' || declared.has(JSON.stringify(key))) continue;
    logger.warn({ collection: m.collection.collectionName, index: name }, 'dropping a unique index the schema no longer declares');
    await m.collection.dropIndex(name);
  }
}

/** Round-trips a ping to the database; rejects when it is unreachable. */
export async function pingDatabase(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('database not connected');
  await db.command({ ping: 1 });
}
