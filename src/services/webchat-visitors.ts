/**
 * Website chat visitors: who they are (a signed visitor token that names one visitor of one
 * tenant, kept in the widget's localStorage — no cookies), where they may write from (the
 * tenant's allowed origins), and what they write and read. Every read and write is scoped to the
 * token's tenant and visitor: a visitor's contact is the webchat identity of their visitor id,
 * so nothing here can reach another visitor's conversation.
 *
 * A visitor's message goes through the same inbound pipeline as a webhook's
 * (services/inbound.ts processMessage: contact, conversation actor, events, auto-assignment),
 * with a natural id from the visitor and the widget's client message id, so a resend after a
 * reconnect stores one message.
 */
import { createHmac, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { InboundMessage } from '../../channels/types.js';
import { appContext } from '../context.js';
import { AppError, NotFoundError } from '../errors.js';
import { naturalId } from '../ids.js';
import { logger } from '../logger.js';
import { contactOfIdentity } from '../models/contact.js';
import { slotConversationId } from '../models/conversation.js';
import { messages, type Message } from '../models/message.js';
import { findTenantByIdOrSlug } from '../models/tenant.js';
import { webchatSettings, webchatSettingsId, type WebchatSettings } from '../models/webchat-settings.js';
import { resolveAccountCached } from './account-cache.js';
import { slotId } from './conversation-opening.js';
import { processMessage, processStatus } from './inbound.js';
import { checkWorkingHours } from './working-hours.js';
import type { WorkingHoursState } from './working-hours-status.js';

/** The longest text a visitor may send in one message. */
export const VISITOR_TEXT_MAX = 2000;
/** How many earlier messages a connecting widget is shown. */
const HISTORY_LIMIT = 50;
// A visitor returning within half a year keeps their conversation.
const TOKEN_TTL_SECONDS = 180 * 86400;
const AUDIENCE = 'omnistream-webchat-visitor';

/** A visitor, as their token names them. */
export interface Visitor {
  tenantId: string;
  visitorId: string;
}

/** Visitor tokens have their own key, so no visitor token is ever an agent's session token (or the reverse). */
const visitorKey = (): Buffer => createHmac('sha256', appContext().config.jwt.secret).update('webchat-visitor-token').digest();

const refused = (status: number, code: string, message: string) => new AppError(status, code, message);

/** The visitor a token names, or null for a token that is not a valid visitor token. */
function readToken(token: string): Visitor | null {
  try {
    const claims = jwt.verify(token, visitorKey(), { audience: AUDIENCE, algorithms: ['HS256'] }) as { tid?: unknown; vid?: unknown };
    return typeof claims.tid === 'string' && typeof claims.vid === 'string' ? { tenantId: claims.tid, visitorId: claims.vid } : null;
  } catch {
    return null;
  }
}

const signToken = (v: Visitor): string => jwt.sign({ tid: v.tenantId, vid: v.visitorId }, visitorKey(), { audience: AUDIENCE, algorithm: 'HS256', expiresIn: TOKEN_TTL_SECONDS });

/** The tenant's enabled widget settings, refusing a page of an origin it does not allow. */
async function allowedSettings(tenantId: string, origin: string | undefined): Promise<WebchatSettings> {
  const settings = await webchatSettings.findOwnedOrNull(tenantId, webchatSettingsId(tenantId));
  if (!settings?.enabled) throw refused(403, 'webchat_disabled', 'The chat widget of this organization is turned off');
  const normalized = origin?.trim().toLowerCase().replace(/\/+$/, '');
  if (!normalized || !settings.allowed_origins.includes(normalized)) {
    throw refused(403, 'origin_not_allowed', `This page's origin (${origin ?? 'none sent'}) may not run this organization's chat widget; add it to allowed_origins`);
  }
  return settings;
}

/** Start or resume a visitor's session. */
export interface StartVisitorSession {
  /** The tenant's id or slug, from the snippet's data-tenant. */
  tenant: string;
  /** The page's Origin header. */
  origin: string | undefined;
  /** A token the widget kept; a valid one of this tenant resumes that visitor. */
  visitorToken?: string | undefined;
}

/** A visitor's session: the (renewed) token and what the widget shows. */
export interface VisitorSession {
  token: string;
  visitorId: string;
  settings: WebchatSettings;
  workingHours: WorkingHoursState;
}

/** Issues a visitor token (renewing a kept one of the same tenant) for a page of an allowed origin. */
export async function startVisitorSession(cmd: StartVisitorSession): Promise<VisitorSession> {
  const tenant = await findTenantByIdOrSlug(cmd.tenant);
  if (!tenant || tenant.status !== 'active') throw NotFoundError('Organization');
  const settings = await allowedSettings(tenant._id, cmd.origin);
  const kept = cmd.visitorToken ? readToken(cmd.visitorToken) : null;
  const visitorId = kept && kept.tenantId === tenant._id ? kept.visitorId : randomUUID();
  const workingHours = await checkWorkingHours({ principal: null, tenant: tenant._id });
  return { token: signToken({ tenantId: tenant._id, visitorId }), visitorId, settings, workingHours };
}

/** The visitor of a socket handshake: a valid token, from an allowed origin of an enabled widget. */
export async function authenticateVisitor(token: unknown, origin: string | undefined): Promise<Visitor> {
  const visitor = typeof token === 'string' ? readToken(token) : null;
  if (!visitor) throw refused(401, 'invalid_visitor_token', 'Start a session first (POST /api/webchat/sessions) and connect with auth: { token: visitor_token }');
  await allowedSettings(visitor.tenantId, origin);
  return visitor;
}

/** Refuses a visitor's message when the widget was turned off or their origin removed since they connected. */
export const recheckVisitor = async (v: Visitor, origin: string | undefined): Promise<void> => {
  await allowedSettings(v.tenantId, origin);
};

/** One message as the widget shows it. */
export interface VisitorMessageView {
  /** The id the widget knows it by: its own client id for the visitor's, the provider id for ours. */
  id: string;
  from: 'visitor' | 'agent';
  text: string;
  sent_at: string;
}

/** The client id a visitor's message was stored under: `<visitor id>:<client message id>`. */
const visitorExternalId = (v: Visitor, clientMessageId: string) => `${v.visitorId}:${clientMessageId}`;

function viewOf(m: Message): VisitorMessageView {
  const fromVisitor = m.direction === 'inbound';
  const external = m.external_id ?? m._id;
  return {
    id: fromVisitor ? external.slice(external.indexOf(':') + 1) : external,
    from: fromVisitor ? 'visitor' : 'agent',
    text: m.text ?? '',
    sent_at: m.sent_at.toISOString(),
  };
}

/** The visitor's live conversation, or null before their first message (or after it closed). */
async function liveConversationOf(v: Visitor): Promise<string | null> {
  const contactId = await contactOfIdentity(v.tenantId, 'webchat', v.visitorId);
  return contactId ? slotConversationId(slotId(v.tenantId, contactId)) : null;
}

/** The latest messages of the visitor's live conversation, oldest first (private notes and failed sends left out). */
export async function visitorHistory(v: Visitor): Promise<VisitorMessageView[]> {
  const conversationId = await liveConversationOf(v);
  if (!conversationId) return [];
  const latest = await messages.find({ tenant_id: v.tenantId, conversation_id: conversationId }, { sent_at: -1, _id: -1 }, HISTORY_LIMIT);
  return latest
    .reverse()
    .filter((m) => m.text !== null && m.content.private !== true && m.status !== 'failed' && m.status !== 'pending')
    .map(viewOf);
}

/** A visitor writes. */
export interface VisitorWrites extends Visitor {
  /** The widget's id for this message: a resend with the same id stores nothing new. */
  clientMessageId: string;
  text: string;
}

/** Stores a visitor's message through the inbound pipeline and answers it as the widget shows it. */
export async function receiveVisitorMessage(cmd: VisitorWrites): Promise<VisitorMessageView> {
  const account = await resolveAccountCached('webchat', cmd.tenantId);
  if (!account?.enabled) throw refused(403, 'webchat_disabled', 'The chat widget of this organization is turned off');
  const externalId = visitorExternalId(cmd, cmd.clientMessageId);
  const now = new Date().toISOString();
  const inbound: InboundMessage = {
    kind: 'message',
    channel: 'webchat',
    accountExternalId: cmd.tenantId,
    externalId,
    sender: { externalId: cmd.visitorId, name: `Website visitor ${cmd.visitorId.slice(0, 8)}` },
    timestamp: now,
    type: 'text',
    text: cmd.text,
  };
  await processMessage(account, inbound);
  const stored = await messages.findOwned(cmd.tenantId, naturalId('message', cmd.tenantId, 'webchat', externalId));
  return viewOf(stored);
}

// A widget can confirm a reply before the send's answer is recorded (the emit and the record race).
const RECEIPT_TRIES = [50, 200, 500, 1000, 2000];

/** A visitor's widget confirmed one of our messages: it is delivered (best effort, retried briefly). */
export async function markVisitorReceived(tenantId: string, externalId: string): Promise<void> {
  const account = await resolveAccountCached('webchat', tenantId);
  if (!account) return;
  const status = { kind: 'status', channel: 'webchat', accountExternalId: tenantId, messageExternalId: externalId, status: 'delivered', timestamp: new Date().toISOString() } as const;
  for (const wait of RECEIPT_TRIES) {
    try {
      await processStatus(account, status);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  logger.warn({ tenantId, externalId }, 'webchat delivery receipt not recorded');
}
