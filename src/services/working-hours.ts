/**
 * Working hours: the global schedule, division overrides, public holidays, the tenant time zone
 * and the public "are we open?" status. Reads happen here; every write is a message to the
 * tenant actor (actors/tenant/working-hours.ts), the single writer of these documents.
 */
import { askTenant } from '../../actors/tenant/index.js';
import type { DayRange } from '../../actors/tenant/working-hours.js';
import type { Principal } from '../auth/principal.js';
import { assertNoFieldIssues, NotFoundError, ValidationError, type FieldIssue } from '../errors.js';
import { divisions } from '../models/division.js';
import { findTenant, findTenantByIdOrSlug } from '../models/tenant.js';
import { workingHours } from '../models/working-hours.js';
import { presentHolidays, presentTimezoneSetting, presentWorkingHours } from '../presenters/working-hours.js';
import { computeStatus, rangeSeconds, type WorkingHoursState } from './working-hours-status.js';
import { scheduleId } from './working-hours-defaults.js';

/** Who acts, in which organization. */
interface TenantCommand {
  /** The caller's organization. */
  tenantId: string;
  /** The caller. */
  actor: Principal;
}

/** A command about one division's hours. */
interface DivisionCommand extends TenantCommand {
  /** The division; another tenant's id is a 404. */
  divisionId: string;
}

/** Replace the ranges of the named days. */
export interface UpsertHours {
  /** Ranges with `HH:MM:SS` times; the days named here are replaced, the others stay. */
  days: DayRange[];
}

// A day with more ranges than this is a mistake rather than a schedule.
const MAX_RANGES_PER_DAY = 12;

/** Checks the ranges of each named day: non-empty, not too many, not overlapping. */
export function checkDays(days: DayRange[]): void {
  const issues: FieldIssue[] = [];
  const byDay = new Map<number, { index: number; span: [number, number] }[]>();
  days.forEach((d, index) => {
    const span = rangeSeconds(d);
    if (!span) {
      issues.push({ in: 'body' as const, field: `days.${index}`, message: 'start_time and end_time must differ (use 00:00-24:00 for a whole day)' });
      return;
    }
    byDay.set(d.day_of_week, [...(byDay.get(d.day_of_week) ?? []), { index, span }]);
  });
  for (const [day, ranges] of byDay) {
    if (ranges.length > MAX_RANGES_PER_DAY) {
      issues.push({ in: 'body' as const, field: 'days', message: `day ${day} has more than ${MAX_RANGES_PER_DAY} ranges` });
    }
    const sorted = [...ranges].sort((a, b) => a.span[0] - b.span[0]);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      const cur = sorted[i];
      if (prev && cur && cur.span[0] < prev.span[1]) {
        issues.push({ in: 'body' as const, field: `days.${cur.index}`, message: `overlaps days.${prev.index} on day ${day}` });
      }
    }
  }
  assertNoFieldIssues(issues);
}

/** The tenant's global ranges. */
export async function listGlobalHours(cmd: TenantCommand) {
  return presentWorkingHours(await workingHours.findOwnedOrNull(cmd.tenantId, scheduleId(cmd.tenantId, null)));
}

/** Replaces the named days of the global schedule and answers the whole schedule. */
export async function upsertGlobalHours(cmd: TenantCommand & UpsertHours) {
  checkDays(cmd.days);
  return askTenant(cmd.tenantId, 'working_hours.upsert', { divisionId: null, days: cmd.days });
}

/** A division's override if it has one, else the global ranges. */
export async function getDivisionHours(cmd: DivisionCommand) {
  await divisions.findOwned(cmd.tenantId, cmd.divisionId);
  const override = await workingHours.findOwnedOrNull(cmd.tenantId, scheduleId(cmd.tenantId, cmd.divisionId));
  if (override) return { is_override: true, working_hours: presentWorkingHours(override) };
  return { is_override: false, working_hours: await listGlobalHours(cmd) };
}

/** Creates or changes a division's override (a new one starts as a copy of the global hours). */
export async function upsertDivisionHours(cmd: DivisionCommand & UpsertHours) {
  checkDays(cmd.days);
  await divisions.findOwned(cmd.tenantId, cmd.divisionId);
  return askTenant(cmd.tenantId, 'working_hours.upsert', { divisionId: cmd.divisionId, days: cmd.days });
}

/** Removes a division's override, so it follows the global hours again. */
export async function removeDivisionHours(cmd: DivisionCommand) {
  await divisions.findOwned(cmd.tenantId, cmd.divisionId);
  return askTenant(cmd.tenantId, 'working_hours.override_remove', { divisionId: cmd.divisionId });
}

/** The tenant's public holidays. */
export async function listHolidays(cmd: TenantCommand) {
  const global = await workingHours.findOwnedOrNull(cmd.tenantId, scheduleId(cmd.tenantId, null));
  return presentHolidays(global?.holidays ?? []);
}

/** Replaces the holiday list; one entry per date. */
export async function replaceHolidays(cmd: TenantCommand & { holidays: { date: string; name: string }[] }) {
  const seen = new Map<string, number>();
  const issues = cmd.holidays.flatMap((h, i) => {
    const first = seen.get(h.date);
    seen.set(h.date, first ?? i);
    return first === undefined ? [] : [{ in: 'body' as const, field: `holidays.${i}.date`, message: `${h.date} is already holidays.${first}` }];
  });
  assertNoFieldIssues(issues);
  return askTenant(cmd.tenantId, 'working_hours.holidays_replace', { holidays: cmd.holidays });
}

/** The tenant's time-zone setting. */
export async function getTimezone(cmd: TenantCommand) {
  const tenant = await findTenant(cmd.tenantId);
  if (!tenant) throw NotFoundError('Tenant');
  return presentTimezoneSetting(tenant);
}

/** Changes the tenant's time zone (an IANA name, validated by the caller's schema). */
export async function updateTimezone(cmd: TenantCommand & { timezone: string }) {
  return askTenant(cmd.tenantId, 'settings.timezone_update', { timezone: cmd.timezone });
}

/** Ask whether a tenant (or one of its divisions) is open. */
export interface CheckWorkingHours {
  /** A signed-in caller; their organization wins over `tenant`. */
  principal: Principal | null;
  /** Tenant id or slug, for anonymous callers (e.g. a website widget). */
  tenant?: string;
  /** Use this division's override, if it has one. */
  divisionId?: string;
  /** The instant to evaluate; now unless given. */
  now?: Date;
}

/** Open or closed now, in the tenant's zone, and when that changes next. */
export async function checkWorkingHours(cmd: CheckWorkingHours): Promise<WorkingHoursState> {
  if (!cmd.principal && !cmd.tenant) {
    throw ValidationError('Pass ?tenant=<id or slug>, or call with credentials', [
      { in: 'query', field: 'tenant', message: 'required when no credentials are sent' },
    ]);
  }
  const tenant = cmd.principal ? await findTenant(cmd.principal.tenantId) : await findTenantByIdOrSlug(cmd.tenant ?? '');
  // A suspended organization is not advertised as open (or at all) to the public.
  if (!tenant || tenant.status !== 'active') throw NotFoundError('Tenant');
  const global = await workingHours.findOwnedOrNull(tenant._id, scheduleId(tenant._id, null));
  let entries = global?.entries ?? [];
  if (cmd.divisionId) {
    await divisions.findOwned(tenant._id, cmd.divisionId);
    const override = await workingHours.findOwnedOrNull(tenant._id, scheduleId(tenant._id, cmd.divisionId));
    if (override) entries = override.entries;
  }
  return computeStatus(cmd.now ?? new Date(), tenant.timezone, entries, global?.holidays ?? []);
}
