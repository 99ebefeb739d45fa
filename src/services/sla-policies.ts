/**
 * SLA policies: writing them, listing them and their breaches, and choosing the one that applies
 * to a conversation.
 *
 * Choice: among the tenant's active policies whose scope matches the conversation (its channel
 * is listed or the list is empty; likewise its division; it carries one of the listed tags or
 * the list is empty), the one with the lowest `priority` applies; equal priorities go to the
 * oldest policy (then the smaller id), so the choice never depends on storage order. The clock
 * (services/sla-clock.ts) asks again at every change of the conversation until one of its
 * targets is met or breached; from then on the policy stays.
 *
 * The clock runs at every conversation event, so it reads a tenant's policies from a cache in
 * each process (`tenantSla`), which every change of a policy forgets in every process
 * (services/shared-cache.ts).
 */
import { BodyFieldError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import { divisions } from '../models/division.js';
import type { Page } from '../models/repo.js';
import type { TenantDoc } from '../models/base.js';
import { slaPolicies, type SlaPolicy } from '../models/sla-policy.js';
import { hasSlaRecords, slaBreaches, type SlaBreach, type SlaTarget } from '../models/sla-record.js';
import type { Acting } from './agents.js';
import { sharedCache } from './shared-cache.js';

/** Most policies one tenant keeps: the clock reads them all at each conversation change. */
export const MAX_SLA_POLICIES = 100;

/** The fields a caller sets on a policy. */
export type SlaPolicyFields = Omit<SlaPolicy, keyof TenantDoc>;

/** Create a policy. */
export interface CreateSlaPolicy extends Acting {
  /** Everything the policy says; at least one target is set (checked by the schema). */
  fields: SlaPolicyFields;
}

/** Change some fields of a policy. */
export interface UpdateSlaPolicy extends Acting {
  /** The policy; another tenant's is a 404. */
  id: string;
  /** Only the fields given change. */
  fields: Partial<SlaPolicyFields>;
}

/** Lists the tenant's policies, by priority then age. */
export function listSlaPolicies(cmd: Acting & { page: number; limit: number }): Promise<Page<SlaPolicy>> {
  return slaPolicies.page({ tenant_id: cmd.tenantId }, { priority: 1, created_at: 1, _id: 1 }, cmd.page, cmd.limit);
}

/** Refuses division ids the tenant does not have (400 naming the field). */
async function checkDivisions(tenantId: string, ids: string[] | undefined): Promise<void> {
  if (!ids?.length) return;
  const found = new Set((await divisions.findMany(tenantId, ids)).map((d) => d._id));
  const index = ids.findIndex((id) => !found.has(id));
  if (index >= 0) throw BodyFieldError(`division_ids.${index}`, 'no such division');
}

/** Refuses a policy left without any target (400). */
function checkTargets(p: Pick<SlaPolicyFields, 'first_response_minutes' | 'resolution_minutes'>): void {
  if (p.first_response_minutes === null && p.resolution_minutes === null) throw BodyFieldError('first_response_minutes', 'set first_response_minutes, resolution_minutes or both');
}

/** Creates a policy; 422 past MAX_SLA_POLICIES. */
export async function createSlaPolicy(cmd: CreateSlaPolicy): Promise<SlaPolicy> {
  checkTargets(cmd.fields);
  await checkDivisions(cmd.tenantId, cmd.fields.division_ids);
  if ((await slaPolicies.count({ tenant_id: cmd.tenantId })) >= MAX_SLA_POLICIES) throw StateError(`An organization keeps at most ${MAX_SLA_POLICIES} SLA policies; delete one first`);
  const policy = await slaPolicies.insert({ _id: newId(), tenant_id: cmd.tenantId, ...cmd.fields });
  await tenantSlaCache.forget(cmd.tenantId);
  return policy;
}

/** Changes a policy; conversations see it at their next change (targets already met or breached keep the values they were judged by). */
export async function updateSlaPolicy(cmd: UpdateSlaPolicy): Promise<SlaPolicy> {
  const current = await slaPolicies.findOwned(cmd.tenantId, cmd.id);
  checkTargets({ ...current, ...cmd.fields });
  await checkDivisions(cmd.tenantId, cmd.fields.division_ids);
  const policy = await slaPolicies.update(cmd.tenantId, cmd.id, cmd.fields);
  await tenantSlaCache.forget(cmd.tenantId);
  return policy;
}

/** Deletes a policy; its recorded breaches stay in the history of the conversations. */
export async function deleteSlaPolicy(cmd: Acting & { id: string }): Promise<SlaPolicy> {
  const policy = await slaPolicies.findOwned(cmd.tenantId, cmd.id);
  await slaPolicies.remove(cmd.tenantId, cmd.id);
  await tenantSlaCache.forget(cmd.tenantId);
  return policy;
}

/** List a policy's breaches. */
export interface ListSlaBreaches extends Acting {
  /** The policy; another tenant's is a 404. */
  policyId: string;
  /** Only this target's breaches. */
  target?: SlaTarget | undefined;
  page: number;
  limit: number;
}

/** A policy's breaches, newest first. */
export async function listSlaBreaches(cmd: ListSlaBreaches): Promise<Page<SlaBreach>> {
  await slaPolicies.findOwned(cmd.tenantId, cmd.policyId);
  return slaBreaches.page(
    { tenant_id: cmd.tenantId, policy_id: cmd.policyId, ...(cmd.target ? { target: cmd.target } : {}) },
    { breached_at: -1, _id: -1 },
    cmd.page,
    cmd.limit,
  );
}

/** What the choice looks at. */
export interface PolicyScopeOf {
  channel: string;
  division_id: string | null;
  tags: readonly string[];
}

/** True when the policy's scope covers the conversation. */
export const policyMatches = (p: SlaPolicy, c: PolicyScopeOf): boolean =>
  p.is_active &&
  (p.channels.length === 0 || p.channels.includes(c.channel)) &&
  (p.division_ids.length === 0 || (c.division_id !== null && p.division_ids.includes(c.division_id))) &&
  (p.tags.length === 0 || p.tags.some((t) => c.tags.includes(t)));

/** The policy that applies to the conversation (see the banner), or null. */
export function choosePolicy(policies: readonly SlaPolicy[], c: PolicyScopeOf): SlaPolicy | null {
  const order = (a: SlaPolicy, b: SlaPolicy) =>
    a.priority - b.priority || new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
  return [...policies].filter((p) => policyMatches(p, c)).sort(order)[0] ?? null;
}

/** What the clock needs to know of a tenant at each conversation event. */
export interface TenantSla {
  /** Its active policies, by priority then age. */
  policies: SlaPolicy[];
  /**
   * False only when the tenant has no active policy and no SLA record: then no event of its
   * conversations changes a clock. A tenant whose policies were deleted or deactivated keeps
   * its records, which its conversations' later changes still stop or re-scope.
   */
  mayHaveRecords: boolean;
}

// Forgotten at every change of a policy, in every process; the TTL bounds a missed message.
const tenantSlaCache = sharedCache<TenantSla>('sla-policies', { ttlMs: 10_000 });

/** The tenant's active policies and whether it may have SLA records, for the clock (cached per process). */
export const tenantSla = (tenantId: string): Promise<TenantSla> =>
  tenantSlaCache.get(tenantId, async () => {
    const policies = await slaPolicies.find({ tenant_id: tenantId, is_active: true }, { priority: 1, created_at: 1, _id: 1 }, MAX_SLA_POLICIES);
    return { policies, mayHaveRecords: policies.length > 0 || (await hasSlaRecords(tenantId)) };
  });
