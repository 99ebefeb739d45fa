/**
 * Campaign recipients follow their messages' delivery: every `message.updated` of a campaign's
 * message (its content names the campaign and recipient, `content.campaign`) moves the recipient
 * forward (sent -> delivered -> read, or failed with the provider's reason) and counts the move
 * on the campaign once (src/services/campaign-statuses.ts). Durable: at least once, in seq order
 * per tenant, resumed from its cursor after a restart; a replayed event finds the recipient moved
 * already and counts nothing.
 */
import { campaignRecipients } from '../../models/campaign.js';
import { advanceRecipient, type RecipientTarget } from '../../services/campaign-statuses.js';
import type { DurableListener } from '../listener.js';
import { EVENTS, type DomainEvent } from '../types.js';

/** The parts of a presented message this listener reads. */
interface MessageData {
  id?: string;
  status?: string;
  external_id?: string | null;
  errors?: { code?: unknown; message?: unknown }[];
  content?: { campaign?: { id?: string; recipient_id?: string } };
}

const TARGETS: readonly string[] = ['sent', 'delivered', 'read', 'failed'];

/** Moves the campaign recipient of an updated message. */
async function handle(event: DomainEvent): Promise<void> {
  const m = event.data as MessageData;
  const recipientId = m.content?.campaign?.recipient_id;
  if (!recipientId || !m.status || !TARGETS.includes(m.status)) return;
  const recipient = await campaignRecipients.findOwnedOrNull(event.tenant_id, recipientId);
  // Only the recipient's own message speaks for it (tenant-scoped read: another tenant's id is no one).
  if (!recipient || (recipient.message_id && recipient.message_id !== m.id)) return;
  const [first] = m.errors ?? [];
  const error = m.status === 'failed' ? { code: String(first?.code ?? 'failed'), message: String(first?.message ?? 'The provider reported the message as failed') } : null;
  await advanceRecipient(recipient, m.status as RecipientTarget, { messageId: m.id ?? null, externalId: m.external_id ?? null, error, at: new Date(event.created_at) });
}

/** The campaign delivery-status listener. */
export const campaignStatusesListener: DurableListener = {
  name: 'campaign-statuses',
  runs: 'durable',
  events: [EVENTS.messageUpdated],
  // A database hiccup: try the same event again later, holding the later ones (order matters: read after delivered).
  onFailure: 'retry',
  handle,
};
