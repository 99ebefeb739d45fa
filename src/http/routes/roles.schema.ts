/** Schemas of the Roles group (the permission list is shared with API keys). */
import { z } from 'zod';
import { ALL_PERMISSIONS, isPermission, type Permission } from '../../auth/permissions.js';

/**
 * Permission names from the catalogue. Every unknown name is reported in one 400 that lists
 * them all; duplicates are dropped and the result is in catalogue order.
 */
export const PermissionList = z
  // The enum is for the OpenAPI document only; the check below reports all unknown names at once.
  .array(z.string().max(100).meta({ enum: ALL_PERMISSIONS }))
  .max(200)
  .superRefine((names, ctx) => {
    const unknown = [...new Set(names.filter((n) => !isPermission(n)))];
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `unknown permissions: ${unknown.join(', ')} (see GET /api/permissions)` });
    }
  })
  .transform((names): Permission[] => ALL_PERMISSIONS.filter((p) => names.includes(p)))
  .describe('Permission names from GET /api/permissions');

const RoleName = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[^\p{C}]+$/u, 'must not contain control characters');

const Description = z.string().trim().max(500);

/** GET /api/roles and GET /api/permissions take no query; a stray parameter is a 400, not ignored. */
export const NoQuery = z.strictObject({});

/** POST /api/roles */
export const CreateRoleBody = z.strictObject({
  name: RoleName.describe('Unique in the organization, compared without case'),
  description: Description.optional(),
  permissions: PermissionList,
});

/** PATCH /api/roles/{id} */
export const UpdateRoleBody = z
  .strictObject({
    name: RoleName.optional(),
    description: Description.optional(),
    permissions: PermissionList.optional().describe('The complete new set; replaces the old one'),
  })
  .refine((b) => b.name !== undefined || b.description !== undefined || b.permissions !== undefined, {
    message: 'must change at least one of name, description, permissions',
  });

/** One entry of GET /api/permissions. */
export const PermissionBody = z.object({
  name: z.string(),
  description: z.string(),
  group: z.string().describe('The area before the dot, to group the catalogue in a UI'),
});
