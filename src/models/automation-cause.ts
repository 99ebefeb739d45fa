/**
 * The causation ledger: which events a rule's actions caused. A run that took actions on a
 * conversation records the window of the tenant's event log its actions wrote in (the head seq
 * before the first action and after the last): every event of that conversation inside the
 * window was caused by the rule, one step deeper in its chain. The worker evaluates a
 * conversation's items in seq order, so a caused event's item is evaluated only after the run
 * that caused it has written its window here. (Events of that conversation from elsewhere in the
 * same milliseconds, a customer message arriving while the actions ran, count as caused too:
 * the cost is that the rule does not re-fire on them.)
 */
import { model, Schema } from 'mongoose';
import { naturalId } from '../ids.js';
import { collectionOf } from './driver.js';

/** One run's window of caused events. */
export interface AutomationCause {
  /** naturalId(tenant, run). */
  _id: string;
  tenant_id: string;
  conversation_id: string;
  run_id: string;
  /** Events with from_seq < seq <= to_seq of the conversation were caused. */
  from_seq: number;
  to_seq: number;
  /** The chain so far, this run's rule last. */
  rule_ids: string[];
  /** The depth the caused events have (the causing item's depth + 1). */
  depth: number;
  created_at: Date;
}

const schema = new Schema<AutomationCause>(
  {
    _id: { type: String, required: true },
    tenant_id: { type: String, required: true },
    conversation_id: { type: String, required: true },
    run_id: { type: String, required: true },
    from_seq: { type: Number, required: true },
    to_seq: { type: Number, required: true },
    rule_ids: { type: [String], default: [] },
    depth: { type: Number, required: true },
    created_at: { type: Date, required: true },
  },
  { collection: 'automation_causes', versionKey: false },
);
// "Which window holds this event of this conversation": the windows ending at or after its seq.
schema.index({ tenant_id: 1, conversation_id: 1, to_seq: 1 });

/** The automation_causes collection. */
export const AutomationCauseModel = model<AutomationCause>('AutomationCause', schema);

/** Records a run's window (once per run). */
export async function recordAutomationCause(cause: Omit<AutomationCause, '_id' | 'created_at'>): Promise<void> {
  await collectionOf(AutomationCauseModel).updateOne(
    { _id: naturalId('automation-cause', cause.tenant_id, cause.run_id) },
    { $setOnInsert: { ...cause, created_at: new Date() } },
    { upsert: true },
  );
}

/** The windows of a conversation that hold `seq` (several when rules' actions overlapped). */
export const causesOfEvent = (tenantId: string, conversationId: string, seq: number) =>
  AutomationCauseModel.find({ tenant_id: tenantId, conversation_id: conversationId, to_seq: { $gte: seq }, from_seq: { $lt: seq } }).lean<AutomationCause[]>().exec();
