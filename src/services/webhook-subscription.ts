/** Meta's webhook subscription handshake (GET with hub.mode, hub.verify_token, hub.challenge). */
import type { ChannelName } from '../../channels/types.js';
import { ForbiddenError } from '../errors.js';
import { verifyTokenMatches } from './integration-accounts.js';

/** The challenge to echo when the token is ours (the platform's or a tenant integration's), else 403. */
export async function answerSubscription(channels: ChannelName[], mode: string, token: string, challenge: string): Promise<string> {
  if (mode === 'subscribe') {
    for (const channel of channels) if (await verifyTokenMatches(channel, token)) return challenge;
  }
  throw ForbiddenError('Verify token does not match');
}
