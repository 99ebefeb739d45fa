/**
 * Sending a campaign: one Agenda job per campaign run (jobs/campaign-run.job.ts) that loops over
 * the pending recipients in batches, paced by a token bucket per sending account in Redis that
 * every process shares (campaign-rate.ts), so the cap holds however many runs and processes
 * send through one number.
 *
 * Exactly once per recipient, whatever crashes (ARCHITECTURE invariant 10):
 *  1. claim: the recipient's `_id` moves pending -> sending (compare-and-set; one winner);
 *  2. send: the message has a natural id (campaign + recipient) and goes through the
 *     conversation's actor (`outbound.open` stores it, opening the conversation if needed, so
 *     agents see it in the inbox), and its hand-over to the provider is itself claimed once
 *     (`outbound.attempt`);
 *  3. record: the provider's message id and `sent` (or the failure) on the recipient.
 * A run that dies leaves claims behind; after CAMPAIGN_CLAIM_STALE_MS another run settles each
 * one from its message: not stored or never handed over -> sent now; handed over without an
 * answer -> failed `outcome_unknown` (never a second copy); sent -> recorded.
 *
 * A run holds the campaign by a heartbeat (run_id + run_heartbeat_at). The sweeper
 * (jobs/campaign-sweep.job.ts) starts due scheduled campaigns and re-queues a sending one whose
 * heartbeat is older than CAMPAIGN_RUN_STALE_MS (its process died); Agenda's own lock expiry
 * would re-run the job too, and finds the campaign held or finished.
 */
import { appContext } from '../context.js';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';
import { logger } from '../logger.js';
import { askConversation } from '../../actors/conversation/index.js';
import type { OutboundDraft } from '../../actors/conversation/outbound.js';
import { queueJob } from '../../jobs/queue.js';
import {
  campaigns,
  dueCampaigns,
  moveRecipient,
  quietCampaigns,
  recipientsIn,
  recountCounters,
  releaseQuietRun,
  renewCampaignRun,
  setCounters,
  takeCampaignRun,
  transitionCampaign,
  type Campaign,
  type CampaignRecipient,
} from '../models/campaign.js';
import { contacts, type Contact } from '../models/contact.js';
import { findIntegration } from '../models/integration.js';
import { integrationAccounts } from '../models/integration-account.js';
import { messages, type Message } from '../models/message.js';
import { renderParameters, templateComponents } from './campaign-rules.js';
import { takeSendSlot } from './campaign-rate.js';
import { advanceRecipient } from './campaign-statuses.js';
import { resolveContact } from './contact-resolution.js';
import { liveConversationId } from './conversation-opening.js';
import { deliverMessage, outboundMessageId } from './outbound.js';
import { campaignTemplateHeader } from './wa-template-sends.js';

/** The job that runs one campaign. */
export const CAMPAIGN_RUN_JOB = 'campaign.run';

/** What the run job carries. */
export interface CampaignRunData {
  tenantId: string;
  campaignId: string;
}

/** Queues one run of a sending campaign (a second queued run finds it held and stops). */
export async function queueCampaignRun(c: Pick<Campaign, 'tenant_id' | '_id'>): Promise<void> {
  const data: CampaignRunData = { tenantId: c.tenant_id, campaignId: c._id };
  await queueJob(CAMPAIGN_RUN_JOB, data as unknown as Record<string, unknown>);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The idempotency key of a recipient's message: its natural id derives from it. */
const messageKeyOf = (r: CampaignRecipient) => `campaign:${r.campaign_id}:${r._id}`;

/** A reason stored on a failed recipient. */
type Failure = { code: string; message: string };

const failureOf = (err: unknown): Failure =>
  err instanceof AppError ? { code: err.code, message: err.message } : { code: 'internal_error', message: 'Sending failed unexpectedly' };

/** Why the campaign's account cannot send now, or null. */
async function accountProblem(c: Campaign): Promise<string | null> {
  const [account, integration] = await Promise.all([integrationAccounts.findOwnedOrNull(c.tenant_id, c.account_id), findIntegration(c.tenant_id, c.channel)]);
  if (!account) return `The sending ${c.channel} account is no longer connected`;
  if (account.status !== 'active' || !integration?.is_enabled) return `The sending ${c.channel} account "${account.name}" or its integration is disabled`;
  return null;
}

/** The recipient's contact: theirs by id, or the WhatsApp contact of a CSV phone (created on first use). */
async function contactOf(c: Campaign, r: CampaignRecipient): Promise<{ contact: Contact; created: boolean }> {
  if (r.contact_id) return { contact: await contacts.findOwned(c.tenant_id, r.contact_id), created: false };
  const digits = r.address.replace(/^\+/, '');
  return resolveContact(c.tenant_id, 'whatsapp', { externalId: digits, phone: digits }, null);
}

/** A template header every message of a run carries (the stored header media), read once per run; null when none. */
type RunHeader = Record<string, unknown> | null;

/** The stored fields of the recipient's message (template with its parameters, or text). */
function draftFor(c: Campaign, r: CampaignRecipient, contact: Contact, header: RunHeader): OutboundDraft | Failure {
  const base = {
    _id: outboundMessageId(c.tenant_id, messageKeyOf(r)),
    tenant_id: c.tenant_id,
    sender_type: 'system' as const,
    sender_id: null,
    idempotency_key: messageKeyOf(r),
    reply_to_external_id: null,
    sent_at: new Date().toISOString(),
  };
  const campaign = { id: c._id, recipient_id: r._id };
  if (c.message.type === 'text') {
    return { ...base, type: 'text', text: c.message.text, content: { campaign, ...(c.channel === 'email' ? { email: { subject: c.name } } : {}) } };
  }
  const { name, language, body_parameters } = c.message.template;
  const rendered = renderParameters(body_parameters, { contact, csv: r.variables, campaignName: c.name });
  if (!rendered.ok) return { code: 'missing_parameter', message: `Template parameter ${rendered.index + 1} ("${body_parameters[rendered.index]}") is empty for this recipient` };
  const components = templateComponents(rendered.values);
  return { ...base, type: 'template', text: null, content: { campaign, template: { name, language, components: header ? [header, ...components] : components } } };
}

/** Records a settled message on its recipient. */
async function record(r: CampaignRecipient, m: Message): Promise<void> {
  const at = new Date();
  if (m.status === 'failed') {
    const [first] = m.delivery_errors as { code?: unknown; message?: unknown }[];
    const error = { code: String(first?.code ?? 'failed'), message: String(first?.message ?? 'The provider refused the message') };
    await advanceRecipient(r, 'failed', { messageId: m._id, externalId: m.external_id, error, at });
  } else if (m.status === 'pending') {
    // Handed to the provider by a run that died before the answer: it may have arrived, so it is not sent again.
    const error = { code: 'outcome_unknown', message: 'The sending process stopped while handing this message to the provider; it was not sent again' };
    await advanceRecipient(r, 'failed', { messageId: m._id, error, at });
  } else {
    await advanceRecipient(r, m.status === 'received' ? 'sent' : m.status, { messageId: m._id, externalId: m.external_id, at });
  }
}

/**
 * Sends one claimed recipient (or settles one whose claim a dead run left, `retaken`), through
 * the conversation path; every outcome ends on the recipient.
 */
async function sendTo(c: Campaign, r: CampaignRecipient, retaken: boolean, header: RunHeader): Promise<void> {
  try {
    const messageId = outboundMessageId(c.tenant_id, messageKeyOf(r));
    const earlier = retaken ? await messages.findOwnedOrNull(c.tenant_id, messageId) : null;
    if (!earlier) {
      const { contact, created } = await contactOf(c, r);
      const draft = draftFor(c, r, contact, header);
      if (!('_id' in draft)) {
        await advanceRecipient(r, 'failed', { error: draft, at: new Date() });
        return;
      }
      // A contact created just now has no conversation: its slot is claimed without a read, and the actor reads nothing.
      const { id: conversationId, claimed } = await liveConversationId(c.tenant_id, contact._id, created);
      const start = { contact_id: contact._id, channel: c.channel, account_id: c.account_id, division_id: null };
      await askConversation(conversationId, 'outbound.open', { kind: c.message.type, message: draft, start, fresh: claimed });
    }
    await waitForSendSlot(c);
    await record(r, await deliverMessage(c.tenant_id, messageId));
  } catch (err) {
    if (!(err instanceof AppError)) logger.warn({ err, campaign: c._id, recipient: r._id }, 'campaign send failed');
    await advanceRecipient(r, 'failed', { error: failureOf(err), at: new Date() });
  }
}

/**
 * Waits for the send's slot of the account's bucket, taken when the message is ready to hand
 * over: a slot is never taken ahead, so sends held up (a provider that stalled) cannot use the
 * slots that passed meanwhile and go out back to back afterwards.
 */
async function waitForSendSlot(c: Campaign): Promise<void> {
  await sleep((await takeSendSlot(c.account_id, appContext().config.campaigns.ratePerSecond)) - Date.now());
}

/** Sends one batch, at most `parallel` in flight; each send waits for its slot just before its hand-over. */
async function sendBatch(c: Campaign, batch: { r: CampaignRecipient; retaken: boolean }[], header: RunHeader): Promise<void> {
  const { parallel } = appContext().config.campaigns;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < batch.length; i = next++) {
      const item = batch[i] as (typeof batch)[number];
      await sendTo(c, item.r, item.retaken, header);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, batch.length) }, worker));
}

/** The next batch: pending recipients claimed, or else claims a dead run left (retaken); empty when none is left. */
async function nextBatch(c: Campaign, size: number): Promise<{ items: { r: CampaignRecipient; retaken: boolean }[]; waiting: boolean }> {
  const now = new Date();
  const pending = await recipientsIn(c._id, 'pending', size);
  if (pending.length) {
    const claimed = await Promise.all(pending.map(async (r) => ((await moveRecipientClaim(r, now)) ? { r: { ...r, status: 'sending' as const, claimed_at: now }, retaken: false } : null)));
    return { items: claimed.filter((x) => x !== null), waiting: false };
  }
  const staleBefore = new Date(now.getTime() - appContext().config.campaigns.claimStaleMs);
  const stale = await recipientsIn(c._id, 'sending', size, staleBefore);
  const retaken = await Promise.all(stale.map(async (r) => ((await retakeClaim(r, now)) ? { r: { ...r, claimed_at: now }, retaken: true } : null)));
  const items = retaken.filter((x) => x !== null);
  // Claims younger than the stale limit belong to a run that may still be alive: wait for them.
  const young = items.length === 0 && (await recipientsIn(c._id, 'sending', 1)).length > 0;
  return { items, waiting: young };
}

const moveRecipientClaim = (r: CampaignRecipient, now: Date) => moveRecipient(r._id, 'pending', { status: 'sending', claimed_at: now });

const retakeClaim = (r: CampaignRecipient, now: Date) => moveRecipient(r._id, 'sending', { claimed_at: now }, { claimed_at: r.claimed_at });

/**
 * One run of a campaign: takes the campaign (or stops: another run holds it), fails it when its
 * account cannot send, then sends batch after batch until no recipient is left (completed), the
 * campaign leaves `sending` (cancelled: stops before the next batch) or another run took over.
 */
export async function runCampaign({ tenantId, campaignId }: CampaignRunData): Promise<void> {
  const { batchSize, runStaleMs } = appContext().config.campaigns;
  // The process id first: logs and tests can tell which process holds a run.
  const runId = `${process.pid}.${newId()}`;
  const now = new Date();
  if (!(await takeCampaignRun(campaignId, runId, now, new Date(now.getTime() - runStaleMs)))) return;
  let c = await campaigns.findOwned(tenantId, campaignId);
  const problem = await accountProblem(c);
  if (problem) {
    await transitionCampaign(tenantId, campaignId, ['sending'], { status: 'failed', failure_reason: problem, completed_at: new Date() }, { run_id: runId });
    return;
  }
  const header = c.message.type === 'template' && c.channel === 'whatsapp' ? await campaignTemplateHeader(tenantId, c.account_id, c.message.template) : null;
  let held = true;
  const beat = setInterval(() => {
    renewCampaignRun(campaignId, runId, new Date())
      .then((ok) => {
        if (!ok) held = false;
      })
      .catch((err: unknown) => logger.warn({ err, campaignId }, 'campaign heartbeat failed'));
  }, Math.max(200, Math.floor(runStaleMs / 3)));
  try {
    for (;;) {
      if (!held) return;
      const { items, waiting } = await nextBatch(c, batchSize);
      if (items.length) await sendBatch(c, items, header);
      else if (waiting) await sleep(Math.min(1000, appContext().config.campaigns.claimStaleMs / 4));
      else break;
      // Cancelled (or taken over) while that batch went out: stop before the next one.
      if (!(await renewCampaignRun(campaignId, runId, new Date()))) return;
      c = await campaigns.findOwned(tenantId, campaignId);
    }
    await setCounters(campaignId, await recountCounters(campaignId));
    await transitionCampaign(tenantId, campaignId, ['sending'], { status: 'completed', completed_at: new Date() }, { run_id: runId });
  } finally {
    clearInterval(beat);
  }
}

/** What one sweep did. */
export interface SweepReport {
  started: number;
  requeued: number;
}

/** Starts scheduled campaigns now due, and re-queues sending ones whose run went quiet (its process died). */
export async function sweepCampaigns(now = new Date()): Promise<SweepReport> {
  const report: SweepReport = { started: 0, requeued: 0 };
  for (const c of await dueCampaigns(now, 20)) {
    const moved = await transitionCampaign(c.tenant_id, c._id, ['scheduled'], { status: 'sending', started_at: now, run_id: null, run_heartbeat_at: now }, { send_at: { $lte: now } });
    if (!moved) continue;
    await queueCampaignRun(moved);
    report.started++;
  }
  const cutoff = new Date(now.getTime() - appContext().config.campaigns.runStaleMs);
  for (const c of await quietCampaigns(cutoff, 20)) {
    if (!(await releaseQuietRun(c._id, c.run_heartbeat_at, now))) continue;
    await queueCampaignRun(c);
    report.requeued++;
  }
  return report;
}
