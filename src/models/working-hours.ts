/**
 * Working hours. One document per scope (the tenant's global hours, or one division's override),
 * with `_id` = naturalId('working-hours', tenant, scope), so the public status check is a single
 * `_id` lookup and a whole schedule is replaced in one document write.
 */
import { model, Schema } from 'mongoose';
import { baseSchema, type TenantDoc } from './base.js';
import { tenantRepo } from './repo.js';

/** One opening range on one weekday; several per day make split shifts. */
export interface WorkingHoursEntry {
  id: string;
  day_of_week: number;
  /** `HH:MM:SS`; an end before the start runs past midnight. */
  start_time: string;
  end_time: string;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A date on which the business is closed (tenant-wide). */
export interface Holiday {
  id: string;
  /** `YYYY-MM-DD` in the tenant's time zone. */
  date: string;
  name: string;
  created_at: Date;
  updated_at: Date;
}

/** A stored schedule. */
export interface WorkingHoursSchedule extends TenantDoc {
  /** null for the tenant's global hours. */
  division_id: string | null;
  entries: WorkingHoursEntry[];
  holidays: Holiday[];
}

const entrySchema = new Schema<WorkingHoursEntry>(
  {
    id: { type: String, required: true },
    day_of_week: { type: Number, required: true },
    start_time: { type: String, required: true },
    end_time: { type: String, required: true },
    is_active: { type: Boolean, required: true },
    created_at: { type: Date, required: true },
    updated_at: { type: Date, required: true },
  },
  { _id: false },
);
const holidaySchema = new Schema<Holiday>(
  {
    id: { type: String, required: true },
    date: { type: String, required: true },
    name: { type: String, required: true },
    created_at: { type: Date, required: true },
    updated_at: { type: Date, required: true },
  },
  { _id: false },
);

const schema = baseSchema<WorkingHoursSchedule>(
  {
    tenant_id: { type: String, required: true },
    division_id: { type: String, default: null },
    entries: { type: [entrySchema], default: [] },
    holidays: { type: [holidaySchema], default: [] },
  },
  'working_hours',
);

/** The working_hours collection. */
export const WorkingHoursModel = model<WorkingHoursSchedule>('WorkingHours', schema);

/** Tenant-scoped access to schedules. */
export const workingHours = tenantRepo(WorkingHoursModel, 'Working hours');

/** Writes a whole schedule (insert or replace) in one document write. */
export async function saveSchedule(doc: Omit<WorkingHoursSchedule, 'created_at' | 'updated_at'> & { created_at?: Date }): Promise<void> {
  const now = new Date();
  await WorkingHoursModel.replaceOne(
    { _id: doc._id },
    { ...doc, created_at: doc.created_at ?? now, updated_at: now },
    { upsert: true, timestamps: false },
  ).exec();
}
