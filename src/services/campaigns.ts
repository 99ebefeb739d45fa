/**
 * Campaigns: a message sent to many recipients through one sending account. States:
 * draft -> scheduled (send_at in the future) or sending -> completed | cancelled | failed. Only a
 * draft can be edited, deleted, or have its recipients changed; every transition is one atomic
 * compare-and-set on the state, so a cancel racing the run's completion has one winner.
 * Sending itself is src/services/campaign-run.ts.
 */
import type { ChannelName } from '../../channels/types.js';
import { BodyFieldError, StateError } from '../errors.js';
import { newId } from '../ids.js';
import {
  campaignRecipients,
  campaigns,
  transitionCampaign,
  type Campaign,
  type CampaignMessage,
  type CampaignStatus,
} from '../models/campaign.js';
import { findIntegration } from '../models/integration.js';
import { integrationAccounts } from '../models/integration-account.js';
import type { Page } from '../models/repo.js';
import type { Acting } from './agents.js';
import { campaignMessageProblem, templateComponents, unknownVariables } from './campaign-rules.js';
import { queueCampaignRun } from './campaign-run.js';
import { checkTemplateSend } from './wa-template-sends.js';

/** A 422 naming the state a campaign is in. */
export const notDraft = (c: Pick<Campaign, 'status'>, what: string) => StateError(`Only draft campaigns can ${what}; this one is ${c.status}`);

/** The account a campaign sends through: the one given (of its channel), else the channel's default. */
async function sendingAccount(tenantId: string, channel: ChannelName, accountId: string | null | undefined): Promise<string> {
  if (accountId) {
    const account = await integrationAccounts.findOwnedOrNull(tenantId, accountId);
    if (!account || account.channel !== channel) throw BodyFieldError('account_id', `must be one of the organization's ${channel} accounts`);
    return account._id;
  }
  const integration = await findIntegration(tenantId, channel);
  if (!integration?.default_account_id) throw StateError(`The ${channel} channel has no default account; connect one or give account_id`);
  return integration.default_account_id;
}

/** 400 for content the channel's campaigns cannot send, or parameters with unknown variables. */
function assertMessage(channel: ChannelName, message: CampaignMessage): void {
  const problem = campaignMessageProblem(channel, message);
  if (problem) throw BodyFieldError('message.type', problem);
  if (message.type === 'template') {
    const [unknown] = unknownVariables(message.template.body_parameters);
    if (unknown) {
      throw BodyFieldError(
        `message.template.body_parameters.${unknown.index}`,
        `uses the unknown variable {{${unknown.variable}}} (known: contact.name, contact.phone, contact.email, contact.username, contact.attributes.<key>, csv.<column>, campaign.name)`,
      );
    }
  }
}

/**
 * 422 when a WhatsApp template campaign does not fit the template stored for its account's WABA
 * (when one is stored): not approved, or needing other parameters than the body's, which are all
 * a campaign gives (a header or button parameter it cannot fill; a media header takes the stored
 * header media, which the run adds to each message).
 */
async function assertStoredTemplate(tenantId: string, c: Pick<Campaign, 'channel' | 'account_id' | 'message'>): Promise<void> {
  if (c.channel !== 'whatsapp' || c.message.type !== 'template') return;
  const account = await integrationAccounts.findOwnedOrNull(tenantId, c.account_id);
  if (!account) return;
  const { name, language, body_parameters } = c.message.template;
  // The stored header media counts: the run adds it to every message (campaignTemplateHeader).
  await checkTemplateSend(tenantId, account, await findIntegration(tenantId, 'whatsapp'), { name, language, components: templateComponents(body_parameters) });
}

/** Lists a tenant's campaigns, newest first. */
export interface ListCampaigns extends Acting {
  status?: CampaignStatus | undefined;
  page: number;
  limit: number;
}

/** A page of campaigns. */
export function listCampaigns(q: ListCampaigns): Promise<Page<Campaign>> {
  return campaigns.page({ tenant_id: q.tenantId, ...(q.status ? { status: q.status } : {}) }, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** One campaign. */
export const getCampaign = (cmd: Acting & { id: string }): Promise<Campaign> => campaigns.findOwned(cmd.tenantId, cmd.id);

/** Creates a draft. */
export interface CreateCampaign extends Acting {
  name: string;
  description: string | null;
  channel: ChannelName;
  /** The sending account; null: the channel's default account. */
  accountId: string | null;
  message: CampaignMessage;
}

/** Creates a draft campaign. */
export async function createCampaign(cmd: CreateCampaign): Promise<Campaign> {
  assertMessage(cmd.channel, cmd.message);
  const accountId = await sendingAccount(cmd.tenantId, cmd.channel, cmd.accountId);
  await assertStoredTemplate(cmd.tenantId, { channel: cmd.channel, account_id: accountId, message: cmd.message });
  return campaigns.insert({
    _id: newId(),
    tenant_id: cmd.tenantId,
    name: cmd.name,
    description: cmd.description,
    channel: cmd.channel,
    account_id: accountId,
    message: cmd.message,
    status: 'draft',
    send_at: null,
    started_at: null,
    completed_at: null,
    cancelled_at: null,
    failure_reason: null,
    counters: { total: 0, sent: 0, delivered: 0, read: 0, failed: 0 },
    run_id: null,
    run_heartbeat_at: null,
    created_by: cmd.principal.userId ?? null,
  });
}

/** Edits a draft; absent fields stay. */
export interface UpdateCampaign extends Acting {
  id: string;
  name?: string | undefined;
  description?: string | null | undefined;
  accountId?: string | undefined;
  message?: CampaignMessage | undefined;
}

/** Updates a draft campaign (422 in any other state). */
export async function updateCampaign(cmd: UpdateCampaign): Promise<Campaign> {
  const current = await campaigns.findOwned(cmd.tenantId, cmd.id);
  if (current.status !== 'draft') throw notDraft(current, 'be edited');
  if (cmd.message) assertMessage(current.channel, cmd.message);
  const set: Partial<Campaign> = { updated_at: new Date() };
  if (cmd.name !== undefined) set.name = cmd.name;
  if (cmd.description !== undefined) set.description = cmd.description;
  if (cmd.message) set.message = cmd.message;
  if (cmd.accountId) set.account_id = await sendingAccount(cmd.tenantId, current.channel, cmd.accountId);
  if (cmd.message || cmd.accountId) await assertStoredTemplate(cmd.tenantId, { channel: current.channel, account_id: set.account_id ?? current.account_id, message: set.message ?? current.message });
  const updated = await transitionCampaign(cmd.tenantId, cmd.id, ['draft'], set);
  if (!updated) throw notDraft(await campaigns.findOwned(cmd.tenantId, cmd.id), 'be edited');
  return updated;
}

/** Deletes a draft and its recipients (422 in any other state). */
export async function deleteCampaign(cmd: Acting & { id: string }): Promise<Campaign> {
  const current = await campaigns.findOwned(cmd.tenantId, cmd.id);
  if (current.status !== 'draft') throw notDraft(current, 'be deleted');
  // Marked first so a send cannot start while the recipients go; then removed for good.
  const taken = await transitionCampaign(cmd.tenantId, cmd.id, ['draft'], { status: 'cancelled', cancelled_at: new Date() });
  if (!taken) throw notDraft(await campaigns.findOwned(cmd.tenantId, cmd.id), 'be deleted');
  await campaignRecipients.removeMany({ tenant_id: cmd.tenantId, campaign_id: cmd.id });
  await campaigns.remove(cmd.tenantId, cmd.id);
  return current;
}

/** Sends a draft now, or schedules it. */
export interface SendCampaign extends Acting {
  id: string;
  /** When to start; absent or not in the future: now. */
  sendAt: Date | null;
}

/**
 * Starts a draft campaign at once (sending, one run job queued) or at `sendAt` (scheduled; the
 * sweeper starts it when due). 422 unless it is a draft with at least one recipient.
 */
export async function sendCampaign(cmd: SendCampaign): Promise<Campaign> {
  const current = await campaigns.findOwned(cmd.tenantId, cmd.id);
  if (current.status !== 'draft') throw notDraft(current, 'be sent or scheduled');
  const total = await campaignRecipients.count({ tenant_id: cmd.tenantId, campaign_id: cmd.id });
  if (total === 0) throw StateError('The campaign has no recipients; add some before sending it');
  // The template may have been rejected or paused since the draft was written.
  await assertStoredTemplate(cmd.tenantId, current);
  const now = new Date();
  const later = cmd.sendAt && cmd.sendAt.getTime() > now.getTime();
  const counters = { total, sent: 0, delivered: 0, read: 0, failed: 0 };
  const set: Partial<Campaign> = later
    ? { status: 'scheduled', send_at: cmd.sendAt, counters }
    : { status: 'sending', send_at: now, started_at: now, counters, run_id: null, run_heartbeat_at: now };
  const moved = await transitionCampaign(cmd.tenantId, cmd.id, ['draft'], set);
  if (!moved) throw notDraft(await campaigns.findOwned(cmd.tenantId, cmd.id), 'be sent or scheduled');
  if (!later) await queueCampaignRun(moved);
  return moved;
}

/**
 * Cancels a scheduled or sending campaign: the run stops before its next batch; recipients
 * already sent stay sent, the pending ones are never sent. 422 for drafts (delete them) and
 * final states.
 */
export async function cancelCampaign(cmd: Acting & { id: string }): Promise<Campaign> {
  const current = await campaigns.findOwned(cmd.tenantId, cmd.id);
  const cancellable: CampaignStatus[] = ['scheduled', 'sending'];
  const refuse = (c: Campaign) =>
    StateError(c.status === 'draft' ? 'A draft campaign is not sending; delete it instead' : `Only scheduled or sending campaigns can be cancelled; this one is ${c.status}`);
  if (!cancellable.includes(current.status)) throw refuse(current);
  const cancelled = await transitionCampaign(cmd.tenantId, cmd.id, cancellable, { status: 'cancelled', cancelled_at: new Date() });
  if (!cancelled) throw refuse(await campaigns.findOwned(cmd.tenantId, cmd.id));
  return cancelled;
}
