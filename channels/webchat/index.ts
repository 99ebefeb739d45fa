/**
 * The website chat widget channel. It has no provider and no webhooks: visitors write over the
 * server's own `/webchat` Socket.IO namespace (src/realtime/webchat.ts), which hands each message
 * to the same inbound pipeline as the other channels, and "sending" is an emit to the visitor's
 * room there. The tenant's one webchat account (made by PUT /api/webchat/settings) has the
 * tenant id as its external id, so `credentials.accountExternalId` names the tenant and
 * `message.to` (the contact's identity) names the visitor.
 */
import { randomUUID } from 'node:crypto';
import { ChannelSendError, type ChannelAdapter, type OutboundMessage } from '../types.js';

/** What a visitor's widget receives for one message from the business. */
export interface VisitorMessage {
  /** The message's id as the widget knows it (its provider id here). */
  id: string;
  text: string;
  sent_at: string;
}

/**
 * Hands a message to the visitor's open widgets, in whichever process holds them. Resolves once
 * it is on its way; `onReceived` is called if a widget acknowledges it.
 */
export type VisitorDelivery = (tenantId: string, visitorId: string, message: VisitorMessage, onReceived: () => void) => void;

let delivery: VisitorDelivery | null = null;
let received: ((tenantId: string, externalId: string) => void) | null = null;

/** Installs the realtime side (the namespace) and what to do when a widget confirms a message. */
export function connectVisitorDelivery(deliver: VisitorDelivery | null, onReceived: ((tenantId: string, externalId: string) => void) | null): void {
  delivery = deliver;
  received = onReceived;
}

async function send(credentials: { accountExternalId: string }, message: OutboundMessage): Promise<{ externalId: string }> {
  if (!delivery) throw new ChannelSendError('the webchat namespace is not running in this process', 'webchat_unavailable', true, null);
  if (message.content.type !== 'text') {
    throw new ChannelSendError(`the webchat channel sends text, not ${message.content.type}`, 'unsupported_content', false, null);
  }
  const tenantId = credentials.accountExternalId;
  const externalId = `webchat-${randomUUID()}`;
  const notify = received;
  delivery(tenantId, message.to, { id: externalId, text: message.content.text, sent_at: new Date().toISOString() }, () => notify?.(tenantId, externalId));
  return { externalId };
}

/** The webchat adapter: webhook methods refuse (nothing arrives by webhook), send emits to the visitor. */
export const webchatAdapter: ChannelAdapter = {
  name: 'webchat',
  routedAccounts: () => Promise.reject(new Error('the webchat channel takes no webhooks')),
  verify: () => ({ ok: false, reason: 'the webchat channel takes no webhooks' }),
  parse: () => [],
  send,
};
