/**
 * The database-side fence of actor writes (ARCHITECTURE invariant 4): a write filtered on the
 * `version` the actor read, checked by `matchedCount`. A process that lost its lease while its
 * handler was paused finds the version moved on and is refused instead of overwriting the new
 * owner's state; single-document updates are atomic on MongoDB and on the embedded engine.
 */
import type { Model } from 'mongoose';
import { StaleWriteError } from '../errors.js';
import { collectionOf } from './driver.js';


/**
 * Applies `update` only if the document still has `version`; throws StaleWriteError otherwise.
 * Through the driver: the values come from the actor's typed state (see insert.ts for why).
 */
export async function writeVersioned(model: Pick<Model<never>, 'collection'>, resource: string, id: string, version: number, update: object): Promise<void> {
  const res = await collectionOf(model).updateOne({ _id: id, version }, update);
  if (res.matchedCount !== 1) throw new StaleWriteError(resource, id, version);
}
