/**
 * The tenant's global automation switches, one document per tenant whose `_id` is the tenant id
 * (a point read on every evaluation). A tenant that never changed them has none and reads the
 * defaults.
 */
import { model, Schema } from 'mongoose';
import { collectionOf, findDocById } from './driver.js';

/** A tenant's automation control. */
export interface AutomationControl {
  /** The tenant id. */
  _id: string;
  /** No rule runs while paused; queued events wait (they are not skipped). */
  paused: boolean;
  /** Rules are evaluated and runs recorded, but no action is taken. */
  dry_run: boolean;
  /** Actions per minute the tenant's rules may take; further actions are skipped with a reason. */
  max_actions_per_minute: number;
  /** How long a chain of rule-caused events may grow before it stops (recorded on the item). */
  max_chain_depth: number;
  updated_at: Date | null;
  updated_by: string | null;
}

/** What a tenant that never set its control reads. */
export const DEFAULT_CONTROL: Omit<AutomationControl, '_id'> = {
  paused: false,
  dry_run: false,
  max_actions_per_minute: 600,
  max_chain_depth: 3,
  updated_at: null,
  updated_by: null,
};

const schema = new Schema<AutomationControl>(
  {
    _id: { type: String, required: true },
    paused: { type: Boolean, required: true },
    dry_run: { type: Boolean, required: true },
    max_actions_per_minute: { type: Number, required: true },
    max_chain_depth: { type: Number, required: true },
    updated_at: { type: Date, default: null },
    updated_by: { type: String, default: null },
  },
  { collection: 'automation_control', versionKey: false, minimize: false },
);

/** The automation_control collection. */
export const AutomationControlModel = model<AutomationControl>('AutomationControl', schema);

/** The tenant's control (the defaults when it never set one). */
export async function findAutomationControl(tenantId: string): Promise<AutomationControl> {
  const doc = await findDocById<AutomationControl>(AutomationControlModel, tenantId);
  return doc ?? { _id: tenantId, ...DEFAULT_CONTROL };
}

/** Sets fields of the tenant's control (creating it from the defaults); answers it as stored. */
export async function saveAutomationControl(tenantId: string, set: Partial<Omit<AutomationControl, '_id'>>, updatedBy: string | null): Promise<AutomationControl> {
  const now = new Date();
  const defaults = Object.fromEntries(Object.entries(DEFAULT_CONTROL).filter(([k]) => !(k in set) && k !== 'updated_at' && k !== 'updated_by'));
  const doc = await collectionOf(AutomationControlModel).findOneAndUpdate(
    { _id: tenantId },
    { $set: { ...set, updated_at: now, updated_by: updatedBy }, $setOnInsert: defaults },
    { upsert: true, returnDocument: 'after' },
  );
  return doc as unknown as AutomationControl;
}
