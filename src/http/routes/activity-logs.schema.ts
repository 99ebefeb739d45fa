/** Schemas of the Activity Logs group. */
import { z } from 'zod';
import { Id, PageQuery } from '../schemas/common.js';

const Instant = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 date-time with a time zone' })
  .transform((v) => new Date(v));

/** GET /api/activity-logs */
export const ListActivityLogsQuery = PageQuery.extend({
  actor_id: Id.optional().describe('Entries by this agent'),
  action: z
    .string()
    .max(100)
    .regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must be a dotted action name such as role.created')
    .optional(),
  resource_type: z
    .string()
    .max(100)
    .regex(/^[a-z0-9_]+$/, 'must be a resource type such as role')
    .optional(),
  resource_id: Id.optional(),
  from: Instant.optional().describe('Entries at or after this time'),
  to: Instant.optional().describe('Entries at or before this time'),
  // zod runs this check even when a bound failed to parse; then it is still text, and its own error says why.
}).refine((q) => !(q.from instanceof Date && q.to instanceof Date && q.from.getTime() > q.to.getTime()), {
  message: 'from must not be after to',
  path: ['from'],
});
