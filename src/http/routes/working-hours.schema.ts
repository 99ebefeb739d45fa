/** Schemas of the Working Hours group. */
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { toHms } from '../../services/working-hours-status.js';
import { Id } from '../schemas/common.js';

const CLOCK = '(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d)?';

/** A start time: `HH:MM` or `HH:MM:SS`, 00:00-23:59:59, stored as `HH:MM:SS`. */
const StartTime = z
  .string()
  .regex(new RegExp(`^${CLOCK}$`), 'must be HH:MM (00:00-23:59)')
  .transform(toHms);

/** An end time: like a start time, or 24:00 for the end of the day. */
const EndTime = z
  .string()
  .regex(new RegExp(`^(?:${CLOCK}|24:00(?::00)?)$`), 'must be HH:MM (00:00-24:00)')
  .transform(toHms);

/** One range of one weekday. */
export const WorkingHoursDay = z.strictObject({
  day_of_week: z.number().int().min(0).max(6).describe('Day of the week (0 = Sunday, 6 = Saturday)'),
  start_time: StartTime,
  end_time: EndTime.describe('Before start_time = runs past midnight (e.g. 22:00-06:00); 24:00 = end of day'),
  is_active: z.boolean().default(true).describe('false = this range does not open; a day whose ranges are all inactive is closed'),
});

/** PUT /api/working-hours and PUT /api/working-hours/divisions/{id} */
export const UpsertWorkingHoursBody = z.strictObject({
  days: z
    .array(WorkingHoursDay)
    .min(1, 'must name at least one day')
    .max(84)
    .describe('The ranges of every day named here replace that day’s ranges; other days stay. Several ranges per day = split shift.'),
});

/** PUT /api/working-hours/holidays */
export const ReplaceHolidaysBody = z.strictObject({
  holidays: z
    .array(
      z.strictObject({
        date: z.iso
          .date({ message: 'must be a date YYYY-MM-DD' })
          .refine((d) => d >= '2000-01-01' && d <= '2100-12-31', 'must be between 2000-01-01 and 2100-12-31'),
        name: z.string().trim().min(1).max(120),
      }),
    )
    .max(366)
    .describe('The whole list; it replaces the stored one. One entry per date.'),
});

/** PUT /api/settings/timezone */
export const TimezoneBody = z.strictObject({
  timezone: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA time zone such as Asia/Jakarta')
    // Store the canonical spelling ("asia/jakarta" -> "Asia/Jakarta"), never a different zone.
    .transform((tz) => {
      const canonical = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
      return canonical.toLowerCase() === tz.toLowerCase() ? canonical : tz;
    }),
});

/** GET /api/working-hours/status */
export const StatusQuery = z.strictObject({
  tenant: z.string().trim().min(1).max(80).optional().describe('Tenant id or slug; ignored when credentials are sent'),
  division_id: Id.optional().describe("Use this division's override, if it has one"),
});
