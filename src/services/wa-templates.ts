/**
 * WhatsApp message templates: created here and submitted to Meta for review, synced from the
 * WhatsApp Business Account (WABA), their review status kept current by Meta's
 * `message_template_status_update` webhook, a default header media URL per template, deleted
 * here only (Meta keeps its copy). Graph calls use the tenant's WhatsApp account (the one given,
 * else the channel's default) and its WABA (the account's `waba_id`, else the integration's).
 * Meta's refusals become clear answers (services/meta-graph.ts): 409 for a name and language
 * Meta already has, 422 with Meta's message, code and fbtrace_id for anything else it refuses,
 * 503 when Meta could not be reached or kept failing after the client's retries.
 */
import { GraphError } from '../../channels/meta-graph.js';
import type { InboundTemplateStatus } from '../../channels/types.js';
import { listTemplates, submitTemplate, type RemoteTemplate } from '../../channels/whatsapp/templates.js';
import { appContext } from '../context.js';
import { SecretDecryptError } from '../crypto/secrets.js';
import { AppError, assertNoFieldIssues, BodyFieldError, ConflictError, isDuplicateKey, StateError } from '../errors.js';
import { draftEvent, emitEvent, emitMissingEvents } from '../events/publish.js';
import { EVENTS } from '../events/types.js';
import { logger } from '../logger.js';
import { findIntegration, type Integration } from '../models/integration.js';
import { integrationAccounts, type IntegrationAccount } from '../models/integration-account.js';
import type { Page, Scoped } from '../models/repo.js';
import {
  recordTemplateStatus,
  TEMPLATE_CATEGORIES,
  TEMPLATE_STATUSES,
  waTemplateId,
  waTemplates,
  type TemplateCategory,
  type TemplateComponent,
  type TemplateStatus,
  type WaTemplate,
} from '../models/wa-template.js';
import type { Acting } from './agents.js';
import { presentTemplateStatusChange } from '../presenters/wa-template.js';
import { credentialsFor, type ResolvedAccount } from './integration-accounts.js';
import { graphFailure, type GraphPurpose } from './meta-graph.js';
import { templateIssues } from './wa-template-rules.js';

/** The account, WABA and token template calls go through. */
interface TemplateAccount {
  account: IntegrationAccount;
  wabaId: string;
  token: string;
}

/** The WABA of a WhatsApp account: its own `waba_id`, else its integration's; null when neither is set. */
export const wabaOf = (account: IntegrationAccount, integration: Integration | null): string | null => account.settings.waba_id ?? integration?.settings.waba_id ?? null;

/** The account given (400 unless it is one of the tenant's WhatsApp accounts), else the channel's default (422 when none). */
async function templateAccount(tenantId: string, accountId: string | null | undefined): Promise<TemplateAccount> {
  const integration = await findIntegration(tenantId, 'whatsapp');
  let account: IntegrationAccount | null;
  if (accountId) {
    account = await integrationAccounts.findOwnedOrNull(tenantId, accountId);
    if (!account || account.channel !== 'whatsapp') throw BodyFieldError('account_id', "must be one of the organization's WhatsApp accounts");
  } else {
    const id = integration?.default_account_id;
    account = id ? await integrationAccounts.findOwnedOrNull(tenantId, id) : null;
    if (!account) throw StateError('The organization has no WhatsApp account; connect one (POST /api/integration-accounts) or give account_id');
  }
  if (account.status !== 'active') throw StateError(`The WhatsApp account "${account.name}" is disabled; enable it first`);
  const wabaId = wabaOf(account, integration);
  if (!wabaId) throw StateError(`The WhatsApp account "${account.name}" has no WhatsApp Business Account id; set settings.waba_id on it (PATCH /api/integration-accounts/{id}) or on the WhatsApp integration`);
  let token: string | undefined;
  try {
    token = credentialsFor(account, integration).accessToken;
  } catch (err) {
    if (!(err instanceof SecretDecryptError)) throw err;
    throw StateError(`The access token of WhatsApp account "${account.name}" cannot be decrypted under the current ENCRYPTION_KEY; set access_token again`);
  }
  if (!token) throw StateError(`The WhatsApp account "${account.name}" has no access token; set access_token on it`);
  return { account, wabaId, token };
}

// Meta's "already exists" subcodes for a template name and language:
// 2388023 (the language is being deleted, so the name is not free yet) and 2388024 (it exists).
const TAKEN_SUBCODES = new Set([2388023, 2388024]);

/** A Graph failure as our answer: the Graph client's mapping (422 refused, 503 unavailable, 502 unreadable), a 409 for a name and language Meta already has. */
function templateGraphFailure(err: unknown, purpose: GraphPurpose): unknown {
  if (!(err instanceof GraphError)) return err;
  const answer = graphFailure(err, purpose);
  const { code, subcode } = err.info;
  const taken = err.kind === 'refused' && code === 100 && subcode !== null && TAKEN_SUBCODES.has(subcode);
  return taken ? new AppError(409, 'conflict', answer.message) : answer;
}

/** List templates. */
export interface ListTemplates extends Acting {
  status?: TemplateStatus | undefined;
  category?: TemplateCategory | undefined;
  language?: string | undefined;
  name?: string | undefined;
  page: number;
  limit: number;
}

/** A page of the tenant's templates, newest first. */
export function listWaTemplates(q: ListTemplates): Promise<Page<WaTemplate>> {
  const filter: Scoped = { tenant_id: q.tenantId };
  if (q.status) filter.status = q.status;
  if (q.category) filter.category = q.category;
  if (q.language) filter.language = q.language;
  if (q.name) filter.name = q.name;
  return waTemplates.page(filter, { created_at: -1, _id: -1 }, q.page, q.limit);
}

/** One template (404 for another tenant's). */
export const getWaTemplate = (cmd: Acting & { id: string }): Promise<WaTemplate> => waTemplates.findOwned(cmd.tenantId, cmd.id);

/** Create a template and submit it to Meta. */
export interface CreateTemplate extends Acting {
  /** The WhatsApp account to submit with; absent: the channel's default. */
  accountId?: string | null | undefined;
  name: string;
  language: string;
  category: TemplateCategory;
  /** Let Meta change the category instead of rejecting a mismatch. */
  allowCategoryChange?: boolean | undefined;
  components: TemplateComponent[];
}

/**
 * Checks the template as Meta would (400 naming the field), claims its name and language in the
 * WABA (409 when taken here), submits it to Meta and records Meta's id and status. A refusal by
 * Meta releases the claim, so the same name can be tried again.
 */
export async function createWaTemplate(cmd: CreateTemplate): Promise<WaTemplate> {
  assertNoFieldIssues(templateIssues(cmd.components));
  const { account, wabaId, token } = await templateAccount(cmd.tenantId, cmd.accountId);
  const id = waTemplateId(cmd.tenantId, wabaId, cmd.name, cmd.language);
  const started = new Date();
  try {
    await waTemplates.insert({
      _id: id,
      tenant_id: cmd.tenantId,
      account_id: account._id,
      waba_id: wabaId,
      meta_template_id: null,
      name: cmd.name,
      language: cmd.language,
      category: cmd.category,
      components: cmd.components,
      status: 'PENDING',
      status_reason: null,
      status_changed_at: null,
      header_media_url: null,
      source: 'created',
      synced_at: null,
      created_by: cmd.principal.userId ?? null,
    });
  } catch (err) {
    if (isDuplicateKey(err)) throw ConflictError(`A template named "${cmd.name}" in ${cmd.language} already exists in WhatsApp Business Account ${wabaId} (id ${id})`);
    throw err;
  }
  let submitted;
  try {
    submitted = await submitTemplate(appContext().config.meta, token, wabaId, {
      name: cmd.name,
      language: cmd.language,
      category: cmd.category,
      components: cmd.components,
      ...(cmd.allowCategoryChange === undefined ? {} : { allow_category_change: cmd.allowCategoryChange }),
    });
  } catch (err) {
    await waTemplates.remove(cmd.tenantId, id);
    throw templateGraphFailure(err, { what: 'submit the template' });
  }
  await waTemplates.update(cmd.tenantId, id, { meta_template_id: submitted.id, category: categoryOf(submitted.category, cmd.category) });
  // A status webhook may already have arrived (utility templates can be approved in seconds): it
  // wins, because this report is dated before the submission (webhook times are whole seconds).
  await recordStatus(cmd.tenantId, id, statusOf(submitted.status), null, new Date(started.getTime() - 1000), 'submission');
  return waTemplates.findOwned(cmd.tenantId, id);
}

/** Meta's category word as ours, else `fallback` (Meta may settle on another category, or name one we do not know). */
const categoryOf = (meta: string | null, fallback: TemplateCategory): TemplateCategory =>
  (TEMPLATE_CATEGORIES as readonly string[]).includes(meta?.toUpperCase() ?? '') ? (meta?.toUpperCase() as TemplateCategory) : fallback;

/** Meta's status word as ours; REINSTATED means approved again, anything unknown stays PENDING. */
export function statusOf(meta: string): TemplateStatus {
  const upper = meta.toUpperCase();
  if (upper === 'REINSTATED') return 'APPROVED';
  return (TEMPLATE_STATUSES as readonly string[]).includes(upper) ? (upper as TemplateStatus) : 'PENDING';
}

/** What a sync did. */
export interface SyncResult {
  account_id: string;
  waba_id: string;
  /** Templates Meta listed. */
  total: number;
  /** New here. */
  created: number;
  /** Known here, with a change (status, reason, category, components or Meta id). */
  updated: number;
  unchanged: number;
  /** Known here but not listed by Meta: kept as they are. */
  local_only: number;
  synced_at: Date;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fields of a stored template that differ from Meta's. */
function changesOf(local: WaTemplate, remote: RemoteTemplate): Partial<WaTemplate> {
  const set: Partial<WaTemplate> = {};
  if (local.meta_template_id !== remote.id) set.meta_template_id = remote.id;
  const category = categoryOf(remote.category, local.category);
  if (category !== local.category) set.category = category;
  if (remote.components.length && !sameJson(local.components, remote.components)) set.components = remote.components;
  return set;
}

/**
 * Reads every template of the WABA from Meta (all pages) and brings the stored ones in line:
 * new ones are created, known ones take Meta's status (with its rejection reason), category and
 * components; templates only known here stay as they are.
 */
export async function syncWaTemplates(cmd: Acting & { accountId?: string | null | undefined }): Promise<SyncResult> {
  const { account, wabaId, token } = await templateAccount(cmd.tenantId, cmd.accountId);
  let remote: RemoteTemplate[];
  try {
    remote = await listTemplates(appContext().config.meta, token, wabaId);
  } catch (err) {
    throw templateGraphFailure(err, { what: 'list the WhatsApp Business Account’s templates' });
  }
  const now = new Date();
  const local = new Map((await waTemplates.find({ tenant_id: cmd.tenantId, waba_id: wabaId })).map((t) => [t._id, t]));
  const result: SyncResult = { account_id: account._id, waba_id: wabaId, total: remote.length, created: 0, updated: 0, unchanged: 0, local_only: 0, synced_at: now };
  const listed = new Set<string>();
  for (const r of remote) {
    const id = waTemplateId(cmd.tenantId, wabaId, r.name, r.language);
    if (listed.has(id)) continue;
    listed.add(id);
    const status = statusOf(r.status);
    const known = local.get(id);
    if (!known) {
      if (await insertSynced(cmd.tenantId, id, account._id, wabaId, r, status, now)) result.created++;
      else result.updated++;
      continue;
    }
    const set = changesOf(known, r);
    const statusChanged = (known.status !== status || known.status_reason !== r.rejectedReason) && (await recordStatus(cmd.tenantId, id, status, r.rejectedReason, now, 'sync'));
    await waTemplates.update(cmd.tenantId, id, { ...set, synced_at: now });
    if (statusChanged || Object.keys(set).length) result.updated++;
    else result.unchanged++;
  }
  result.local_only = [...local.keys()].filter((id) => !listed.has(id)).length;
  return result;
}

/** Stores a template first seen in Meta's list; false when a concurrent sync stored it first. */
async function insertSynced(tenantId: string, id: string, accountId: string, wabaId: string, r: RemoteTemplate, status: TemplateStatus, now: Date): Promise<boolean> {
  try {
    await waTemplates.insert({
      _id: id,
      tenant_id: tenantId,
      account_id: accountId,
      waba_id: wabaId,
      meta_template_id: r.id,
      name: r.name,
      language: r.language,
      category: categoryOf(r.category, 'UTILITY'),
      components: r.components,
      status,
      status_reason: r.rejectedReason,
      status_changed_at: now,
      header_media_url: null,
      source: 'synced',
      synced_at: now,
      created_by: null,
    });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Deletes the stored template only; Meta keeps it (delete it in WhatsApp Manager). */
export async function deleteWaTemplate(cmd: Acting & { id: string }): Promise<WaTemplate> {
  const template = await waTemplates.findOwned(cmd.tenantId, cmd.id);
  await waTemplates.remove(cmd.tenantId, cmd.id);
  return template;
}

/** The media format of a template's header (IMAGE, VIDEO, DOCUMENT), or null when it has none. */
export function mediaHeaderFormat(components: TemplateComponent[]): string | null {
  const header = components.find((c) => String(c.type).toUpperCase() === 'HEADER');
  const format = header ? String(header.format ?? 'TEXT').toUpperCase() : null;
  return format && ['IMAGE', 'VIDEO', 'DOCUMENT'].includes(format) ? format : null;
}

/** Sets (or with null clears) the header media a send uses when it gives none; 422 for a template without a media header. */
export async function setTemplateHeaderMedia(cmd: Acting & { id: string; url: string | null }): Promise<WaTemplate> {
  const template = await waTemplates.findOwned(cmd.tenantId, cmd.id);
  if (!mediaHeaderFormat(template.components)) throw StateError(`Template "${template.name}" has no IMAGE, VIDEO or DOCUMENT header, so it takes no header media`);
  return waTemplates.update(cmd.tenantId, cmd.id, { header_media_url: cmd.url });
}

/**
 * Records a status report and, when it changed the template's status or reason, emits
 * template.status_changed to the tenant's template managers (admins and supervisors). The
 * event's id derives from the template, the status and the report's time, so the same report
 * again (Meta retrying, the recovery pass after a crash between the write and the emit) emits
 * it only if the log does not have it yet. Answers whether this call changed the template.
 */
async function recordStatus(tenantId: string, id: string, status: TemplateStatus, reason: string | null, at: Date, source: 'submission' | 'sync' | 'webhook'): Promise<boolean> {
  const recorded = await recordTemplateStatus(tenantId, id, status, reason, at);
  if (!recorded) return false;
  const { before, after, replayed } = recorded;
  if (before.status === status && before.status_reason === reason) return false;
  const key = `wa-template:${id}:status:${status}:${reason ?? ''}:${at.toISOString()}`;
  const draft = draftEvent(tenantId, key, EVENTS.templateStatusChanged, presentTemplateStatusChange(after, before, source), { scope: 'tenant', permission: 'templates.manage' });
  if (replayed) await emitMissingEvents(tenantId, [draft]);
  else await emitEvent(tenantId, draft);
  return !replayed;
}

/**
 * Records a template's new status from Meta's webhook (the event names the WABA, so any of the
 * tenant's accounts in it resolved it); false when the template is not stored here (the next
 * sync brings it) or a newer report is already recorded.
 */
export async function processTemplateStatus(account: ResolvedAccount, e: InboundTemplateStatus): Promise<boolean> {
  const { tenantId } = account;
  const id = waTemplateId(tenantId, e.accountExternalId, e.name, e.language);
  const template = await waTemplates.findOwnedOrNull(tenantId, id);
  if (!template) {
    logger.info({ tenantId, waba: e.accountExternalId, template: e.name, language: e.language }, 'status webhook for a template not stored here ignored');
    return false;
  }
  const changed = await recordStatus(tenantId, id, statusOf(e.event), e.reason ?? null, new Date(e.timestamp), 'webhook');
  if (e.templateExternalId && template.meta_template_id !== e.templateExternalId) await waTemplates.update(tenantId, id, { meta_template_id: e.templateExternalId });
  return changed;
}
