/** The API key resource. The secret never leaves the process except once, in the create answer. */
import { z } from 'zod';
import type { ApiKey } from '../models/api-key.js';
import { iso } from './page.js';

/** Where a key stands: usable, past its expiry, or revoked. */
export const ApiKeyStatus = z.enum(['active', 'expired', 'revoked']);

/** The API key JSON shape (no secret). */
export const ApiKeyBody = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to tell keys apart'),
  user_id: z.uuid().describe('The agent the key acts as'),
  permissions: z
    .array(z.string())
    .nullable()
    .describe('The permissions the key is narrowed to; null means all of its creator’s current permissions'),
  status: ApiKeyStatus,
  last_used_at: z.iso.datetime().nullable(),
  expires_at: z.iso.datetime().nullable(),
  revoked_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** The create answer: the key plus its full secret text, shown this once. */
export const CreatedApiKeyBody = ApiKeyBody.extend({
  key: z.string().describe('The full key (`osk_...`); it is shown only in this answer, so store it now'),
});

/** The status of a key at `now`. */
export function apiKeyStatus(k: Pick<ApiKey, 'revoked_at' | 'expires_at'>, now: Date): z.infer<typeof ApiKeyStatus> {
  if (k.revoked_at) return 'revoked';
  if (k.expires_at && new Date(k.expires_at).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** Shapes an API key; `now` decides whether it has expired. */
export function presentApiKey(k: ApiKey, now: Date = new Date()): z.infer<typeof ApiKeyBody> {
  return {
    id: k._id,
    name: k.name,
    prefix: k.prefix,
    user_id: k.user_id,
    permissions: k.permissions ?? null,
    status: apiKeyStatus(k, now),
    last_used_at: iso(k.last_used_at),
    expires_at: iso(k.expires_at),
    revoked_at: iso(k.revoked_at),
    created_at: iso(k.created_at) as string,
    updated_at: iso(k.updated_at) as string,
  };
}

/** Shapes a just-created key with its secret text. */
export function presentCreatedApiKey(k: ApiKey, key: string): z.infer<typeof CreatedApiKeyBody> {
  return { ...presentApiKey(k), key };
}
