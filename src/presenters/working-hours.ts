/** Working hours, holidays, the time-zone setting and the public status, as they leave the API. */
import { z } from 'zod';
import type { Tenant } from '../models/tenant.js';
import type { Holiday, WorkingHoursEntry, WorkingHoursSchedule } from '../models/working-hours.js';
import type { WorkingHoursState } from '../services/working-hours-status.js';
import { iso } from './page.js';

/** One working-hours range. */
export const WorkingHoursEntryBody = z.object({
  id: z.uuid(),
  division_id: z.uuid().nullable().describe('null for the global hours'),
  day_of_week: z.number().int().min(0).max(6).describe('Day of the week (0 = Sunday, 6 = Saturday)'),
  start_time: z.string().describe('HH:MM:SS, local to the tenant time zone'),
  end_time: z.string().describe('HH:MM:SS; before start_time = runs past midnight into the next day; 24:00:00 = end of day'),
  is_active: z.boolean().describe('false = closed (the range is kept but does not open the business)'),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** A schedule: its ranges by day, then start time. */
export const WorkingHoursListBody = z.array(WorkingHoursEntryBody);

/** A division's effective hours. */
export const DivisionWorkingHoursBody = z.object({
  is_override: z.boolean().describe('True if the division has its own schedule; false = the global hours shown'),
  working_hours: WorkingHoursListBody,
});

/** One public holiday. */
export const HolidayBody = z.object({
  id: z.uuid(),
  date: z.iso.date().describe('YYYY-MM-DD in the tenant time zone'),
  name: z.string(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** The holiday list. */
export const HolidaysBody = z.object({ holidays: z.array(HolidayBody) });

/** The time-zone setting. */
export const TimezoneSettingBody = z.object({
  key: z.literal('timezone'),
  value: z.string().describe('IANA time zone, e.g. Asia/Jakarta'),
  updated_at: z.iso.datetime(),
});

/** The public status answer. */
export const WorkingHoursStatusBody = z.object({
  is_working_hours: z.boolean(),
  timezone: z.string(),
  current_time: z.string().describe('HH:MM, local'),
  next_change_at: z.iso.datetime().nullable().describe('RFC3339 timestamp of next working hours transition; null if none is scheduled'),
  holiday: z.object({ date: z.iso.date(), name: z.string() }).nullable().describe("Today's public holiday (local date), if any"),
});

/** The stored part of a schedule a presenter needs. */
type ScheduleView = Pick<WorkingHoursSchedule, 'division_id' | 'entries'>;

/** Shapes one range of a schedule. */
export function presentWorkingHoursEntry(e: WorkingHoursEntry, divisionId: string | null): z.infer<typeof WorkingHoursEntryBody> {
  return {
    id: e.id,
    division_id: divisionId,
    day_of_week: e.day_of_week,
    start_time: e.start_time,
    end_time: e.end_time,
    is_active: e.is_active,
    created_at: iso(e.created_at) as string,
    updated_at: iso(e.updated_at) as string,
  };
}

/** Shapes a schedule's ranges, ordered by day then start time; no schedule = no ranges. */
export function presentWorkingHours(schedule: ScheduleView | null): z.infer<typeof WorkingHoursListBody> {
  if (!schedule) return [];
  return [...schedule.entries]
    .sort((a, b) => a.day_of_week - b.day_of_week || a.start_time.localeCompare(b.start_time))
    .map((e) => presentWorkingHoursEntry(e, schedule.division_id));
}

/** Shapes a holiday list, ordered by date. */
export function presentHolidays(holidays: Holiday[]): z.infer<typeof HolidaysBody> {
  return {
    holidays: [...holidays]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((h) => ({ id: h.id, date: h.date, name: h.name, created_at: iso(h.created_at) as string, updated_at: iso(h.updated_at) as string })),
  };
}

/** Shapes the tenant's time zone as a setting. */
export function presentTimezoneSetting(t: Pick<Tenant, 'timezone' | 'timezone_updated_at'>): z.infer<typeof TimezoneSettingBody> {
  return { key: 'timezone', value: t.timezone, updated_at: iso(t.timezone_updated_at) as string };
}

/** Shapes a computed status. */
export function presentWorkingHoursStatus(s: WorkingHoursState): z.infer<typeof WorkingHoursStatusBody> {
  return {
    is_working_hours: s.isOpen,
    timezone: s.timezone,
    current_time: s.localTime,
    next_change_at: iso(s.nextChangeAt),
    holiday: s.holiday,
  };
}
