/**
 * The website chat widget's Socket.IO namespace, `/webchat`, beside the agents' gateway on the
 * same server (and the same Redis adapter, so a reply sent from any process reaches the
 * visitor's sockets wherever they are connected).
 *
 * Handshake: `auth: { token: visitor_token }` from POST /api/webchat/sessions, from a page of one
 * of the tenant's allowed origins (the Origin header), counted against RATE_LIMIT_SOCKET_IP.
 * Refusals are `connect_error` with `data: { code, message }` (`invalid_visitor_token`,
 * `webchat_disabled`, `origin_not_allowed`, `rate_limited` with `retry_after`).
 *
 * A socket joins only its own visitor's room, `webchat:<tenant>:<visitor>`, and is sent `history`
 * (its live conversation's latest messages) on connect. The widget sends
 * `message` `{ client_message_id, text }` with an ack: `{ ok: true, message }`, or
 * `{ ok: false, error: { code, message, retry_after? } }` for `invalid_message`, `too_large`
 * (text over VISITOR_TEXT_MAX), `rate_limited` (RATE_LIMIT_WEBCHAT_VISITOR) and
 * `webchat_disabled` / `origin_not_allowed`. Replies arrive as `message`
 * `{ id, from: 'agent', text, sent_at }`; a widget acknowledging one marks it delivered.
 */
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import { connectVisitorDelivery } from '../../channels/webchat/index.js';
import { AppError, RateLimitedError } from '../errors.js';
import { logger } from '../logger.js';
import { consumeLimit } from '../services/rate-limits.js';
import {
  authenticateVisitor,
  markVisitorReceived,
  receiveVisitorMessage,
  recheckVisitor,
  visitorHistory,
  VISITOR_TEXT_MAX,
  type Visitor,
} from '../services/webchat-visitors.js';
import { clientAddressOf } from './gateway.js';

/** The namespace the widget connects to. */
export const WEBCHAT_NAMESPACE = '/webchat';

/** How long a reply waits for a widget's receipt before it stays `sent`. */
const RECEIPT_TIMEOUT_MS = 10_000;

const visitorRoom = (tenantId: string, visitorId: string) => `webchat:${tenantId}:${visitorId}`;

const VisitorMessage = z.object({
  client_message_id: z.string().min(1).max(100),
  text: z.string().trim().min(1),
});

/** An error as the widget reads it. */
function errorBody(err: unknown): { code: string; message: string; retry_after?: number } {
  if (err instanceof RateLimitedError) return { code: 'rate_limited', message: err.message, retry_after: err.retryAfterSeconds };
  if (err instanceof AppError && err.status < 500) return { code: err.code, message: err.message };
  logger.error({ err }, 'webchat socket request failed');
  return { code: 'internal_error', message: 'Something went wrong; try again' };
}

const originOf = (socket: Socket): string | undefined => socket.handshake.headers.origin;

/** Acknowledges one `message` from the widget. */
async function handleMessage(socket: Socket, visitor: Visitor, raw: unknown): Promise<Record<string, unknown>> {
  const parsed = VisitorMessage.safeParse(raw);
  if (!parsed.success) return { ok: false, error: { code: 'invalid_message', message: 'Send { client_message_id, text } with a non-empty text' } };
  const { client_message_id: clientMessageId, text } = parsed.data;
  if (text.length > VISITOR_TEXT_MAX) {
    return { ok: false, error: { code: 'too_large', message: `A message may have at most ${VISITOR_TEXT_MAX} characters (this one has ${text.length})` } };
  }
  try {
    await consumeLimit('webchatVisitor', `${visitor.tenantId}:${visitor.visitorId}`);
    await recheckVisitor(visitor, originOf(socket));
    const message = await receiveVisitorMessage({ ...visitor, clientMessageId, text });
    // The visitor's other tabs show it too.
    socket.to(visitorRoom(visitor.tenantId, visitor.visitorId)).emit('message', message);
    return { ok: true, message };
  } catch (err) {
    return { ok: false, error: errorBody(err) };
  }
}

/** Opens the namespace on the gateway's server; answers how to close it. */
export function attachWebchat(io: Server): { namespace: Namespace; close(): void } {
  const nsp = io.of(WEBCHAT_NAMESPACE);
  nsp.use(async (socket, next) => {
    try {
      await consumeLimit('socketIp', clientAddressOf(socket));
      socket.data.visitor = await authenticateVisitor((socket.handshake.auth as { token?: unknown }).token, originOf(socket));
      next();
    } catch (err) {
      const refused: Error & { data?: unknown } = new Error((err as Error).message);
      refused.data = errorBody(err);
      next(refused);
    }
  });
  nsp.on('connection', async (socket) => {
    const visitor = socket.data.visitor as Visitor;
    socket.on('message', (raw: unknown, ack?: unknown) => {
      void handleMessage(socket, visitor, raw).then((answer) => {
        if (typeof ack === 'function') ack(answer);
      });
    });
    try {
      await socket.join(visitorRoom(visitor.tenantId, visitor.visitorId));
      socket.emit('history', { messages: await visitorHistory(visitor) });
    } catch (err) {
      socket.emit('history', { messages: [], error: errorBody(err) });
    }
  });

  connectVisitorDelivery(
    (tenantId, visitorId, message, onReceived) => {
      nsp
        .to(visitorRoom(tenantId, visitorId))
        .timeout(RECEIPT_TIMEOUT_MS)
        .emit('message', { ...message, from: 'agent' }, (_err: Error | null, receipts: unknown[]) => {
          if (receipts?.length > 0) onReceived();
        });
    },
    (tenantId, externalId) => void markVisitorReceived(tenantId, externalId),
  );

  return {
    namespace: nsp,
    close() {
      connectVisitorDelivery(null, null);
      nsp.disconnectSockets(true);
    },
  };
}
