/** Activity Logs: the tenant's audit trail. */
import { ActivityLogBody, presentActivityLog } from '../../presenters/activity-log.js';
import { presentPage } from '../../presenters/page.js';
import { listActivity } from '../../services/activity-log.js';
import { pageOf } from '../schemas/common.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { ListActivityLogsQuery } from './activity-logs.schema.js';

/** The Activity Logs group. */
export const activityLogsRoutes: RouteGroup = {
  group: 'Activity Logs',
  routes: [
    route({
      method: 'get',
      path: '/api/activity-logs',
      summary: 'List activity logs',
      description:
        'Who did what to which resource, newest first. Filters combine: `actor_id`, `action`, `resource_type`, `resource_id`, and the time range `from`..`to` (inclusive, RFC 3339). Secrets sent in requests are redacted from `details`.',
      access: 'activity_logs.view',
      query: ListActivityLogsQuery,
      response: pageOf(ActivityLogBody),
      handler: async ({ principal, query }) =>
        presentPage(
          await listActivity({
            tenantId: principal.tenantId,
            page: query.page,
            limit: query.limit,
            ...(query.actor_id ? { actorId: query.actor_id } : {}),
            ...(query.action ? { action: query.action } : {}),
            ...(query.resource_type ? { resourceType: query.resource_type } : {}),
            ...(query.resource_id ? { resourceId: query.resource_id } : {}),
            ...(query.from ? { from: query.from } : {}),
            ...(query.to ? { to: query.to } : {}),
          }),
          presentActivityLog,
        ),
    }),
  ],
};
