/** A tenant's user: an agent, supervisor or admin (the API calls them all agents). */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';
import { withSearchText, type Searchable } from './search-text.js';
import { withUniqueClaims } from './unique-claim.js';

/** A stored user. */
export interface User extends TenantDoc, Searchable {
  name: string;
  email: string;
  /** `email` lower-cased, for login lookups; uniqueness lives in the `user.email` claim. */
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
    search_text: { type: String },
  },
  'users',
);
// Serves login by e-mail (findUsersByEmail). Not unique: on secantusd-rs a unique entry goes
// stale when an update changes it, so one live account per e-mail per tenant is a claim instead.
schema.index({ email_key: 1 });
// Serves "agents with this role" (role deletion guard).
schema.index({ tenant_id: 1, role_id: 1 });
// Serves auto-assignment's online agents of a tenant.
schema.index({ tenant_id: 1, status: 1 });

/** The users collection. */
export const UserModel = model<User>('User', schema);

/** The fields the agent list's `q` searches (in `search_text`). */
export const USER_SEARCHED = ['name', 'email'] as const satisfies readonly (keyof User)[];

/** Tenant-scoped access to users (`search_text` follows the searched fields); a live user's e-mail is claimed per tenant, freed by soft deletion. */
export const users = withUniqueClaims(withSearchText(tenantRepo(UserModel, 'Agent'), UserModel, USER_SEARCHED), {
  kind: 'user.email',
  fields: ['email', 'deleted_at'],
  valueOf: (u) => (u.deleted_at ? null : u.email),
});

/** Live users with this e-mail, across tenants (login without a tenant). */
export const findUsersByEmail = (email: string) =>
  UserModel.find({ email_key: email.toLowerCase(), deleted_at: null }).limit(20).lean<User[]>().exec();
