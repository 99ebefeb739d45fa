/**
 * A campaign recipient's status moves forward only, and each move is counted once: the move is a
 * compare-and-set on the status it was judged from, and only the writer that made it adds to the
 * campaign's counters. The run (recording a send) and the delivery-status listener (webhooks)
 * both come here, in any order and any number of times: a replayed event, or the provider's own
 * `sent` after the run recorded it, finds the status already there and counts nothing.
 *
 * Counters: `sent`, `delivered` and `read` count recipients that ever reached them (a `read`
 * without a `delivered` before it counts both: WhatsApp only reads what it delivered); `failed`
 * counts recipients failed now. `failed` is final and is not taken after `read`, as for messages.
 */
import { campaignRecipients, incrementCounters, moveRecipient, type CampaignCounters, type CampaignRecipient, type RecipientStatus } from '../models/campaign.js';

/** Where a recipient can move. */
export type RecipientTarget = 'sent' | 'delivered' | 'read' | 'failed';

/** What the move records. */
export interface RecipientUpdate {
  messageId?: string | null;
  externalId?: string | null;
  error?: { code: string; message: string } | null;
  at: Date;
}

const LEVELS = ['sent', 'delivered', 'read'] as const;
const STAMP = { sent: 'sent_at', delivered: 'delivered_at', read: 'read_at' } as const;
const rank = (s: RecipientStatus) => (s === 'pending' || s === 'sending' ? 0 : s === 'failed' ? -1 : LEVELS.indexOf(s) + 1);

/** The fields and counter increments of moving `r` to `to`, or null when it is not a move forward. */
function moveOf(r: CampaignRecipient, to: RecipientTarget, u: RecipientUpdate): { set: Partial<CampaignRecipient>; inc: Partial<CampaignCounters> } | null {
  const ids: Partial<CampaignRecipient> = {
    ...(u.messageId && !r.message_id ? { message_id: u.messageId } : {}),
    ...(u.externalId && !r.external_id ? { external_id: u.externalId } : {}),
  };
  if (to === 'failed') {
    if (r.status === 'failed' || r.status === 'read') return null;
    return { set: { ...ids, status: 'failed', failed_at: u.at, error: u.error ?? { code: 'failed', message: 'The provider reported the message as failed' } }, inc: { failed: 1 } };
  }
  if (r.status === 'failed' || rank(to) <= rank(r.status)) return null;
  const set: Partial<CampaignRecipient> = { ...ids, status: to };
  const inc: Partial<CampaignCounters> = {};
  for (const level of LEVELS.slice(0, LEVELS.indexOf(to) + 1)) {
    if (r[STAMP[level]]) continue;
    set[STAMP[level]] = u.at;
    inc[level] = 1;
  }
  return { set, inc };
}

/**
 * Moves a recipient forward to `to` and counts it; false when it was there already (or further,
 * or failed). A lost compare-and-set (the other writer moved it meanwhile) is judged again on
 * the recipient as it is now.
 */
export async function advanceRecipient(recipient: CampaignRecipient, to: RecipientTarget, u: RecipientUpdate): Promise<boolean> {
  let r: CampaignRecipient | null = recipient;
  for (let attempt = 0; attempt < 4 && r; attempt++) {
    const move = moveOf(r, to, u);
    if (!move) return false;
    if (await moveRecipient(r._id, r.status, move.set)) {
      await incrementCounters(r.campaign_id, move.inc);
      return true;
    }
    r = await campaignRecipients.findOwnedOrNull(r.tenant_id, r._id);
  }
  return false;
}
