/**
 * Whose secret verified a webhook, and so for whom it speaks. The platform's secret
 * (META_APP_SECRET / EMAIL_WEBHOOK_SECRET) speaks for every account; an organization's own app
 * secret or signing key speaks only for that organization's accounts. A body signed with tenant
 * A's secret may name tenant B's account too: it verifies, but B's events are never processed
 * (src/services/inbound.ts checks each event against these signers).
 */
import { setImmediate as pause } from 'node:timers/promises';
import { adapterFor } from '../../channels/index.js';
import type { ChannelName, WebhookHeaders } from '../../channels/types.js';
import { appContext } from '../context.js';
import { UnauthorizedError } from '../errors.js';
import { platformWebhookSecret } from '../models/integration.js';
import type { SignedBy } from '../models/webhook-event.js';
import { ownWebhookSecretOf, type ResolvedAccount } from './integration-accounts.js';

/**
 * The most organizations' own secrets tried on one body. A genuine body comes from one app, so
 * one secret signs it all; the bound keeps a body naming many organizations' accounts from
 * buying as many HMACs over its whole length.
 */
export const MAX_TENANT_SECRETS = 4;

// Between HMACs over a body this large, other requests get their turn.
const PAUSE_ABOVE_BYTES = 1024 * 1024;

/** What speaks for nobody (a delivery stored before signers were recorded). */
export const SIGNED_BY_NOBODY: SignedBy = { platform: false, tenants: [] };

/** True when the signers of a delivery speak for an account of `tenantId`. */
export const speaksFor = (signedBy: SignedBy, tenantId: string) => signedBy.platform || signedBy.tenants.includes(tenantId);

/**
 * Which secrets verify the raw body: the platform's first (it speaks for all), else the own
 * secret of each organization whose account the body names. 401 when none does, when nothing
 * is configured to check it with, or when it names more organizations than MAX_TENANT_SECRETS.
 */
export async function verifySigners(channel: ChannelName, raw: Buffer, headers: WebhookHeaders, accounts: Iterable<ResolvedAccount | null>): Promise<SignedBy> {
  const adapter = adapterFor(channel);
  const platform = platformWebhookSecret(appContext().config, channel);
  const reasons: string[] = [];
  if (platform) {
    const result = adapter.verify(raw, headers, platform);
    if (result.ok) return { platform: true, tenants: [] };
    reasons.push(result.reason);
  }
  // Organizations sharing one app share its secret: one HMAC answers for all of them.
  const tenantsBySecret = new Map<string, Set<string>>();
  for (const account of accounts) {
    const own = account ? ownWebhookSecretOf(account.tenantId, channel, account.integration) : null;
    if (!account || !own) continue;
    tenantsBySecret.set(own, (tenantsBySecret.get(own) ?? new Set()).add(account.tenantId));
  }
  if (!platform && tenantsBySecret.size === 0) throw UnauthorizedError(`No webhook secret is configured for this ${channel} account`);
  if (tenantsBySecret.size > MAX_TENANT_SECRETS) {
    throw UnauthorizedError(`Webhook signature rejected: the body names accounts of more than ${MAX_TENANT_SECRETS} organizations with their own secrets`);
  }
  const tenants: string[] = [];
  for (const [secret, ids] of tenantsBySecret) {
    if (raw.length > PAUSE_ABOVE_BYTES) await pause();
    const result = adapter.verify(raw, headers, secret);
    if (result.ok) tenants.push(...ids);
    else reasons.push(result.reason);
  }
  if (tenants.length === 0) throw UnauthorizedError(`Webhook signature rejected: ${reasons[0] ?? 'signature mismatch'}`);
  return { platform: false, tenants };
}
