/**
 * Conversations a rule snoozed: set pending until `until`, then opened again by the automation
 * sweep. One per conversation (`_id` = naturalId(tenant, conversation)): a later snooze moves the
 * wake-up time; the sweep deletes it once the conversation is woken (or has moved on).
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { collectionOf } from './driver.js';

/** A stored snooze. */
export interface AutomationSnooze {
  _id: string;
  tenant_id: string;
  conversation_id: string;
  rule_id: string;
  until: Date;
  created_at: Date;
}

const schema = new Schema<AutomationSnooze>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    rule_id: { type: String, required: true },
    until: { type: Date, required: true },
    created_at: { type: Date, required: true },
  },
  { collection: 'automation_snoozes', versionKey: false },
);
// The sweep's "snoozes due now", every tenant, soonest first.
schema.index({ until: 1 });

/** The automation_snoozes collection. */
export const AutomationSnoozeModel = model<AutomationSnooze>('AutomationSnooze', schema);

/** Sets (or moves) the conversation's wake-up time. */
export async function saveAutomationSnooze(tenantId: string, conversationId: string, ruleId: string, until: Date): Promise<void> {
  await collectionOf(AutomationSnoozeModel).updateOne(
    { _id: naturalId('automation-snooze', tenantId, conversationId) },
    { $set: { tenant_id: tenantId, conversation_id: conversationId, rule_id: ruleId, until, created_at: new Date() } },
    { upsert: true },
  );
}

/** Up to `limit` snoozes due at `now`. */
export const dueAutomationSnoozes = (now: Date, limit: number) => AutomationSnoozeModel.find({ until: { $lte: now } }).sort({ until: 1 }).limit(limit).lean<AutomationSnooze[]>().exec();

/** Deletes the snooze if it still wakes at `until` (a later snooze of the same conversation stays). */
export async function removeAutomationSnooze(s: Pick<AutomationSnooze, '_id' | 'until'>): Promise<void> {
  await collectionOf(AutomationSnoozeModel).deleteOne({ _id: s._id, until: s.until });
}
