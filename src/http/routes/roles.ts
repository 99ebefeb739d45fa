/** Roles: custom permission sets, the built-in roles, and the permission catalogue. */
import { z } from 'zod';
import { presentRoleWithCount, RoleWithCountBody } from '../../presenters/role.js';
import { createRole, deleteRole, getRole, listPermissions, listRoles, updateRole } from '../../services/roles.js';
import { IdParams, MessageBody } from '../schemas/common.js';
import type { RouteGroup } from '../mount.js';
import { route } from '../route.js';
import { CreateRoleBody, NoQuery, PermissionBody, UpdateRoleBody } from './roles.schema.js';

const audit = (action: string) => ({ action, resource: 'role' });

/** The Roles group. */
export const rolesRoutes: RouteGroup = {
  group: 'Roles',
  routes: [
    route({
      method: 'get',
      path: '/api/roles',
      summary: 'List all roles with permissions',
      description: 'Every role of the organization with the number of agents holding it: built-in roles first, then by name.',
      access: 'roles.view',
      query: NoQuery,
      response: z.array(RoleWithCountBody),
      handler: async ({ principal }) =>
        (await listRoles({ tenantId: principal.tenantId })).map((r) => presentRoleWithCount(r.role, r.agentCount)),
    }),
    route({
      method: 'post',
      path: '/api/roles',
      summary: 'Create a custom role',
      description:
        'Unknown permission names are a 400 listing them; a name already in use (compared without case) is a 409; granting a permission the caller does not hold is a 403.',
      access: 'roles.manage',
      body: CreateRoleBody,
      response: RoleWithCountBody,
      errors: { 409: 'Another role has this name' },
      status: 201,
      audit: audit('role.created'),
      handler: async ({ principal, body }) => {
        const r = await createRole({ tenantId: principal.tenantId, principal, ...body });
        return presentRoleWithCount(r.role, r.agentCount);
      },
    }),
    route({
      method: 'get',
      path: '/api/roles/{id}',
      summary: 'Get a single role with permissions',
      access: 'roles.view',
      params: IdParams,
      response: RoleWithCountBody,
      handler: async ({ principal, params }) => {
        const r = await getRole({ tenantId: principal.tenantId, roleId: params.id });
        return presentRoleWithCount(r.role, r.agentCount);
      },
    }),
    route({
      method: 'delete',
      path: '/api/roles/{id}',
      summary: 'Delete a custom role',
      description: 'Built-in roles cannot be deleted (422); a role still held by agents is a 409 that says how many.',
      access: 'roles.manage',
      params: IdParams,
      response: MessageBody,
      errors: { 409: 'Agents still hold the role', 422: 'A built-in role cannot be deleted' },
      audit: audit('role.deleted'),
      handler: async ({ principal, params }) => {
        const role = await deleteRole({ tenantId: principal.tenantId, roleId: params.id });
        return { message: `Role "${role.name}" deleted` };
      },
    }),
    route({
      method: 'patch',
      path: '/api/roles/{id}',
      summary: 'Update a role',
      description:
        'Changes name, description or the complete permission set. The built-in admin role cannot be changed and the other built-in roles cannot be renamed (422). Adding a permission the caller does not hold is a 403; removing one is allowed. Changes apply to signed-in agents on their next request.',
      access: 'roles.manage',
      params: IdParams,
      body: UpdateRoleBody,
      response: RoleWithCountBody,
      errors: { 409: 'Another role has this name', 422: 'The built-in admin role cannot change; built-in roles cannot be renamed' },
      audit: audit('role.updated'),
      handler: async ({ principal, params, body }) => {
        const r = await updateRole({ tenantId: principal.tenantId, principal, roleId: params.id, ...body });
        return presentRoleWithCount(r.role, r.agentCount);
      },
    }),
    route({
      method: 'get',
      path: '/api/permissions',
      summary: 'List all available permissions',
      access: 'roles.view',
      query: NoQuery,
      response: z.array(PermissionBody),
      handler: async () => listPermissions(),
    }),
  ],
};
