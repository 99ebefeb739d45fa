/**
 * Proof of ownership before a provider account is claimed (issue 8). A Meta id (WhatsApp
 * phone_number_id, Page, Instagram account) is claimed only with an access token that the Graph
 * API lets read that very id; an inbound e-mail address only at the organization's own inbound
 * domain (checked by the tenant actor, actors/tenant/integrations.ts). Both run before the claim,
 * so a refused claim takes nothing.
 */
import { readMetaOwnership } from '../../channels/meta-ownership.js';
import type { ChannelName } from '../../channels/types.js';
import { appContext } from '../context.js';
import { AppError } from '../errors.js';
import { logger } from '../logger.js';

const KIND: Record<Exclude<ChannelName, 'email' | 'webchat'>, string> = {
  whatsapp: 'WhatsApp phone number',
  messenger: 'Facebook Page',
  instagram: 'Instagram account',
};

/**
 * Resolves when `accessToken` controls Meta object `externalId` of `channel`. 422 naming
 * `access_token` when Graph refuses it; 503 when Graph cannot be reached or answers 5xx/429;
 * 502 when it answers something that is not a Graph node.
 */
export async function proveMetaOwnership(channel: Exclude<ChannelName, 'email' | 'webchat'>, externalId: string, accessToken: string): Promise<void> {
  const answer = await readMetaOwnership(appContext().config.meta, channel, externalId, accessToken);
  if (answer.kind === 'controls') return;
  logger.warn({ channel, externalId, answer: answer.kind, reason: answer.reason }, 'provider account ownership not proven');
  if (answer.kind === 'refused') {
    const message = `does not control the ${KIND[channel]} ${externalId} (Graph API: ${answer.reason})`;
    throw new AppError(422, 'ownership_not_proven', `The access_token ${message}`, [{ in: 'body', field: 'access_token', message }]);
  }
  if (answer.kind === 'unavailable') {
    throw new AppError(503, 'provider_unavailable', `Could not check the ${KIND[channel]} with the Graph API; try again (${answer.reason})`);
  }
  throw new AppError(502, 'provider_error', `The Graph API gave an unreadable answer about the ${KIND[channel]}; try again (${answer.reason})`);
}
