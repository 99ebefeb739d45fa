/**
 * The CSAT listener: when a conversation becomes resolved and the tenant sends surveys on
 * resolve, creates its survey and sends the rating link (services/csat.ts). Once per
 * conversation whatever happens: the survey's `_id` is the conversation's natural key, so a
 * replayed event or a second resolution after a reopen finds it made. A failure retries the
 * event (a transient database or actor error must not lose the survey).
 */
import { surveyResolvedConversation } from '../../services/csat.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent } from '../types.js';

/** The durable CSAT listener. */
export const csatListener: DurableListener = {
  name: 'csat',
  runs: 'durable',
  onFailure: 'retry',
  events: [EVENTS.conversationUpdated],
  async handle(e: DomainEvent) {
    const c = e.data as { id: string; status: string };
    if (c.status === 'resolved') await surveyResolvedConversation(e.tenant_id, c.id);
  },
};
