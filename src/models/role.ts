/** A role: a named set of permissions within a tenant. */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

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
// Role names are unique per tenant; serves lookup by name at registration.
schema.index({ tenant_id: 1, name: 1 }, { unique: true });

/** The roles collection. */
export const RoleModel = model<Role>('Role', schema);

/** Tenant-scoped access to roles. */
export const roles = tenantRepo(RoleModel, 'Role');
