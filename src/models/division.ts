/** Divisions (teams such as Sales or Support) and their agent memberships. */
import { model } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';
import { withSearchText, type Searchable } from './search-text.js';
import { withUniqueClaims } from './unique-claim.js';

/** A stored division. */
export interface Division extends TenantDoc, Searchable {
  name: string;
  description: string;
  is_active: boolean;
}

const divisionSchema = baseSchema<Division>(
  {
    tenant_id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    is_active: { type: Boolean, required: true },
    search_text: { type: String },
  },
  'divisions',
);
// Serves the division list by name. Not unique: a renamed division's old name would stay taken
// on secantusd-rs; names are kept unique (without case) by the `division.name` claim.
divisionSchema.index({ tenant_id: 1, name: 1 });

/** The divisions collection. */
export const DivisionModel = model<Division>('Division', divisionSchema);

/** The fields the division list's `q` searches (in `search_text`). */
export const DIVISION_SEARCHED = ['name'] as const satisfies readonly (keyof Division)[];

/** Tenant-scoped access to divisions (`search_text` follows the name); a division's name is claimed per tenant, any case. */
export const divisions = withUniqueClaims(withSearchText(tenantRepo(DivisionModel, 'Division'), DivisionModel, DIVISION_SEARCHED), {
  kind: 'division.name',
  fields: ['name'],
  valueOf: (d) => d.name,
});

/**
 * One agent in one division. `_id` is naturalId(tenant, division, user), so adding the same
 * member twice is a duplicate-key no-op on every engine instead of a lost array update.
 */
export interface DivisionMember extends TenantDoc {
  division_id: string;
  user_id: string;
}

const memberSchema = baseSchema<DivisionMember>(
  {
    tenant_id: { type: String, required: true },
    division_id: { type: String, required: true },
    user_id: { type: String, required: true },
  },
  'division_members',
);
// Serves "agents of a division" and "divisions of an agent".
memberSchema.index({ tenant_id: 1, division_id: 1 });
memberSchema.index({ tenant_id: 1, user_id: 1 });

/** The division_members collection. */
export const DivisionMemberModel = model<DivisionMember>('DivisionMember', memberSchema);

/** Tenant-scoped access to memberships. */
export const divisionMembers = tenantRepo(DivisionMemberModel, 'Division member');
