/**
 * The rules every outbound message passes, whoever sends it (an agent over REST, a scheduled
 * message, an AI agent): what each channel can carry, the providers' messaging windows, the
 * conversation states that accept a reply, and never delivering a private note or an echo
 * (Chatwoot's SendOnChannelService). Pure functions: the conversation actor applies the
 * state-dependent ones inside its mailbox, the send path the rest.
 */
import type { ChannelName } from '../../channels/types.js';
import { CUSTOMER_SERVICE_WINDOW_MS, isInsideCustomerServiceWindow } from '../../channels/whatsapp/index.js';
import { BodyFieldError, StateError } from '../errors.js';
import type { Conversation } from '../models/conversation.js';
import type { Message } from '../models/message.js';

/** The kinds of message an agent can send. */
export const OUTGOING_TYPES = ['text', 'media', 'template', 'interactive', 'reaction'] as const;

/** One kind of outgoing message. */
export type OutgoingType = (typeof OUTGOING_TYPES)[number];

const CHANNEL_NAMES: Record<ChannelName, string> = { whatsapp: 'WhatsApp', messenger: 'Messenger', instagram: 'Instagram', email: 'E-mail', webchat: 'Website chat' };

/**
 * What each channel's adapter can send. Templates and interactive messages are WhatsApp
 * shapes; e-mail replies are text (threaded under the customer's last e-mail).
 */
const SUPPORTED: Record<ChannelName, readonly OutgoingType[]> = {
  whatsapp: ['text', 'media', 'template', 'interactive', 'reaction'],
  messenger: ['text', 'media', 'reaction'],
  instagram: ['text', 'media', 'reaction'],
  email: ['text'],
  webchat: ['text'],
};

/**
 * Longest text each provider accepts: WhatsApp 4096, Messenger 2000, Instagram 1000 characters.
 * https://developers.facebook.com/docs/messenger-platform/reference/send-api
 */
const TEXT_LIMITS: Record<ChannelName, number> = { whatsapp: 4096, messenger: 2000, instagram: 1000, email: 100_000, webchat: 4096 };

/** 422 unless the conversation's channel can carry this kind; 400 when its text is too long there. */
export function assertChannelSupports(channel: ChannelName, type: OutgoingType, text: string | null): void {
  if (!SUPPORTED[channel].includes(type)) {
    throw StateError(`${CHANNEL_NAMES[channel]} conversations cannot send ${type} messages (supported: ${SUPPORTED[channel].join(', ')})`);
  }
  const limit = TEXT_LIMITS[channel];
  if (text !== null && text.length > limit) {
    const message = `must be at most ${limit} characters on ${CHANNEL_NAMES[channel]}`;
    throw BodyFieldError('text', message);
  }
}

/** 422 for conversations that no longer take replies: closed and expired ones are final. */
export function assertConversationAcceptsReplies(c: Conversation): void {
  if (c.status === 'closed' || c.status === 'expired') {
    throw StateError(`The conversation is ${c.status}; a new message from the customer starts a new conversation`);
  }
}

/** Whether a message of `type` on `channel` must fall inside the customer-service window (e-mail and WhatsApp templates need not). */
export const messagingWindowApplies = (channel: ChannelName, type: OutgoingType): boolean => channel !== 'email' && !(channel === 'whatsapp' && type === 'template');

/**
 * 422 outside the provider's messaging window. WhatsApp allows free-form messages only within
 * 24 hours of the customer's last message and templates at any time; Messenger and Instagram
 * allow standard messages within 24 hours (we send no message tags); e-mail has no window.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages#customer-service-windows
 * https://developers.facebook.com/docs/messenger-platform/policy/policy-overview#24hours_window
 */
export function assertInsideMessagingWindow(channel: ChannelName, type: OutgoingType, lastInboundAt: Date | null, now: Date): void {
  if (!messagingWindowApplies(channel, type)) return;
  if (isInsideCustomerServiceWindow(lastInboundAt, now)) return;
  const since = lastInboundAt ? `the customer last wrote at ${lastInboundAt.toISOString()}` : 'the customer has never written';
  const hours = CUSTOMER_SERVICE_WINDOW_MS / 3_600_000;
  const remedy = channel === 'whatsapp' ? 'only template messages can be sent until the customer writes again' : 'wait until the customer writes again';
  throw StateError(`Outside ${CHANNEL_NAMES[channel]}'s ${hours}-hour messaging window (${since}): ${remedy}`);
}

/** 422 for what must never reach a customer: private notes, and echoes or copies of channel messages. */
export function assertDeliverable(m: Pick<Message, 'direction' | 'sender_type' | 'content'>): void {
  if (m.content.private === true) throw StateError('Private notes are never sent to the customer');
  if (m.direction !== 'outbound' || m.sender_type === 'contact' || m.sender_type === 'external') {
    throw StateError('Only our own outbound messages are sent; echoes and customer messages came from the channel');
  }
}

/** The later of two optional times. */
export const latest = (a: Date | null, b: Date | null): Date | null => (a && b ? (a > b ? a : b) : (a ?? b));
