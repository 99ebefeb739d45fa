/**
 * Unique-value claims as a crash would leave them: written straight to the collection, so a
 * test can show that a claim whose owner does not hold the value blocks nothing for long.
 */
import { expect } from 'chai';
import { newId } from '../../src/ids.js';
import { caseless, CLAIM_GRACE_MS, insertUniqueClaim } from '../../src/models/unique-claim.js';
import type { ApiResponse } from './http.js';

/** A claim kind and its scope, as the models name them. */
export interface ClaimScope {
  kind: 'user.email' | 'division.name' | 'role.name' | 'tenant.slug';
  /** The tenant id, or `platform` for slugs. */
  scopeId: string;
}

/**
 * Inserts a claim of `value` for `ownerId` (by default someone who does not exist), taken
 * `ageMs` ago (by default long past the grace period, as after a crash).
 */
export async function insertClaim(
  scope: ClaimScope,
  value: string,
  { ownerId = newId(), ageMs = 10 * CLAIM_GRACE_MS }: { ownerId?: string; ageMs?: number } = {},
): Promise<void> {
  await insertUniqueClaim(scope.kind, scope.scopeId, caseless(value), ownerId, new Date(Date.now() - ageMs));
}

/** Sends `make()` twice at once and expects exactly one 201 and one 409 (code `conflict`). */
export async function expectOneWinner(make: () => Promise<ApiResponse>): Promise<void> {
  const answers = await Promise.all([make(), make()]);
  const statuses = answers.map((r) => r.status).sort();
  expect(statuses, JSON.stringify(answers.map((r) => r.body))).to.deep.equal([201, 409]);
  expect(answers.find((r) => r.status === 409)?.body.code).to.equal('conflict');
}
