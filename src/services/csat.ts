/**
 * CSAT surveys: creating one (by hand, or by the CSAT listener when a conversation is resolved
 * and the tenant's setting says so), sending the customer its rating link, reading it, and the
 * customer's one submission.
 *
 * - One survey per conversation (its `_id` is the conversation's natural key): a second POST is
 *   409, a second resolution (after a reopen) or a replayed event creates nothing.
 * - The link goes out like an agent's message, through the conversation's actor and the shared
 *   send path (sender `system`, idempotency key from the survey), so the channel's rules hold: a
 *   closed conversation or WhatsApp's 24-hour window refuses it, and the survey is kept as
 *   `not_sent` with the reason (a provider failure likewise).
 * - The token is 256 bits derived with the server's key from a random nonce stored with the
 *   survey (HMAC-SHA256); the survey stores only the token's SHA-256, so the database alone
 *   cannot produce a working link, and the server can re-derive the same link after a crash
 *   between the claim and the send. It expires after CSAT_TOKEN_TTL_HOURS.
 * - Submitting: unknown token 404, expired 410, used 409; the answer names nothing but the
 *   rating recorded.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appContext } from '../context.js';
import { AppError, ConflictError, isDuplicateKey, NotFoundError } from '../errors.js';
import { audienceOf } from '../events/audience.js';
import { draftEvent, emitEvent } from '../events/publish.js';
import { EVENTS } from '../events/types.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import { conversations, type Conversation } from '../models/conversation.js';
import {
  csatSurveys,
  findCsatSettings,
  findSurveyByTokenHash,
  recordRating,
  saveCsatSettings,
  setSurveyFields,
  type CsatSurvey,
} from '../models/csat.js';
import { presentCsatSurvey } from '../presenters/csat.js';
import type { Acting } from './agents.js';
import { findVisibleConversation } from './conversation-access.js';
import { sendOutbound } from './outbound.js';

/** The `_id` of a conversation's survey. */
export const surveyIdOf = (tenantId: string, conversationId: string) => naturalId('csat-survey', tenantId, conversationId);

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** The survey's token: keyed by the server's secret, so the stored nonce and hash alone give nothing. */
const tokenOf = (surveyId: string, nonce: string) =>
  createHmac('sha256', appContext().config.encryptionKey).update(`csat\u001f${surveyId}\u001f${nonce}`).digest('base64url');

/** The link the customer receives. */
function linkOf(token: string): string {
  const url = new URL(appContext().config.csat.linkBaseUrl);
  url.searchParams.set('token', token);
  return url.toString();
}

/** The survey message's text. */
const surveyText = (link: string) => `Terima kasih telah menghubungi kami! How did we do? Please rate our service from 1 to 5: ${link}`;

/** A tenant's CSAT settings. */
export interface CsatSettingsView {
  /** Send a survey when a conversation is first resolved. */
  autoSendOnResolve: boolean;
  /** When they were last changed; null while the defaults apply. */
  updatedAt: Date | null;
}

/** A tenant's CSAT settings (defaults when none are stored). */
export async function csatSettingsOf(tenantId: string): Promise<CsatSettingsView> {
  const doc = await findCsatSettings(naturalId('csat-settings', tenantId));
  return { autoSendOnResolve: doc?.auto_send_on_resolve ?? false, updatedAt: doc?.updated_at ?? null };
}

/** Changes a tenant's CSAT settings (PUT /api/settings/csat); answers them as stored. */
export async function updateCsatSettings(tenantId: string, settings: { autoSendOnResolve: boolean }): Promise<CsatSettingsView> {
  const updatedAt = await saveCsatSettings({ _id: naturalId('csat-settings', tenantId), tenant_id: tenantId, auto_send_on_resolve: settings.autoSendOnResolve });
  return { autoSendOnResolve: settings.autoSendOnResolve, updatedAt };
}

/** Sends a claimed survey's link and records the outcome; a survey already past `sending` is left alone. */
async function sendSurvey(s: CsatSurvey): Promise<CsatSurvey> {
  if (s.status !== 'sending') return s;
  let set: Partial<CsatSurvey>;
  try {
    const { message } = await sendOutbound({
      tenantId: s.tenant_id,
      conversationId: s.conversation_id,
      idempotencyKey: `csat:${s._id}`,
      sender: { type: 'system', id: null },
      content: { type: 'text', text: surveyText(linkOf(tokenOf(s._id, s.token_nonce))) },
    });
    const failure = message.status === 'failed' ? (message.delivery_errors[0] as { code?: unknown; message?: string } | undefined) : undefined;
    set =
      message.status === 'failed'
        ? { status: 'not_sent', message_id: message._id, send_error: { code: String(failure?.code ?? 'send_failed'), message: failure?.message ?? 'The provider refused the message' } }
        : { status: 'sent', message_id: message._id, send_error: null };
  } catch (err) {
    // The channel's rules refused it (closed conversation, messaging window, no account): kept with the reason.
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    set = { status: 'not_sent', send_error: { code: err.code, message: err.message } };
  }
  await setSurveyFields(s._id, set);
  return { ...s, ...set };
}

/** Creates the conversation's survey (once) and sends it; answers it and whether this call created it. */
async function createSurvey(c: Conversation, trigger: CsatSurvey['trigger'], createdBy: string | null): Promise<{ survey: CsatSurvey; created: boolean }> {
  const id = surveyIdOf(c.tenant_id, c._id);
  const nonce = randomBytes(32).toString('base64url');
  const doc = {
    _id: id,
    tenant_id: c.tenant_id,
    conversation_id: c._id,
    contact_id: c.contact_id,
    channel: c.channel,
    agent_id: c.assignee_id,
    division_id: c.division_id,
    trigger,
    created_by: createdBy,
    status: 'sending' as const,
    token_hash: hashToken(tokenOf(id, nonce)),
    token_nonce: nonce,
    expires_at: new Date(Date.now() + appContext().config.csat.tokenTtlHours * 3600_000),
    message_id: null,
    send_error: null,
    rating: null,
    comment: null,
    responded_at: null,
  };
  try {
    const stored = await csatSurveys.insert(doc);
    return { survey: await sendSurvey(stored), created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  // Claimed before: a crash may have left it unsent, which finishing now sends once (same key).
  return { survey: await sendSurvey(await csatSurveys.findOwned(c.tenant_id, id)), created: false };
}

/** POST /api/conversations/{id}/csat: 409 when the conversation has a survey already. */
export async function createCsatSurvey(cmd: Acting & { conversationId: string }): Promise<CsatSurvey> {
  const c = await findVisibleConversation(cmd.principal, cmd.conversationId);
  const { survey, created } = await createSurvey(c, 'manual', cmd.principal.userId);
  if (!created) throw ConflictError('This conversation already has a CSAT survey');
  return survey;
}

/** The CSAT listener's reaction to a resolved conversation: a survey when the tenant asks for one. */
export async function surveyResolvedConversation(tenantId: string, conversationId: string): Promise<void> {
  if (!(await csatSettingsOf(tenantId)).autoSendOnResolve) return;
  const c = await conversations.findOwnedOrNull(tenantId, conversationId);
  if (!c) return;
  const { survey } = await createSurvey(c, 'resolved', null);
  if (survey.status === 'not_sent') logger.info({ tenantId, conversationId, reason: survey.send_error }, 'CSAT survey not sent');
}

/** GET /api/conversations/{id}/csat: 404 when it has none. */
export async function getCsatSurvey(cmd: Acting & { conversationId: string }): Promise<CsatSurvey> {
  const c = await findVisibleConversation(cmd.principal, cmd.conversationId);
  const survey = await csatSurveys.findOwnedOrNull(cmd.tenantId, surveyIdOf(cmd.tenantId, c._id));
  if (!survey) throw NotFoundError('CSAT survey');
  return survey;
}

/** The customer's submission. */
export interface SubmitCsat {
  /** The token from the link. */
  token: string;
  rating: number;
  comment: string | null;
}

/** Records the customer's rating once; 404 unknown, 410 expired, 409 used. */
export async function submitCsat(cmd: SubmitCsat): Promise<CsatSurvey> {
  const survey = await findSurveyByTokenHash(hashToken(cmd.token));
  if (!survey) throw NotFoundError('CSAT survey');
  if (survey.responded_at) throw ConflictError('This rating link has been used already');
  const now = new Date();
  if (new Date(survey.expires_at) <= now) throw new AppError(410, 'expired', 'This rating link has expired');
  if (!(await recordRating(survey._id, cmd.rating, cmd.comment, now))) throw ConflictError('This rating link has been used already');
  const answered: CsatSurvey = { ...survey, rating: cmd.rating, comment: cmd.comment, responded_at: now, status: 'completed', updated_at: now };
  const c = await conversations.findOwnedOrNull(survey.tenant_id, survey.conversation_id);
  if (c) await emitEvent(survey.tenant_id, draftEvent(survey.tenant_id, `csat:${survey._id}:answered`, EVENTS.csatSubmitted, presentCsatSurvey(answered), audienceOf(c)));
  return answered;
}
