/**
 * The database-side fence of actor writes (ARCHITECTURE invariant 4): a write filtered on the
 * `version` the actor read, checked by `matchedCount`. A process that lost its lease while its
 * handler was paused finds the version moved on and is refused instead of overwriting the new
 * owner's state; single-document updates are atomic on MongoDB and on the embedded engine.
 */
import { StaleWriteError } from '../errors.js';

/** The one model method a versioned write needs (any mongoose model has it). */
interface Updatable {
  updateOne(filter: { _id: string; version: number }, update: object, options: { timestamps: false }): { exec(): Promise<{ matchedCount: number }> };
}

/** Applies `update` only if the document still has `version`; throws StaleWriteError otherwise. */
export async function writeVersioned(model: Updatable, resource: string, id: string, version: number, update: object): Promise<void> {
  const res = await model.updateOne({ _id: id, version }, update, { timestamps: false }).exec();
  if (res.matchedCount !== 1) throw new StaleWriteError(resource, id, version);
}
