/**
 * Tenant-actor handlers for working hours, holidays and the time zone. Each one reads the stored
 * document, judges the change against it (overlaps, holidays, the zone) and writes it back, so
 * they run only here, one at a time per tenant (ARCHITECTURE invariant 4). Payloads arrive already validated
 * by the service; replies are presented JSON, because an ask may cross processes.
 */
import type { z } from 'zod';
import { NotFoundError } from '../../src/errors.js';
import { naturalId } from '../../src/ids.js';
import { findTenant, updateTenant } from '../../src/models/tenant.js';
import { saveSchedule, workingHours, type Holiday, type WorkingHoursEntry, type WorkingHoursSchedule } from '../../src/models/working-hours.js';
import {
  presentHolidays,
  presentTimezoneSetting,
  presentWorkingHours,
  type HolidaysBody,
  type TimezoneSettingBody,
  type WorkingHoursListBody,
} from '../../src/presenters/working-hours.js';
import { entryId, scheduleId } from '../../src/services/working-hours-defaults.js';

/** One range to store, times already `HH:MM:SS`. */
export interface DayRange {
  day_of_week: number;
  start_time: string;
  end_time: string;
  is_active: boolean;
}

/** Replace the ranges of the named days in one scope (null = global). */
export interface UpsertWorkingHoursMessage {
  divisionId: string | null;
  days: DayRange[];
}

/** Remove a division's override. */
export interface RemoveOverrideMessage {
  divisionId: string;
}

/** Replace the holiday list. */
export interface ReplaceHolidaysMessage {
  holidays: { date: string; name: string }[];
}

/** Change the tenant's time zone. */
export interface UpdateTimezoneMessage {
  timezone: string;
}

const sameRange = (a: WorkingHoursEntry, b: DayRange) => a.end_time === b.end_time && a.is_active === b.is_active;

/** The ranges a scope starts from: its own, else (first override of a division) a copy of the global ones. */
async function currentSchedule(tenantId: string, divisionId: string | null, now: Date): Promise<WorkingHoursSchedule | Omit<WorkingHoursSchedule, 'created_at' | 'updated_at'>> {
  const stored = await workingHours.findOwnedOrNull(tenantId, scheduleId(tenantId, divisionId));
  if (stored) return stored;
  // A new override starts as the hours the division had, so naming one day keeps the others.
  const global = divisionId ? await workingHours.findOwnedOrNull(tenantId, scheduleId(tenantId, null)) : null;
  const entries = (global?.entries ?? []).map((e) => ({
    ...e,
    id: entryId(tenantId, divisionId, e.day_of_week, e.start_time),
    created_at: now,
    updated_at: now,
  }));
  return { _id: scheduleId(tenantId, divisionId), tenant_id: tenantId, division_id: divisionId, entries, holidays: [] };
}

/** Replaces the named days' ranges; other days stay. Ids are natural, so created_at survives. */
async function upsertWorkingHours(tenantId: string, msg: UpsertWorkingHoursMessage): Promise<z.input<typeof WorkingHoursListBody>> {
  const now = new Date();
  const schedule = await currentSchedule(tenantId, msg.divisionId, now);
  const named = new Set(msg.days.map((d) => d.day_of_week));
  const previous = new Map(schedule.entries.map((e) => [e.id, e]));
  const replaced = msg.days.map((d): WorkingHoursEntry => {
    const id = entryId(tenantId, msg.divisionId, d.day_of_week, d.start_time);
    const before = previous.get(id);
    return {
      id,
      day_of_week: d.day_of_week,
      start_time: d.start_time,
      end_time: d.end_time,
      is_active: d.is_active,
      created_at: before?.created_at ?? now,
      // Re-sending an unchanged range is not a change.
      updated_at: before && sameRange(before, d) ? before.updated_at : now,
    };
  });
  const entries = [...schedule.entries.filter((e) => !named.has(e.day_of_week)), ...replaced];
  await saveSchedule({ ...schedule, entries });
  return presentWorkingHours({ division_id: msg.divisionId, entries });
}

/** Deletes a division's override; NotFoundError when it has none. */
async function removeOverride(tenantId: string, msg: RemoveOverrideMessage): Promise<{ message: string }> {
  const removed = await workingHours.remove(tenantId, scheduleId(tenantId, msg.divisionId));
  if (!removed) throw NotFoundError('Working hours override');
  return { message: 'Division working hours override removed; the division now follows the global hours' };
}

/** Replaces the tenant's holiday list (kept on the global schedule). */
async function replaceHolidays(tenantId: string, msg: ReplaceHolidaysMessage): Promise<z.input<typeof HolidaysBody>> {
  const now = new Date();
  const schedule = await currentSchedule(tenantId, null, now);
  const previous = new Map(schedule.holidays.map((h) => [h.date, h]));
  const holidays = msg.holidays.map((h): Holiday => {
    const before = previous.get(h.date);
    return {
      id: naturalId('working-hours-holiday', tenantId, h.date),
      date: h.date,
      name: h.name,
      created_at: before?.created_at ?? now,
      updated_at: before && before.name === h.name ? before.updated_at : now,
    };
  });
  await saveSchedule({ ...schedule, holidays });
  return presentHolidays(holidays);
}

/** Sets the tenant's time zone; the same zone again changes nothing. */
async function updateTimezone(tenantId: string, msg: UpdateTimezoneMessage): Promise<z.input<typeof TimezoneSettingBody>> {
  const tenant = await findTenant(tenantId);
  if (!tenant) throw NotFoundError('Tenant');
  if (tenant.timezone === msg.timezone) return presentTimezoneSetting(tenant);
  const updated = await updateTenant(tenantId, { timezone: msg.timezone, timezone_updated_at: new Date() });
  if (!updated) throw NotFoundError('Tenant');
  return presentTimezoneSetting(updated);
}

/** The working-hours message types of the tenant actor. */
export const workingHoursHandlers = {
  'working_hours.upsert': upsertWorkingHours,
  'working_hours.override_remove': removeOverride,
  'working_hours.holidays_replace': replaceHolidays,
  'settings.timezone_update': updateTimezone,
};
