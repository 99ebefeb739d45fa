/**
 * Idempotent billing requests (the `Idempotency-Key` header, as payment APIs use it): the first
 * request with a key claims it by `_id` (tenant + operation + key) and its answer is stored; the
 * same key with the same body answers the stored answer without doing anything again; the same
 * key with another body is a 422, and while the first is still running a 409. A request that
 * fails frees its key, so it can be tried again.
 */
import { createHash } from 'node:crypto';
import { AppError, ConflictError } from '../errors.js';
import { claimIdempotencyKey, completeIdempotentRequest, findIdempotentRequest, idempotencyIdOf, releaseIdempotencyKey } from '../models/billing-subscription.js';

/** A stored answer: its status and body. */
export interface IdempotentAnswer<T> {
  status: number;
  body: T;
  replayed: boolean;
}

const hashOf = (body: unknown): string => createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex');

/** Runs `run` once per key; without a key, every call runs. */
export async function idempotent<T>(tenantId: string, operation: string, key: string | null, body: unknown, status: number, run: () => Promise<T>): Promise<IdempotentAnswer<T>> {
  if (!key) return { status, body: await run(), replayed: false };
  const id = idempotencyIdOf(tenantId, operation, key);
  const requestHash = hashOf(body);
  if (!(await claimIdempotencyKey({ _id: id, tenant_id: tenantId, operation, request_hash: requestHash }))) {
    const stored = await findIdempotentRequest(id);
    if (stored && stored.request_hash !== requestHash) {
      throw new AppError(422, 'idempotency_key_reused', `Idempotency-Key ${key} was used with another request body for ${operation}; use a new key`);
    }
    if (!stored || stored.state !== 'done') throw ConflictError(`A request with Idempotency-Key ${key} is still being processed; retry it in a moment`);
    return { status: stored.status ?? status, body: stored.response as T, replayed: true };
  }
  try {
    const result = await run();
    await completeIdempotentRequest(id, status, result);
    return { status, body: result, replayed: false };
  } catch (err) {
    await releaseIdempotencyKey(id);
    throw err;
  }
}
