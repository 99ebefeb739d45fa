/**
 * The website chat widget's settings (GET/PUT /api/webchat/settings). Saving them also keeps the
 * tenant's `webchat` integration and its one account in step, through the tenant actor like any
 * integration change: the integration's `is_enabled` follows `enabled`, and the account (external
 * id = the tenant id) is what agent replies send through (channels/webchat/), so the shared
 * outbound path needs nothing of its own for this channel.
 */
import { askTenant } from '../../actors/tenant/index.js';
import type { Principal } from '../auth/principal.js';
import { AppError, NotFoundError } from '../errors.js';
import { newId } from '../ids.js';
import { findAccountRoute } from '../models/integration-account.js';
import { findTenant } from '../models/tenant.js';
import { saveWebchatSettings, webchatSettings, webchatSettingsId } from '../models/webchat-settings.js';
import { DEFAULT_WEBCHAT, presentWebchatSettings, webchatSnippet } from '../presenters/webchat.js';

/** Who acts, in which organization. */
interface WebchatCommand {
  /** The caller's organization. */
  tenantId: string;
  /** The caller. */
  actor: Principal;
  /** Where this server is reached (PUBLIC_URL, else the request's origin), for the snippet. */
  baseUrl: string;
}

/** New widget settings, whole. */
export interface UpdateWebchat extends WebchatCommand {
  enabled: boolean;
  /** Already normalized to lower-case origins. */
  allowedOrigins: string[];
  /** Absent: the default greeting. */
  welcomeText?: string | undefined;
  brandColor?: string | null | undefined;
}

async function snippetOf(tenantId: string, baseUrl: string): Promise<string> {
  const tenant = await findTenant(tenantId);
  if (!tenant) throw NotFoundError('Tenant');
  return webchatSnippet(baseUrl, tenant.slug);
}

/** The tenant's widget settings (defaults when never saved) and its snippet. */
export async function getWebchatSettings(cmd: WebchatCommand) {
  const doc = await webchatSettings.findOwnedOrNull(cmd.tenantId, webchatSettingsId(cmd.tenantId));
  return presentWebchatSettings(doc, await snippetOf(cmd.tenantId, cmd.baseUrl));
}

/** Replaces the widget settings and turns the webchat integration on or off with them. */
export async function updateWebchatSettings(cmd: UpdateWebchat) {
  const doc = await saveWebchatSettings({
    tenant_id: cmd.tenantId,
    enabled: cmd.enabled,
    allowed_origins: [...new Set(cmd.allowedOrigins)],
    welcome_text: cmd.welcomeText ?? DEFAULT_WEBCHAT.welcome_text,
    brand_color: cmd.brandColor ?? null,
  });
  await askTenant(cmd.tenantId, 'integrations.upsert', { channel: 'webchat', isEnabled: cmd.enabled, settings: {}, secrets: {} });
  if (cmd.enabled) await ensureWebchatAccount(cmd.tenantId);
  return presentWebchatSettings(doc, await snippetOf(cmd.tenantId, cmd.baseUrl));
}

/** The tenant's webchat account, made once (a concurrent PUT that made it first is fine). */
async function ensureWebchatAccount(tenantId: string): Promise<void> {
  if (await findAccountRoute('webchat', tenantId)) return;
  try {
    await askTenant(tenantId, 'integration_accounts.create', {
      accountId: newId(),
      channel: 'webchat',
      externalId: tenantId,
      name: 'Website chat',
      display: null,
      accessToken: null,
      settings: {},
      status: 'active',
    });
  } catch (err) {
    if (!(err instanceof AppError && err.status === 409)) throw err;
  }
}
