/**
 * Platform counters (invoice numbers): one document per counter, `_id` its name, `seq` the last
 * number given and `holder` the invoice that took it. Advancing is a compare-and-set on `seq`
 * (atomic on every engine), and the number is written to its holder after; a writer that finds
 * the last holder without its number writes it first (roll forward), so a crash between the two
 * writes leaves no gap and no number is given twice (services/billing-invoices.ts).
 */
import { model } from 'mongoose';
import { collectionOf } from './driver.js';
import { Schema } from 'mongoose';

/** A counter. */
export interface BillingCounter {
  _id: string;
  seq: number;
  /** The document that took `seq` (its number may still have to be written). */
  holder: string | null;
  updated_at: Date;
}

const schema = new Schema<BillingCounter>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true }, holder: { type: String, default: null }, updated_at: { type: Date, required: true } },
  { collection: 'billing_counters', versionKey: false },
);

/** The billing_counters collection. */
export const BillingCounterModel = model<BillingCounter>('BillingCounter', schema);

/** The counter as stored, created at 0 when absent (an upsert by `_id` creates it once). */
export async function readCounter(name: string): Promise<BillingCounter> {
  const collection = collectionOf(BillingCounterModel);
  const found = (await collection.findOne({ _id: name })) as unknown as BillingCounter | null;
  if (found) return found;
  await collection.updateOne({ _id: name }, { $setOnInsert: { seq: 0, holder: null, updated_at: new Date() } }, { upsert: true });
  return (await collection.findOne({ _id: name })) as unknown as BillingCounter;
}

/** Moves the counter from `from` to `from + 1` held by `holder`; false when another writer moved it first. */
export async function advanceCounter(name: string, from: number, holder: string): Promise<boolean> {
  const res = await collectionOf(BillingCounterModel).updateOne({ _id: name, seq: from }, { $set: { seq: from + 1, holder, updated_at: new Date() } });
  return res.modifiedCount === 1;
}
