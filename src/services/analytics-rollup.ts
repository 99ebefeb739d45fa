/**
 * Keeps the analytics roll-ups (models/analytics-rollup.ts) from one event at a time, in seq order
 * per tenant, at least once. What is counted:
 *  - opened: a conversation's creation, at its created_at;
 *  - resolved / closed / expired: a change into that status, at the event's updated_at (a change
 *    of tags while resolved counts nothing: the status is compared to what was last seen);
 *  - handled and handle_ms: a first resolution (or close/expiry) with an assignee, and the time
 *    from opening to it;
 *  - assigned: a change of assignee to an agent;
 *  - messages_in / messages_out: every message, at its sent_at (system messages are outbound).
 * Each count carries the conversation's channel, division, assignee and account at the time it
 * happened: a transfer moves the counts after it, not the ones before.
 * Replays: the conversation's view keeps the seq of the last event of that conversation applied,
 * and is written after the roll-up increment. An event at or before it was applied whole and is
 * skipped; one after it meets the view as it was before the event, so it computes the same
 * increment on the same roll-up document as the first time, and that document's own seq guard
 * (models/analytics-rollup.ts) refuses it if the crash came between the two writes. (Without the
 * first check, a replayed message could land on another agent's roll-up after a reassignment.)
 */
import { applyRollup, findAnalyticsConversation, saveAnalyticsConversation, type AnalyticsConversation, type RollupDimensions } from '../models/analytics-rollup.js';

/** What the roll-ups read of a presented conversation. */
export interface ConversationFacts {
  id: string;
  status: string;
  channel: string;
  account_id: string | null;
  division_id: string | null;
  assignee_id: string | null;
  created_at: string;
  updated_at: string;
}

/** What the roll-ups read of a presented message. */
export interface MessageFacts {
  conversation_id: string;
  channel: string;
  direction: 'inbound' | 'outbound';
  sender_type: string;
  sent_at: string;
}

const ENDED = new Set(['resolved', 'closed', 'expired']);
// Messages that answer the customer (as the SLA clock counts them).
const REPLY_SENDERS = new Set(['agent', 'ai']);

const dimsOf = (c: ConversationFacts): RollupDimensions => ({ channel: c.channel, division_id: c.division_id, agent_id: c.assignee_id, account_id: c.account_id });

/** Applies a conversation event (created or any change). */
export async function rollUpConversation(tenantId: string, c: ConversationFacts, seq: number, created: boolean): Promise<void> {
  const seen = await findAnalyticsConversation(tenantId, c.id);
  if (seen && seen.last_seq >= seq) return;
  const dims = dimsOf(c);
  const at = new Date(c.updated_at);
  const openedAt = seen?.opened_at ?? new Date(c.created_at);
  const inc: Partial<Record<'opened' | 'resolved' | 'closed' | 'expired' | 'assigned' | 'handled' | 'handle_ms', number>> = {};
  let resolvedAt = seen?.resolved_at ?? null;
  if (created && !seen) inc.opened = 1;
  if (ENDED.has(c.status) && seen?.status !== c.status) {
    inc[c.status as 'resolved' | 'closed' | 'expired'] = 1;
    if (!resolvedAt) {
      resolvedAt = at;
      if (c.assignee_id) {
        inc.handled = 1;
        inc.handle_ms = Math.max(0, at.getTime() - openedAt.getTime());
      }
    }
  }
  if (c.assignee_id && c.assignee_id !== (seen ? seen.agent_id : null)) inc.assigned = 1;
  // Opened counts at creation time; everything else at the change.
  if (Object.keys(inc).length) await applyRollup(tenantId, inc.opened ? new Date(c.created_at) : at, dims, inc, seq);
  // Most changes (a new message's count and preview) move nothing the view holds: no write. Its
  // seq stays older, and a replay of this event again finds nothing to count or to write.
  if (seen && Object.keys(inc).length === 0 && seen.status === c.status && sameDimensions(seen, dims) && seen.resolved_at === resolvedAt) return;
  const view: Omit<AnalyticsConversation, 'created_at' | 'updated_at'> = {
    _id: c.id,
    tenant_id: tenantId,
    ...dims,
    status: c.status,
    opened_at: openedAt,
    first_response_at: seen?.first_response_at ?? null,
    resolved_at: resolvedAt,
    last_seq: seq,
  };
  await saveAnalyticsConversation(view);
}

/** Applies a new message. */
export async function rollUpMessage(tenantId: string, m: MessageFacts, seq: number): Promise<void> {
  const seen = await findAnalyticsConversation(tenantId, m.conversation_id);
  if (seen && seen.last_seq >= seq) return;
  const dims: RollupDimensions = seen
    ? { channel: seen.channel, division_id: seen.division_id, agent_id: seen.agent_id, account_id: seen.account_id }
    : { channel: m.channel, division_id: null, agent_id: null, account_id: null };
  const at = new Date(m.sent_at);
  await applyRollup(tenantId, at, dims, m.direction === 'inbound' ? { messages_in: 1 } : { messages_out: 1 }, seq);
  // The view changes only with the first reply. For other messages it is not written: a replay
  // meets the same view (any later change of its dimensions carries a later seq, and the view
  // skips this event then), lands on the same roll-up document, and that document refuses the seq.
  const reply = seen !== null && !seen.first_response_at && m.direction === 'outbound' && REPLY_SENDERS.has(m.sender_type);
  if (!seen || !reply) return;
  const { created_at: _c, updated_at: _u, ...rest } = seen;
  await saveAnalyticsConversation({ ...rest, first_response_at: at, last_seq: seq });
}

const sameDimensions = (a: RollupDimensions, b: RollupDimensions) =>
  a.channel === b.channel && a.division_id === b.division_id && a.agent_id === b.agent_id && a.account_id === b.account_id;
