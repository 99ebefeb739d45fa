/**
 * The conversation actor: the only writer of a conversation and its messages' delivery state
 * (ARCHITECTURE invariant 4). One mailbox per conversation, hosted by whichever process holds
 * its lease; its state is the conversation document, written back by `_id` and the version it
 * read, with the change's events beside it (see state.ts).
 *
 * To add a message: write its handler in a file beside this one and add it to `handlers`.
 */
import { appContext } from '../../src/context.js';
import { NotFoundError } from '../../src/errors.js';
import type { Conversation } from '../../src/models/conversation.js';
import type { ActorBehaviour } from '../runtime.js';
import { inboundHandlers, receiveInbound, type InboundMessagePayload, type InboundReply } from './inbound.js';
import { lifecycleHandlers } from './lifecycle.js';
import { noteHandlers } from './notes.js';
import { outboundHandlers } from './outbound.js';
import { openOutbound, type OutboundOpenPayload } from './outbound-open.js';
import { transferHandlers } from './transfers.js';
import { loadConversation, type ConversationHandler } from './state.js';

const handlers = {
  // Its own entry: the one message that may find no conversation yet, and start it.
  inbound: (c: Conversation, p: InboundMessagePayload): Promise<{ state: Conversation | null; reply: InboundReply }> => receiveInbound(c, p, c._id),
  // Likewise: a business-initiated message (a campaign's) may start its conversation.
  'outbound.open': (c: Conversation, p: OutboundOpenPayload) => openOutbound(c, p, c._id),
  ...inboundHandlers,
  ...lifecycleHandlers,
  ...noteHandlers,
  ...outboundHandlers,
  ...transferHandlers,
};

/** Every message type the conversation actor understands. */
export type ConversationMessageType = keyof typeof handlers;

/** The payload of a message type. */
export type ConversationPayload<T extends ConversationMessageType> = Parameters<(typeof handlers)[T]>[1];

/** The reply of a message type. */
export type ConversationReply<T extends ConversationMessageType> = Awaited<ReturnType<(typeof handlers)[T]>>['reply'];

interface ConversationMessage {
  type: ConversationMessageType;
  payload: unknown;
}

/** State not read yet: the first message decides whether it needs reading. */
const UNLOADED = Symbol('unloaded');

/** The behaviour registered with the ActorSystem; state null until the document exists. */
export const conversationActor: ActorBehaviour<Conversation | null | typeof UNLOADED, ConversationMessage, unknown> = {
  kind: 'conversation',
  init: async () => UNLOADED,
  async receive(loaded, msg, ctx) {
    // The first message of a conversation whose slot its sender just claimed finds nothing to read.
    const fresh = (msg.type === 'inbound' || msg.type === 'outbound.open') && (msg.payload as InboundMessagePayload | OutboundOpenPayload).fresh === true;
    const state = loaded === UNLOADED ? (fresh ? null : await loadConversation(ctx.id)) : loaded;
    // Only an inbound or a business-initiated message creates a conversation, here; anything else needs one to exist.
    if (!state && msg.type === 'inbound') return receiveInbound(null, msg.payload as InboundMessagePayload, ctx.id);
    if (!state && msg.type === 'outbound.open') return openOutbound(null, msg.payload as OutboundOpenPayload, ctx.id);
    const current = state ?? (await loadConversation(ctx.id));
    if (!current) throw NotFoundError('Conversation');
    const handler = handlers[msg.type] as unknown as ConversationHandler<unknown, unknown>;
    if (!handler) throw new Error(`conversation actor: unknown message type ${String(msg.type)}`);
    return handler(current, msg.payload);
  },
};

/** Asks a conversation's actor to apply one change. */
export async function askConversation<T extends ConversationMessageType>(
  conversationId: string,
  type: T,
  payload: ConversationPayload<T>,
): Promise<ConversationReply<T>> {
  return (await appContext().actors.ask('conversation', conversationId, { type, payload })) as ConversationReply<T>;
}
