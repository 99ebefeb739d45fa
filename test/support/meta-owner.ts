/**
 * Access tokens that control a Meta id in the run's fake Graph API: connecting a WhatsApp number,
 * Page or Instagram account proves ownership with the Graph API (src/services/account-ownership.ts),
 * so test support hands out a token Meta would accept for exactly that id.
 */
import { randomBytes } from 'node:crypto';
import { fakeGraph } from '../setup.js';

/** A fresh access token that the fake Graph API says controls `id`. */
export function ownerToken(id: string, fields: Record<string, unknown> = {}): string {
  const token = `EAAG${randomBytes(20).toString('hex')}`;
  fakeGraph().grant(id, token, fields);
  return token;
}
