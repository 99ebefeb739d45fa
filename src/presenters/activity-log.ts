/** The activity log entry resource. */
import { z } from 'zod';
import type { ActivityLog } from '../models/activity-log.js';
import { iso } from './page.js';

/** The activity log entry JSON shape. */
export const ActivityLogBody = z.object({
  id: z.uuid(),
  actor: z.object({
    type: z.enum(['user', 'api_key', 'system', 'super_admin']).describe('api_key: an agent acting through one of their API keys; super_admin: a platform operator'),
    id: z.string().nullable().describe('The agent (or super admin) who acted; null for the system'),
    name: z.string().nullable().describe('The agent’s name at the time'),
  }),
  impersonator_id: z.string().nullable().describe('The super-admin acting as the agent, if impersonating'),
  action: z.string(),
  resource_type: z.string(),
  resource_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).describe('What was sent (`changes`, secrets redacted) and the API key used, if any'),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  created_at: z.iso.datetime(),
});

/** Shapes an activity log entry. */
export function presentActivityLog(e: ActivityLog): z.infer<typeof ActivityLogBody> {
  return {
    id: e._id,
    actor: { type: e.actor_type, id: e.actor_id, name: e.actor_name },
    impersonator_id: e.impersonator_id,
    action: e.action,
    resource_type: e.resource_type,
    resource_id: e.resource_id,
    details: e.details ?? {},
    ip: e.ip,
    user_agent: e.user_agent,
    created_at: iso(e.created_at) as string,
  };
}
