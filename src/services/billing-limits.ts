/** A tenant's effective limits: its plan's, raised by the add-ons attached to its subscription. Pure. */
import type { AddonKind } from '../models/billing-addon.js';
import type { PlanLimits } from '../models/billing-plan.js';
import type { LimitKey, TenantLimits } from '../models/tenant.js';

/** The limit each add-on kind raises. */
export const ADDON_LIMIT: Record<AddonKind, LimitKey> = {
  extra_agents: 'agents',
  extra_channel_accounts: 'channel_accounts',
  extra_ai_replies: 'monthly_ai_replies',
};

/** An attached add-on: its kind, what one unit adds, and how many units (1 when absent). */
export interface AttachedAddon {
  kind: AddonKind;
  units: number;
  quantity?: number;
}

/**
 * The plan's limits with each add-on's `units x quantity` added to the limit it raises. An
 * unlimited (null) limit stays unlimited; every sum is of integers, so it stays exact.
 */
export function effectiveLimits(plan: { limits: PlanLimits }, addons: readonly AttachedAddon[]): TenantLimits {
  const limits: TenantLimits = { ...plan.limits };
  for (const addon of addons) {
    const key = ADDON_LIMIT[addon.kind];
    const current = limits[key];
    if (current !== null) limits[key] = current + addon.units * (addon.quantity ?? 1);
  }
  return limits;
}
