/** The MongoDB connection (MongoDB 7 in production, the embedded secantusd-rs in development and tests). */
import mongoose from 'mongoose';

/** Opens the default mongoose connection and builds the indexes every model declares. */
export async function connectDatabase(uri: string): Promise<typeof mongoose> {
  mongoose.set('strictQuery', true);
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: false });
  await Promise.all(Object.values(mongoose.models).map((m) => m.createIndexes()));
  return mongoose;
}

/** Round-trips a ping to the database; rejects when it is unreachable. */
export async function pingDatabase(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('database not connected');
  await db.command({ ping: 1 });
}
