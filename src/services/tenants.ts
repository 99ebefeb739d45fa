/**
 * An organization's standing. A suspended organization's members cannot sign in or use any
 * token or key (authentication reads the tenant's status on every request and handshake); the
 * change is announced so their open sockets close too, on every process. Its channel webhooks
 * are skipped (the account resolution reads the status, and every process forgets the cached
 * resolutions now) and its outgoing webhooks wait (the sender reads the status per batch).
 */
import { NotFoundError } from '../errors.js';
import { updateTenantStatus, type Tenant } from '../models/tenant.js';
import { forgetAccounts } from './account-cache.js';
import { announceSessionChange } from './session-changes.js';

/** Suspend or reinstate an organization. */
export interface SetTenantStatus {
  tenantId: string;
  status: Tenant['status'];
}

/** Sets the status and tells every process to re-check the organization's sockets; 404 for an unknown tenant. */
export async function setTenantStatus(cmd: SetTenantStatus): Promise<Tenant> {
  const tenant = await updateTenantStatus(cmd.tenantId, cmd.status);
  if (!tenant) throw NotFoundError('Tenant');
  await Promise.all([announceSessionChange({ tenantId: cmd.tenantId }), forgetAccounts()]);
  return tenant;
}
