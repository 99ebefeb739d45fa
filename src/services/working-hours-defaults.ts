/** The schedule a new tenant starts with: Monday to Friday, 08:00-17:00. */
import { naturalId } from '../ids.js';
import { saveSchedule, type WorkingHoursEntry } from '../models/working-hours.js';

/** The `_id` of a scope's schedule document (division null = global). */
export const scheduleId = (tenantId: string, divisionId: string | null) =>
  naturalId('working-hours', tenantId, divisionId ?? 'global');

/** The `id` of one range within a schedule. */
export const entryId = (tenantId: string, divisionId: string | null, day: number, start: string) =>
  naturalId('working-hours-entry', tenantId, divisionId ?? 'global', String(day), start);

/** Writes the default global schedule for a new tenant. */
export async function createDefaultSchedule(tenantId: string): Promise<void> {
  const now = new Date();
  const entries: WorkingHoursEntry[] = [1, 2, 3, 4, 5].map((day) => ({
    id: entryId(tenantId, null, day, '08:00:00'),
    day_of_week: day,
    start_time: '08:00:00',
    end_time: '17:00:00',
    is_active: true,
    created_at: now,
    updated_at: now,
  }));
  await saveSchedule({ _id: scheduleId(tenantId, null), tenant_id: tenantId, division_id: null, entries, holidays: [] });
}
