/**
 * Recording an SLA breach exactly once: the breach's `_id` is its natural key (conversation,
 * policy, target), so whoever inserts it first (one of two sweepers, or the listener seeing a
 * late reply) records it and the others find it. `sla.breached` derives its id from the breach,
 * so emitting it again after a crash between the claim and the append stores nothing new.
 */
import { audienceOf } from '../events/audience.js';
import { draftEvent, emitMissingEvents } from '../events/publish.js';
import { EVENTS } from '../events/types.js';
import { naturalId } from '../ids.js';
import { conversations } from '../models/conversation.js';
import { claimSlaBreach, slaBreaches, type SlaBreach, type SlaRecord, type SlaTarget } from '../models/sla-record.js';
import { presentSlaBreachEvent } from '../presenters/sla.js';

/** The `_id` of a conversation's breach of one target of one policy. */
export const slaBreachId = (tenantId: string, conversationId: string, policyId: string, target: SlaTarget) =>
  naturalId('sla-breach', tenantId, conversationId, policyId, target);

/**
 * Records the breach of `target` on the record's policy (once) and makes sure its event is in
 * the log; answers the breach as stored (by this call or an earlier one).
 */
export async function recordBreach(r: SlaRecord, target: SlaTarget, at: Date): Promise<SlaBreach> {
  const clock = r[target];
  if (!clock?.due_at || !r.policy_id) throw new Error(`SLA record ${r._id} has no due ${target} clock to breach`);
  const id = slaBreachId(r.tenant_id, r.conversation_id, r.policy_id, target);
  const doc = {
    _id: id,
    tenant_id: r.tenant_id,
    policy_id: r.policy_id,
    conversation_id: r.conversation_id,
    target,
    target_minutes: clock.target_minutes,
    due_at: new Date(clock.due_at),
    breached_at: at,
  };
  const breach = (await claimSlaBreach(doc)) ? { ...doc, created_at: at, updated_at: at } : await slaBreaches.findOwned(r.tenant_id, id);
  const conversation = await conversations.findOwned(r.tenant_id, r.conversation_id);
  const event = draftEvent(r.tenant_id, `sla-breach:${id}`, EVENTS.slaBreached, presentSlaBreachEvent(breach, r.policy_name), audienceOf(conversation));
  await emitMissingEvents(r.tenant_id, [event]);
  return breach;
}
