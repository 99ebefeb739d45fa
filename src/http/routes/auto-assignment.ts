/**
 * Auto-assignment settings (beyond the contract, additive): the tenant-wide switch and the
 * length of the waiting queue.
 */
import { z } from 'zod';
import { getAutoAssignment, setAutoAssignment } from '../../services/auto-assignment.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';

const AutoAssignmentBody = z.object({
  enabled: z.boolean().describe('New conversations are assigned round-robin to online agents of their division under their limit'),
  queued: z.number().int().describe('Conversations waiting for a free agent, first in first out'),
});

/** The Auto-assignment group. */
export const autoAssignmentRoutes: RouteGroup = {
  group: 'Auto-assignment',
  routes: [
    route({
      method: 'get',
      path: '/api/settings/auto-assignment',
      summary: 'Get the auto-assignment setting',
      access: 'settings.manage',
      query: z.strictObject({}),
      response: AutoAssignmentBody,
      handler: ({ principal }) => getAutoAssignment(principal.tenantId),
    }),
    route({
      method: 'put',
      path: '/api/settings/auto-assignment',
      summary: 'Turn auto-assignment on or off',
      description: 'Off: new conversations wait unassigned for agents to pick them, and the queue is emptied.',
      access: 'settings.manage',
      body: z.strictObject({ enabled: z.boolean() }),
      response: AutoAssignmentBody,
      audit: { action: 'settings.auto_assignment_updated', resource: 'settings', target: () => null },
      handler: ({ principal, body }) => setAutoAssignment(principal.tenantId, body.enabled),
    }),
  ],
};
