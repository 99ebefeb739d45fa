/**
 * Sending a campaign: one Agenda job per campaign run (jobs/campaign-run.job.ts) that loops over
 * the pending recipients in batches, paced by a token bucket per sending account in Redis that
 * every process shares (campaign-rate.ts), so the cap holds however many runs and processes
 * send through one number.
 *
 * Exactly once per recipient, whatever crashes (ARCHITECTURE invariant 10):
 *  1. claim: a batch's recipients move pending -> sending in one write, each by a
 *     compare-and-set on its `_id` (one winner), tagged with the batch's claim token;
 *  2. send: the message has a natural id (campaign + recipient) and goes through the
 *     conversation's actor (`outbound.open` stores it, opening the conversation if needed, so
 *     agents see it in the inbox), and its hand-over to the provider is itself claimed once
 *     (`outbound.attempt`), at the send's slot of the bucket;
 *  3. record: the provider's message id and `sent` (or the failure) on each recipient, the
 *     batch in one write (campaign-statuses.ts `advanceClaimed`).
 * The next batch is claimed as soon as the last send of the one before has started, so the
 * sends in flight (CAMPAIGN_PARALLEL per run) do not drain at every batch's end.
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
  claimRecipients,
  dueCampaigns,
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
import { messages, reviveMessage, type Message } from '../models/message.js';
import { renderParameters, templateComponents } from './campaign-rules.js';
import { pacedHandOver } from './campaign-rate.js';
import { advanceClaimed, type BatchAdvance } from './campaign-statuses.js';
import { resolveContact } from './contact-resolution.js';
import { liveConversationId } from './conversation-opening.js';
import { deliverMessage, deliverStored, outboundMessageId, usableAccount, type UsableAccount } from './outbound.js';

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
async function contactOf(c: Campaign, r: CampaignRecipient): Promise<Contact> {
  if (r.contact_id) return contacts.findOwned(c.tenant_id, r.contact_id);
  const digits = r.address.replace(/^\+/, '');
  const { contact } = await resolveContact(c.tenant_id, 'whatsapp', { externalId: digits, phone: digits }, null);
  return contact;
}

/** The stored fields of the recipient's message (template with its parameters, or text). */
function draftFor(c: Campaign, r: CampaignRecipient, contact: Contact): OutboundDraft | Failure {
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
  return { ...base, type: 'template', text: null, content: { campaign, template: { name, language, components: templateComponents(rendered.values) } } };
}

/** A claimed recipient, and whether a dead run's claim was taken over (its message may exist). */
interface BatchItem {
  r: CampaignRecipient;
  retaken: boolean;
}

/** One batch: its claim's token and what it took. */
interface Batch {
  claim: string;
  items: BatchItem[];
}

/** What a batch sends with: the campaign, its account as read at the batch's start, and the account's send slots. */
interface Sending {
  c: Campaign;
  account: UsableAccount | undefined;
  pace: (claim: () => Promise<boolean>) => Promise<boolean>;
}

const failedWith = (r: CampaignRecipient, error: Failure, messageId?: string): BatchAdvance => ({ recipient: r, to: 'failed', update: { error, at: new Date(), ...(messageId ? { messageId } : {}) } });

/** Where a settled message moves its recipient. */
function outcomeOf(r: CampaignRecipient, m: Message): BatchAdvance {
  const at = new Date();
  if (m.status === 'failed') {
    const [first] = m.delivery_errors as { code?: unknown; message?: unknown }[];
    const error = { code: String(first?.code ?? 'failed'), message: String(first?.message ?? 'The provider refused the message') };
    return { recipient: r, to: 'failed', update: { messageId: m._id, externalId: m.external_id, error, at } };
  }
  if (m.status === 'pending') {
    // Handed to the provider by a run that died before the answer: it may have arrived, so it is not sent again.
    return failedWith(r, { code: 'outcome_unknown', message: 'The sending process stopped while handing this message to the provider; it was not sent again' }, m._id);
  }
  return { recipient: r, to: m.status === 'received' ? 'sent' : m.status, update: { messageId: m._id, externalId: m.external_id, at } };
}

/**
 * Sends one claimed recipient (or settles one whose claim a dead run left, `retaken`), through
 * the conversation path, and answers where it moves. The message is stored first; its hand-over
 * to the provider then waits for its slot of the account's bucket.
 */
async function sendTo({ c, account, pace }: Sending, { r, retaken }: BatchItem): Promise<BatchAdvance> {
  try {
    const messageId = outboundMessageId(c.tenant_id, messageKeyOf(r));
    const earlier = retaken ? await messages.findOwnedOrNull(c.tenant_id, messageId) : null;
    if (earlier) return outcomeOf(r, await deliverMessage(c.tenant_id, messageId, { pace }));
    const contact = await contactOf(c, r);
    const draft = draftFor(c, r, contact);
    if (!('_id' in draft)) return failedWith(r, draft);
    const { id: conversationId, claimed } = await liveConversationId(c.tenant_id, contact._id);
    const start = { contact_id: contact._id, channel: c.channel, account_id: c.account_id, division_id: null };
    const opened = await askConversation(conversationId, 'outbound.open', { kind: c.message.type, message: draft, start, fresh: claimed });
    // What the actor answered is what was stored: the send reads neither the message nor the conversation again.
    const m = reviveMessage(opened.message);
    const conversation = { _id: m.conversation_id, tenant_id: c.tenant_id, channel: m.channel, contact_id: m.contact_id, account_id: opened.accountId };
    const known = { conversation, account: opened.accountId === c.account_id ? account : undefined, contact: m.contact_id === contact._id ? contact : undefined };
    return outcomeOf(r, await deliverStored(m, { ...known, pace }));
  } catch (err) {
    if (!(err instanceof AppError)) logger.warn({ err, campaign: c._id, recipient: r._id }, 'campaign send failed');
    return failedWith(r, failureOf(err));
  }
}

/** At most `n` holders at once (a run's sends in flight, across its batches); the others wait in order. */
function limitOf(n: number): { acquire(): Promise<void>; release(): void } {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    acquire: () => (free > 0 ? ((free -= 1), Promise.resolve()) : new Promise<void>((resolve) => waiting.push(resolve))),
    release: () => {
      const next = waiting.shift();
      if (next) next();
      else free += 1;
    },
  };
}

/**
 * Starts every recipient of a batch as a send of the run frees up (each hand-over at its own
 * slot of the account's bucket) and answers once the last one has started, so the next batch is
 * claimed while this one's last sends finish; `recorded` settles when the batch's outcomes are
 * recorded, in one write.
 */
async function startBatch(c: Campaign, batch: Batch, limit: ReturnType<typeof limitOf>): Promise<{ recorded: Promise<void> }> {
  // Unusable (disabled meanwhile): each send reads it again and fails with the reason.
  const account = await usableAccount(c).catch(() => undefined);
  const { ratePerSecond } = appContext().config.campaigns;
  const sending: Sending = { c, account, pace: (claim) => pacedHandOver(c.account_id, ratePerSecond, claim) };
  const sends: Promise<BatchAdvance>[] = [];
  for (const item of batch.items) {
    await limit.acquire();
    sends.push(sendTo(sending, item).finally(limit.release));
  }
  const recorded = Promise.all(sends).then((outcomes) => advanceClaimed(c._id, batch.claim, outcomes));
  // Awaited by the run; marked handled here so a failure waits for it instead of crashing the process.
  recorded.catch(() => undefined);
  return { recorded };
}

/**
 * The next batch: pending recipients claimed, or else claims a dead run left (retaken); empty when
 * none is left. `waiting`: none could be taken now, but some may be later (claims younger than the
 * stale limit belong to a run that may still be alive, or another run took these).
 */
async function nextBatch(c: Campaign, size: number): Promise<{ batch: Batch; waiting: boolean }> {
  const now = new Date();
  const claim = newId();
  const pending = await recipientsIn(c._id, 'pending', size);
  if (pending.length) {
    const items = (await claimRecipients(c._id, pending.map((r) => r._id), 'pending', claim, now)).map((r) => ({ r, retaken: false }));
    return { batch: { claim, items }, waiting: items.length === 0 };
  }
  const staleBefore = new Date(now.getTime() - appContext().config.campaigns.claimStaleMs);
  const stale = await recipientsIn(c._id, 'sending', size, staleBefore);
  const retaken = await claimRecipients(c._id, stale.map((r) => r._id), 'sending', claim, now, { claimed_at: { $lte: staleBefore } });
  const items = retaken.map((r) => ({ r, retaken: true }));
  const young = items.length === 0 && (await recipientsIn(c._id, 'sending', 1)).length > 0;
  return { batch: { claim, items }, waiting: young };
}

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
  let held = true;
  // At most CAMPAIGN_PARALLEL sends of this run in flight, across its batches.
  const limit = limitOf(appContext().config.campaigns.parallel);
  const recording: Promise<void>[] = [];
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
      const { batch, waiting } = await nextBatch(c, batchSize);
      if (batch.items.length) recording.push((await startBatch(c, batch, limit)).recorded);
      // Nothing to claim but this run's own sends in flight: they may be all that is left.
      else if (recording.length) await Promise.all(recording.splice(0));
      else if (waiting) await sleep(Math.min(1000, appContext().config.campaigns.claimStaleMs / 4));
      else break;
      // Cancelled (or taken over) while that batch went out: stop before the next one.
      if (!(await renewCampaignRun(campaignId, runId, new Date()))) return;
      c = await campaigns.findOwned(tenantId, campaignId);
    }
    await setCounters(campaignId, await recountCounters(campaignId));
    await transitionCampaign(tenantId, campaignId, ['sending'], { status: 'completed', completed_at: new Date() }, { run_id: runId });
  } finally {
    // Every send started is recorded before the run ends, however it ends.
    await Promise.allSettled(recording);
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
