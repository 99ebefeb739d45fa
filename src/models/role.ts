/** A role: a named set of permissions within a tenant. */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';
import { withUniqueClaims } from './unique-claim.js';

/** A stored role. */
export interface Role extends TenantDoc {
  name: string;
  description: string;
  permissions: string[];
  is_system: boolean;
}

const schema = baseSchema<Role>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    permissions: { type: [String], default: [] },
    is_system: { type: Boolean, required: true },
  },
  'roles',
);
// Serves the tenant's role list and lookups by name. Not unique: a renamed role's old name would
// stay taken on secantusd-rs; names are kept unique (without case) by the `role.name` claim.
schema.index({ tenant_id: 1, name: 1 });

/** The roles collection. */
export const RoleModel = model<Role>('Role', schema);

/** Tenant-scoped access to roles; a role's name (built-ins included) is claimed per tenant, any case. */
export const roles = withUniqueClaims(tenantRepo(RoleModel, 'Role'), {
  kind: 'role.name',
  fields: ['name'],
  valueOf: (r) => r.name,
});
