/**
 * Recording SLA breaches exactly once: a breach's `_id` is its natural key (conversation,
 * policy, target), so whoever inserts it first (one of two sweepers, or the listener seeing a
 * late reply) records it and the others find it. `sla.breached` derives its id from the breach,
 * so emitting it again after a crash between the claim and the append stores nothing new.
 *
 * Batched for the sweeper: the claims of a page of due clocks are one unordered insert (a
 * duplicate is "recorded already", the others still go in), and each tenant's events one append.
 */
import { audienceOf } from '../events/audience.js';
import { draftEvent, emitMissingEvents } from '../events/publish.js';
import { EVENTS, type EventDraft } from '../events/types.js';
import { naturalId } from '../ids.js';
import { conversations } from '../models/conversation.js';
import { claimSlaBreaches, slaBreaches, type SlaBreach, type SlaRecord, type SlaTarget } from '../models/sla-record.js';
import { presentSlaBreachEvent } from '../presenters/sla.js';

/** The `_id` of a conversation's breach of one target of one policy. */
export const slaBreachId = (tenantId: string, conversationId: string, policyId: string, target: SlaTarget) =>
  naturalId('sla-breach', tenantId, conversationId, policyId, target);

/** One clock to record a breach of: a record and one of its targets, due and unmet. */
export interface DueClock {
  record: SlaRecord;
  target: SlaTarget;
}

/** The breach of a due clock, recorded at `at`. */
function breachOf({ record: r, target }: DueClock, at: Date): SlaBreach {
  const clock = r[target];
  if (!clock?.due_at || !r.policy_id) throw new Error(`SLA record ${r._id} has no due ${target} clock to breach`);
  return {
    _id: slaBreachId(r.tenant_id, r.conversation_id, r.policy_id, target),
    tenant_id: r.tenant_id,
    policy_id: r.policy_id,
    conversation_id: r.conversation_id,
    target,
    target_minutes: clock.target_minutes,
    due_at: new Date(clock.due_at),
    breached_at: at,
    created_at: at,
    updated_at: at,
  };
}

/** Indexes of `items` grouped by tenant. */
function byTenant(items: readonly DueClock[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((d, i) => {
    const group = groups.get(d.record.tenant_id);
    if (group) group.push(i);
    else groups.set(d.record.tenant_id, [i]);
  });
  return groups;
}

/**
 * Records the breaches of these clocks at `at`, each once, and makes sure each one's
 * `sla.breached` is in the log; answers the breaches as stored (by this call or an earlier one,
 * whose time stands), in the order given. Round trips: one insert for every claim, then per
 * tenant one read of the conversations (the events' audience) and one append of the events;
 * breaches found recorded already cost a read of them and of their events, which may be missing
 * after a crash between an earlier claim and its append.
 */
export async function recordBreaches(due: readonly DueClock[], at: Date): Promise<SlaBreach[]> {
  const docs = due.map((d) => breachOf(d, at));
  const claimed = await claimSlaBreaches(docs);
  const stored = [...docs];
  await Promise.all(
    [...byTenant(due)].map(async ([tenantId, indexes]) => {
      const earlier = indexes.filter((i) => !claimed[i]);
      const [found, convs] = await Promise.all([
        slaBreaches.findMany(tenantId, earlier.map((i) => (docs[i] as SlaBreach)._id)),
        conversations.findMany(tenantId, indexes.map((i) => (due[i] as DueClock).record.conversation_id)),
      ]);
      const foundById = new Map(found.map((b) => [b._id, b]));
      const convById = new Map(convs.map((c) => [c._id, c]));
      const fresh: EventDraft[] = [];
      const maybeLogged: EventDraft[] = [];
      for (const i of indexes) {
        const { record } = due[i] as DueClock;
        const breach = foundById.get((docs[i] as SlaBreach)._id) ?? (docs[i] as SlaBreach);
        stored[i] = breach;
        const audience = audienceOf(convById.get(record.conversation_id) ?? { _id: record.conversation_id, division_id: record.division_id, assignee_id: null });
        const draft = draftEvent(tenantId, `sla-breach:${breach._id}`, EVENTS.slaBreached, presentSlaBreachEvent(breach, record.policy_name), audience);
        // A breach claimed just now has no event yet; one recorded earlier may have (it is looked up).
        (claimed[i] ? fresh : maybeLogged).push(draft);
      }
      await emitMissingEvents(tenantId, maybeLogged, fresh);
    }),
  );
  return stored;
}

/** Records the breach of one clock at `at` (once); answers it as stored (by this call or an earlier one). */
export async function recordBreach(r: SlaRecord, target: SlaTarget, at: Date): Promise<SlaBreach> {
  const [breach] = await recordBreaches([{ record: r, target }], at);
  return breach as SlaBreach;
}
