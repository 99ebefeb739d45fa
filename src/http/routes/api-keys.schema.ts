/** Schemas of the API Keys group. */
import { z } from 'zod';
import { ApiKeyStatus } from '../../presenters/api-key.js';
import { Id, PageQuery } from '../schemas/common.js';
import { PermissionList } from './roles.schema.js';

/** GET /api/api-keys */
export const ListApiKeysQuery = PageQuery.extend({
  status: ApiKeyStatus.optional().describe('Only keys in this state'),
  user_id: Id.optional().describe('Another agent’s keys (requires agents.manage); the caller’s own by default'),
});

/** POST /api/api-keys */
export const CreateApiKeyBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[^\p{C}]+$/u, 'must not contain control characters')
    .describe('What the key is for, e.g. "CRM sync"'),
  permissions: PermissionList.optional().describe(
    'Narrow the key to these permissions (each must be held by the caller); omit for all of the caller’s permissions, as they change',
  ),
  expires_at: z.iso
    .datetime({ offset: true, message: 'must be an RFC 3339 date-time with a time zone' })
    .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
    .transform((v) => new Date(v))
    .nullable()
    .optional()
    .describe('When the key stops working; omit or null for never'),
});
