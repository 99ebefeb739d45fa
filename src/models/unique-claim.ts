/**
 * Uniqueness of mutable values (an agent's e-mail, a division or role name, a tenant's slug)
 * kept in claim documents instead of unique indexes. A claim's `_id` is the natural key
 * (kind + scope + value), so taking a value is an insert and freeing it is a delete: atomic on
 * MongoDB 7 and on secantusd-rs alike (invariant 10). Unique indexes cannot do this job here:
 * on secantusd-rs an index entry goes stale when an update changes the field, and the old value
 * stays taken (ARCHITECTURE, "Storage engine facts").
 *
 * A value moves in three steps: claim the new one, write the owner document, release the old
 * one. A crash between them leaves a claim whose owner does not hold the value; the next claimer
 * takes it over once it is older than any write in flight could be (CLAIM_GRACE_MS).
 */
import { model } from 'mongoose';
import { isDuplicateKey } from '../errors.js';
import { naturalId } from '../ids.js';
import { baseSchema, type BaseDoc, type TenantDoc } from './base.js';
import type { NewDoc, TenantRepo } from './repo.js';

/** A stored claim: `key` of `kind` within `scope_id` belongs to `owner_id`. */
export interface UniqueClaim extends BaseDoc {
  kind: string;
  scope_id: string;
  /** The value as compared (normalized). */
  key: string;
  owner_id: string;
  /** When the current owner took it; a takeover compares it, so a refresh fences one out. */
  claimed_at: Date;
}

const schema = baseSchema<UniqueClaim>(
  {
    kind: { type: String, required: true },
    scope_id: { type: String, required: true },
    key: { type: String, required: true },
    owner_id: { type: String, required: true },
    claimed_at: { type: Date, required: true },
  },
  'unique_claims',
);
// No secondary index: claims are only ever read, replaced and deleted by `_id`.

/** The unique_claims collection. */
export const UniqueClaimModel = model<UniqueClaim>('UniqueClaim', schema);

/**
 * How long a claim whose owner does not (yet) hold the value still counts as taken: the owner
 * may be between its claim and its own write. Far longer than that write, short enough that a
 * value stranded by a crash frees itself soon.
 */
export const CLAIM_GRACE_MS = 2 * 60_000;

/** One family of unique values. */
export interface UniqueKind {
  /** Part of every claim id, e.g. `user.email`; changing it orphans existing claims. */
  name: string;
  /** The form in which two values count as the same. */
  normalize(value: string): string;
  /** True when the owner document still has this (normalized) value; otherwise its claim is dangling. */
  holds(scopeId: string, ownerId: string, key: string): Promise<boolean>;
}

/** Case-insensitive comparison, as the API compares e-mails, names and slugs. */
export const caseless = (value: string): string => value.toLowerCase();

/** The claim id of a value. */
export const claimId = (kind: string, scopeId: string, key: string): string => naturalId('unique', kind, scopeId, key);

// A takeover or refresh that loses a race looks again; each lost race means another claimer won.
const MAX_ATTEMPTS = 5;

/** Takes `value` for `ownerId`; rejects with the claim's duplicate-key error (11000) when someone else holds it. */
export async function claimUnique(kind: UniqueKind, scopeId: string, value: string, ownerId: string): Promise<void> {
  const key = kind.normalize(value);
  const _id = claimId(kind.name, scopeId, key);
  let lost: unknown;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      await UniqueClaimModel.create({ _id, kind: kind.name, scope_id: scopeId, key, owner_id: ownerId, claimed_at: new Date() });
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      lost = err;
    }
    const claim = await UniqueClaimModel.findById(_id).lean<UniqueClaim>().exec();
    if (!claim) continue; // released meanwhile: insert again
    const ours = claim.owner_id === ownerId;
    if (!ours && !(await isDangling(kind, claim))) throw lost;
    // Ours (a retry, or a value coming back) or dangling: take it with a fresh date. Filtering on
    // the date read fences out anyone who took or refreshed it since.
    const res = await UniqueClaimModel.updateOne(
      { _id, owner_id: claim.owner_id, claimed_at: claim.claimed_at },
      { $set: { owner_id: ownerId, claimed_at: new Date() } },
    ).exec();
    if (res.matchedCount === 1) return;
  }
  throw lost;
}

async function isDangling(kind: UniqueKind, claim: UniqueClaim): Promise<boolean> {
  if (Date.now() - claim.claimed_at.getTime() < CLAIM_GRACE_MS) return false;
  return !(await kind.holds(claim.scope_id, claim.owner_id, claim.key));
}

/**
 * Stores a claim of the normalized `key` for `ownerId`, dated `claimedAt`, without the checks
 * claimUnique makes: for restoring claims, or reproducing what a crash leaves behind.
 */
export async function insertUniqueClaim(kind: string, scopeId: string, key: string, ownerId: string, claimedAt: Date): Promise<void> {
  await UniqueClaimModel.create({ _id: claimId(kind, scopeId, key), kind, scope_id: scopeId, key, owner_id: ownerId, claimed_at: claimedAt });
}

/** Frees `value` if `ownerId` holds its claim; a claim someone else took over stays theirs. */
export async function releaseUnique(kind: UniqueKind, scopeId: string, value: string, ownerId: string): Promise<void> {
  await UniqueClaimModel.deleteOne({ _id: claimId(kind.name, scopeId, kind.normalize(value)), owner_id: ownerId }).exec();
}

/**
 * Moves `ownerId` from value `from` to value `to` around `write` (null: none, as on insert or
 * delete): claims `to`, writes, then releases `from`. When the write fails, `to` is released
 * again unless the owner holds it after all (a write that landed but answered with an error).
 */
export async function moveUnique<T>(
  kind: UniqueKind,
  scopeId: string,
  ownerId: string,
  from: string | null,
  to: string | null,
  write: () => Promise<T>,
): Promise<T> {
  if (from !== null && to !== null && kind.normalize(from) === kind.normalize(to)) return write();
  if (to !== null) await claimUnique(kind, scopeId, to, ownerId);
  let result: T;
  try {
    result = await write();
  } catch (err) {
    if (to !== null && !(await kind.holds(scopeId, ownerId, kind.normalize(to)))) {
      await releaseUnique(kind, scopeId, to, ownerId);
    }
    throw err;
  }
  if (from !== null) await releaseUnique(kind, scopeId, from, ownerId);
  return result;
}

/** Which value of a tenant-owned document is unique within its tenant. */
export interface UniqueField<T extends TenantDoc> {
  /** The claim kind, e.g. `role.name`. */
  kind: string;
  /** The fields `valueOf` reads; an update touching none of them needs no claim. */
  fields: (keyof T & string)[];
  /** The value the document holds, or null when it holds none (e.g. soft-deleted). */
  valueOf(doc: NewDoc<T>): string | null;
  /** Comparison form; case-insensitive when absent. */
  normalize?: (value: string) => string;
}

/**
 * The repository with `field` kept unique per tenant by claims: insert, update, remove and
 * removeMany take and free them, so no caller (services, actors, tests) can bypass them.
 */
export function withUniqueClaims<T extends TenantDoc>(repo: TenantRepo<T>, field: UniqueField<T>): TenantRepo<T> {
  const kind: UniqueKind = {
    name: field.kind,
    normalize: field.normalize ?? caseless,
    async holds(scopeId, ownerId, key) {
      const doc = await repo.findOwnedOrNull(scopeId, ownerId);
      const value = doc && field.valueOf(doc);
      return value !== null && kind.normalize(value) === key;
    },
  };
  const remove = async (tenantId: string, id: string): Promise<boolean> => {
    const before = await repo.findOwnedOrNull(tenantId, id);
    const removed = await repo.remove(tenantId, id);
    const value = removed && before ? field.valueOf(before) : null;
    if (value !== null) await releaseUnique(kind, tenantId, value, id);
    return removed;
  };
  return {
    ...repo,
    insert: (doc) => moveUnique(kind, doc.tenant_id, doc._id, null, field.valueOf(doc), () => repo.insert(doc)),
    async update(tenantId, id, set) {
      if (!field.fields.some((f) => f in set)) return repo.update(tenantId, id, set);
      const before = await repo.findOwned(tenantId, id);
      const after = { ...before, ...set };
      return moveUnique(kind, tenantId, id, field.valueOf(before), field.valueOf(after), () => repo.update(tenantId, id, set));
    },
    remove,
    async removeMany(filter) {
      // One by one, so each frees exactly its own value; the sets removed are small (a registration undone).
      const doomed = await repo.find(filter);
      const removed = await Promise.all(doomed.map((doc) => remove(doc.tenant_id, doc._id)));
      return removed.filter(Boolean).length;
    },
  };
}
