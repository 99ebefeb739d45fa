/**
 * Platform operators: super-admin accounts. They are not tenant users (no `tenant_id`, no role)
 * and live in their own collection, so no tenant query can ever find one.
 *
 * "Never delete the last one" is a counter on one roster document: a deletion first decrements
 * it on the condition that it stays at least one (a single-document conditional write, atomic
 * on every engine), so two concurrent deletions of the last two cannot both pass. The counter
 * only ever errs low (a crash between an insert and its increment, or between a decrement and
 * its delete), which refuses a deletion too many, never allows one too many.
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type BaseDoc } from './base.js';
import { collectionOf, findDocById, insertDoc } from './driver.js';
import { caseless, moveUnique, releaseUnique, type UniqueKind } from './unique-claim.js';

/** A stored super-admin account. */
export interface SuperAdmin extends BaseDoc {
  name: string;
  email: string;
  /** `email` lower-cased, for login lookups; uniqueness lives in the `super_admin.email` claim. */
  email_key: string;
  password_hash: string;
  /** Raised by a password reset: tokens carry the version they were issued under. */
  credentials_version: number;
  last_login_at: Date | null;
  /** The super admin who created this one; null for one created by the command line. */
  created_by: string | null;
}

const schema = baseSchema<SuperAdmin>(
  {
    name: { type: String, required: true },
    email: { type: String, required: true },
    email_key: { type: String, required: true },
    password_hash: { type: String, required: true },
    credentials_version: { type: Number, required: true },
    last_login_at: { type: Date, default: null },
    created_by: { type: String, default: null },
  },
  'super_admins',
);
// Serves login by e-mail (findSuperAdminByEmail); uniqueness is the claim (stale unique entries).
schema.index({ email_key: 1 });
// Serves the account list, oldest first.
schema.index({ created_at: 1, _id: 1 });

/** The super_admins collection. */
export const SuperAdminModel = model<SuperAdmin>('SuperAdmin', schema);

interface Roster {
  _id: string;
  count: number;
}

const RosterModel = model<Roster>(
  'SuperAdminRoster',
  new Schema<Roster>({ _id: { type: String, required: true }, count: { type: Number, required: true } }, { collection: 'super_admin_roster', versionKey: false }),
);
const ROSTER_ID = 'super-admins';

const PLATFORM_SCOPE = 'platform';

const emailKind: UniqueKind = {
  name: 'super_admin.email',
  normalize: caseless,
  async holds(_scope, ownerId, key) {
    const admin = await findSuperAdmin(ownerId);
    return admin !== null && admin.email_key === key;
  },
};

/** The account with this id, or null. */
export const findSuperAdmin = (id: string) => findDocById<SuperAdmin>(SuperAdminModel as never, id);

/** The account with this e-mail (any case), or null. */
export const findSuperAdminByEmail = (email: string) => SuperAdminModel.findOne({ email_key: caseless(email) }).lean<SuperAdmin>().exec();

/** Every account, oldest first (there are a handful). */
export const listSuperAdmins = () => SuperAdminModel.find({}).sort({ created_at: 1, _id: 1 }).limit(1000).lean<SuperAdmin[]>().exec();

/** Inserts an account, claiming its e-mail (a taken one rejects with 11000), and counts it on the roster. */
export async function insertSuperAdmin(doc: Omit<SuperAdmin, 'created_at' | 'updated_at'>): Promise<SuperAdmin> {
  const stored = await moveUnique(emailKind, PLATFORM_SCOPE, doc._id, null, doc.email, () => insertDoc<SuperAdmin>(SuperAdminModel, doc));
  await collectionOf(RosterModel).updateOne({ _id: ROSTER_ID }, { $inc: { count: 1 } }, { upsert: true });
  return stored;
}

/** Sets fields on an account (never its e-mail); null when it is gone. */
export const updateSuperAdmin = (id: string, set: Partial<Pick<SuperAdmin, 'password_hash' | 'last_login_at' | 'name'>>, inc?: { credentials_version: number }) =>
  SuperAdminModel.findByIdAndUpdate(id, { $set: set, ...(inc ? { $inc: inc } : {}) }, { returnDocument: 'after' }).lean<SuperAdmin>().exec();

/** What deleteSuperAdmin did. */
export type SuperAdminDeletion = 'deleted' | 'missing' | 'last';

/**
 * Deletes an account unless it is the last one: the roster is decremented only while it stays
 * at one or more, then the account removed; when another deletion removed it first, the
 * decrement is given back.
 */
export async function deleteSuperAdmin(id: string): Promise<SuperAdminDeletion> {
  const admin = await findSuperAdmin(id);
  if (!admin) return 'missing';
  const taken = await collectionOf(RosterModel).updateOne({ _id: ROSTER_ID, count: { $gt: 1 } }, { $inc: { count: -1 } });
  if (taken.modifiedCount !== 1) return 'last';
  const res = await SuperAdminModel.deleteOne({ _id: id }).exec();
  if (res.deletedCount !== 1) {
    await collectionOf(RosterModel).updateOne({ _id: ROSTER_ID }, { $inc: { count: 1 } });
    return 'missing';
  }
  await releaseUnique(emailKind, PLATFORM_SCOPE, admin.email, id);
  return 'deleted';
}
