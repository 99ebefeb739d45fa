/**
 * Tenant-actor handlers for what the tenant's plan limits (set by the platform operator, see
 * services/platform-tenants.ts). "Below the limit" and the insert are two steps; running both
 * here, one message at a time per tenant, keeps two concurrent creations from both passing.
 */
import { ConflictError, isDuplicateKey, StateError } from '../../src/errors.js';
import type { NewDoc } from '../../src/models/repo.js';
import { integrationAccounts } from '../../src/models/integration-account.js';
import { findTenant, tenantLimits } from '../../src/models/tenant.js';
import { users, type User } from '../../src/models/user.js';
import { PlanLimitError } from '../../src/services/billing-usage.js';

/** Insert a new agent, unless the plan's number of agents is reached. */
export interface InsertAgentMessage {
  /** The whole document; its dates are all null, so nothing needs casting after forwarding. */
  user: NewDoc<User>;
}

async function insertAgentWithinPlan(tenantId: string, msg: InsertAgentMessage): Promise<null> {
  const tenant = await findTenant(tenantId);
  const max = tenant ? tenantLimits(tenant).agents : null;
  if (max !== null && (await users.count({ tenant_id: tenantId, deleted_at: null })) >= max) {
    throw StateError(`The organization’s plan allows ${max} agent${max === 1 ? '' : 's'}; delete one or ask the platform operator for a larger plan`);
  }
  try {
    await users.insert({ ...msg.user, tenant_id: tenantId });
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError(`An agent with the e-mail ${msg.user.email} already exists`);
    throw err;
  }
  return null;
}

/**
 * Throws PlanLimitError (422, naming channel_accounts) when the tenant already has as many
 * channel accounts as its plan allows. Called by the tenant actor's account creation, so the
 * count and the insert are one step per tenant.
 */
export async function assertChannelAccountWithinPlan(tenantId: string): Promise<void> {
  const tenant = await findTenant(tenantId);
  const max = tenant ? tenantLimits(tenant).channel_accounts : null;
  if (max === null) return;
  const used = await integrationAccounts.count({ tenant_id: tenantId });
  if (used >= max) {
    throw PlanLimitError('channel_accounts', max, `The organization’s plan allows ${max} channel account${max === 1 ? '' : 's'} and ${used} ${used === 1 ? 'is' : 'are'} connected; delete one or ask the platform operator for a larger plan`);
  }
}

/** The plan-limit message types of the tenant actor. */
export const planLimitHandlers = {
  'agents.insert_within_plan': insertAgentWithinPlan,
};
