/**
 * Webhooks: provider deliveries in, and Meta's subscription handshakes. A delivery is verified
 * on its raw bytes, stored, answered with 200 at once, and processed after the answer; a
 * delivery for an account nobody connected is stored and ignored, never an error to Meta.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import type { ChannelName, WebhookHeaders } from '../../../channels/types.js';
import { ValidationError } from '../../errors.js';
import { appContext } from '../../context.js';
import { receiveWebhook } from '../../services/inbound.js';
import { answerSubscription } from '../../services/webhook-subscription.js';
import type { RouteGroup } from '../mount.js';
import type { RouteDef } from '../route.js';
import { route } from '../route.js';

const HandshakeQuery = z.object({
  'hub.mode': z.string().min(1),
  'hub.verify_token': z.string().min(1),
  'hub.challenge': z.string().min(1).max(256),
});

const ReceivedBody = z.object({ received: z.literal(true), id: z.string(), duplicate: z.boolean() });

// `/api/webhooks/meta` serves the apps that subscribe WhatsApp and Instagram to one callback.
const META_OBJECTS: Record<string, ChannelName> = {
  whatsapp_business_account: 'whatsapp',
  instagram: 'instagram',
  page: 'messenger',
};

function channelOfMetaBody(raw: Buffer): ChannelName {
  const match = /"object"\s*:\s*"([a-z_]+)"/.exec(raw.toString('utf8', 0, Math.min(raw.length, 4096)));
  const channel = match ? META_OBJECTS[match[1] ?? ''] : undefined;
  if (!channel) throw ValidationError('Unsupported webhook: "object" must be whatsapp_business_account, instagram or page');
  return channel;
}

async function receive(ctx: Context, channel: ChannelName) {
  const raw = ctx.state.rawBody as Buffer;
  if (raw.length === 0) throw ValidationError('Webhook body is empty');
  const received = await receiveWebhook(channel, raw, ctx.headers as WebhookHeaders);
  if (received.delivery) appContext().webhooks.enqueue(received.delivery);
  return { received: true as const, id: received.id, duplicate: received.duplicate };
}

function handshake(path: string, summary: string, channels: ChannelName[]): RouteDef {
  return route({
    method: 'get',
    path,
    summary,
    description: 'Answers `hub.challenge` as text when `hub.verify_token` is META_VERIFY_TOKEN or a tenant integration’s verify token; 403 otherwise.',
    access: 'public',
    query: HandshakeQuery,
    response: z.string(),
    handler: async ({ query }) => answerSubscription(channels, query['hub.mode'], query['hub.verify_token'], query['hub.challenge']),
  });
}

function delivery(path: string, summary: string, description: string, channelOf: (raw: Buffer) => ChannelName): RouteDef {
  return route({
    method: 'post',
    path,
    summary,
    description: `${description} The raw body is verified, stored and acknowledged within the request; processing follows. 401 for a missing or wrong signature, 400 for a body that cannot be read.`,
    access: 'public',
    response: ReceivedBody,
    // Per endpoint and source address; checked before the signature, so floods cost no HMACs.
    limits: [{ limit: 'webhookSource', key: ({ ctx }) => `${path}:${ctx.ip}` }],
    audit: 'none', // provider deliveries are not user actions; the raw delivery itself is kept
    handler: async ({ ctx }) => receive(ctx, channelOf(ctx.state.rawBody as Buffer)),
  });
}

/** The Webhooks group. */
export const webhookRoutes: RouteGroup = {
  group: 'Webhooks',
  routes: [
    handshake('/api/webhooks/meta', 'Meta webhook verification', ['whatsapp', 'instagram', 'messenger']),
    delivery('/api/webhooks/meta', 'Receive Meta webhook (WhatsApp + Instagram)', 'Signed with `X-Hub-Signature-256`; the channel follows the body’s `object`.', channelOfMetaBody),
    delivery('/api/webhooks/email', 'Receive inbound email webhook', 'Mailgun routes format, signed with the webhook signing key.', () => 'email'),
    handshake('/api/webhooks/messenger', 'Meta webhook verification for Messenger', ['messenger']),
    delivery('/api/webhooks/messenger', 'Receive Messenger inbound webhook events', 'Signed with `X-Hub-Signature-256`.', () => 'messenger'),
    handshake('/api/webhooks/instagram', 'Meta webhook verification for Instagram', ['instagram']),
    delivery('/api/webhooks/instagram', 'Receive Instagram inbound webhook events', 'Signed with `X-Hub-Signature-256`.', () => 'instagram'),
  ],
};
