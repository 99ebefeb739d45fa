/** A tenant's user: an agent, supervisor or admin (the API calls them all agents). */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** A stored user. */
export interface User extends TenantDoc {
  name: string;
  email: string;
  /** `email` while the user exists; freed on delete so the address can be reused. */
  email_key: string;
  password_hash: string;
  role_id: string;
  status: 'online' | 'offline';
  status_changed_at: Date | null;
  max_concurrent_conversations: number;
  is_active: boolean;
  last_login_at: Date | null;
  deleted_at: Date | null;
}

const schema = baseSchema<User>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    email: { type: String, required: true },
    email_key: { type: String, required: true },
    password_hash: { type: String, required: true },
    role_id: { type: String, required: true },
    status: { type: String, required: true, enum: ['online', 'offline'] },
    status_changed_at: { type: Date, default: null },
    max_concurrent_conversations: { type: Number, required: true },
    is_active: { type: Boolean, required: true },
    last_login_at: { type: Date, default: null },
    deleted_at: { type: Date, default: null },
  },
  'users',
);
// One live account per e-mail per tenant; also serves login by e-mail.
schema.index({ tenant_id: 1, email_key: 1 }, { unique: true });
// Serves login when the tenant is not given.
schema.index({ email_key: 1 });
// Serves "agents with this role" (role deletion guard).
schema.index({ tenant_id: 1, role_id: 1 });

/** The users collection. */
export const UserModel = model<User>('User', schema);

/** Tenant-scoped access to users. */
export const users = tenantRepo(UserModel, 'Agent');

/** Live users with this e-mail, across tenants (login without a tenant). */
export const findUsersByEmail = (email: string) =>
  UserModel.find({ email_key: email.toLowerCase(), deleted_at: null }).limit(20).lean<User[]>().exec();
