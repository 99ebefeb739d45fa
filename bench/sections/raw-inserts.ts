/**
 * The throughput baseline: single-document inserts, 16 at a time, through the raw driver into
 * the run's database, with nothing else running. Documents are about the size of a stored message.
 */
import { randomUUID } from 'node:crypto';
import type mongoose from 'mongoose';

async function insertFor(raw: mongoose.mongo.Collection<{ _id: string } & Record<string, unknown>>, seconds: number): Promise<number> {
  let inserts = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < end) {
        await raw.insertOne({ _id: randomUUID(), tenant_id: randomUUID(), direction: 'inbound', type: 'text', text: 'Halo, pesanan saya belum sampai', status: 'received', sent_at: new Date(), created_at: new Date() });
        inserts++;
      }
    }),
  );
  return inserts / ((performance.now() - started) / 1000);
}

/** Inserts for `seconds` after an untimed second; answers documents per second. */
export async function measureRawInserts(db: mongoose.mongo.Db, seconds: number): Promise<number> {
  const raw = db.collection<{ _id: string } & Record<string, unknown>>('bench_raw_inserts');
  await insertFor(raw, 1);
  const rate = await insertFor(raw, seconds);
  await raw.drop();
  return rate;
}
