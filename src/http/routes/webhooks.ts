/**
 * Webhooks: provider deliveries in, and Meta's subscription handshakes. A delivery is verified
 * on its raw bytes, stored, answered with 200 at once, and processed after the answer; a
 * delivery for an account nobody connected is stored and ignored, never an error to Meta.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { accountsNamed, metaChannelOf, readMetaRouting, type MetaRouting } from '../../../channels/meta-routing.js';
import type { ChannelName, WebhookHeaders } from '../../../channels/types.js';
import { ValidationError } from '../../errors.js';
import { appContext } from '../../context.js';
import { receiveWebhook } from '../../services/inbound.js';
import { answerSubscription } from '../../services/webhook-subscription.js';
import type { RouteGroup } from '../mount.js';
import type { RouteDef } from '../route.js';
import { route } from '../route.js';

// Meta's challenge is a random number; only letters and digits are ever echoed, so nothing a
// caller puts there can be read as HTML or script by a browser that opens the URL.
const CHALLENGE_MESSAGE = 'must be a plain token: 1 to 256 letters and digits';

const HandshakeQuery = z.object({
  'hub.mode': z.string().min(1).max(64),
  'hub.verify_token': z.string().min(1).max(256),
  'hub.challenge': z
    .string({ message: CHALLENGE_MESSAGE })
    .regex(/^[A-Za-z0-9]{1,256}$/, CHALLENGE_MESSAGE)
    .describe('Echoed as text/plain when the verify token matches; letters and digits only'),
});

const ReceivedBody = z.object({ received: z.literal(true), id: z.string(), duplicate: z.boolean() });

/**
 * `/api/webhooks/meta` serves apps that subscribe several products to one callback: the body's
 * `object` names the channel. Read by the same bounded, linear pass that finds the accounts
 * (channels/meta-routing.ts), so the unverified body is read once and never by a regex.
 */
async function receiveMeta(ctx: Context) {
  const raw = ctx.state.rawBody as Buffer;
  if (raw.length === 0) throw ValidationError('Webhook body is empty');
  let routing: MetaRouting;
  try {
    routing = await readMetaRouting(raw);
  } catch (err) {
    throw ValidationError(`Invalid Meta webhook body: ${(err as Error).message}`);
  }
  const channel = metaChannelOf(routing.object);
  if (!channel) throw ValidationError('Unsupported webhook: "object" must be whatsapp_business_account, instagram or page');
  return receive(ctx, channel, accountsNamed(channel, routing));
}

async function receive(ctx: Context, channel: ChannelName, routed?: string[]) {
  const raw = ctx.state.rawBody as Buffer;
  if (raw.length === 0) throw ValidationError('Webhook body is empty');
  const received = await receiveWebhook(channel, raw, ctx.headers as WebhookHeaders, routed);
  if (received.delivery) appContext().webhooks.enqueue(received.delivery);
  return { received: true as const, id: received.id, duplicate: received.duplicate };
}

function handshake(path: string, summary: string, channels: ChannelName[]): RouteDef {
  return route({
    method: 'get',
    path,
    summary,
    description:
      'Answers `hub.challenge` as `text/plain; charset=utf-8` when `hub.verify_token` is META_VERIFY_TOKEN or a tenant integration’s verify token; 403 otherwise. ' +
      'A challenge that is not 1 to 256 letters and digits is a 400 that echoes nothing.',
    access: 'public',
    query: HandshakeQuery,
    response: z.string(),
    produces: 'text/plain',
    errors: { 403: 'hub.mode is not subscribe, or the verify token matches no integration' },
    handler: async ({ ctx, query }) => {
      const challenge = await answerSubscription(channels, query['hub.mode'], query['hub.verify_token'], query['hub.challenge']);
      // Set before the body, so Koa never guesses HTML from the text.
      ctx.type = 'text/plain; charset=utf-8';
      return challenge;
    },
  });
}

function delivery(path: string, summary: string, description: string, accept: (ctx: Context) => Promise<unknown>): RouteDef {
  return route({
    method: 'post',
    path,
    summary,
    description: `${description} The raw body is verified, stored and acknowledged within the request; processing follows. 401 for a missing or wrong signature, 400 for a body that cannot be read (Meta bodies nested deeper than 64 levels are refused unverified).`,
    access: 'public',
    response: ReceivedBody,
    errors: { 401: 'Missing or wrong signature, or no webhook secret configured for the accounts the body names', 413: 'Body larger than META_WEBHOOK_BODY_LIMIT_KB (e-mail: WEBHOOK_BODY_LIMIT_KB)' },
    // Per endpoint and source address; checked before the signature, so floods cost no HMACs.
    limits: [{ limit: 'webhookSource', key: ({ ctx }) => `${path}:${ctx.ip}` }],
    audit: 'none', // provider deliveries are not user actions; the raw delivery itself is kept
    handler: async ({ ctx }) => accept(ctx) as Promise<z.infer<typeof ReceivedBody>>,
  });
}

/** The Webhooks group. */
export const webhookRoutes: RouteGroup = {
  group: 'Webhooks',
  routes: [
    handshake('/api/webhooks/meta', 'Meta webhook verification', ['whatsapp', 'instagram', 'messenger']),
    delivery('/api/webhooks/meta', 'Receive Meta webhook (WhatsApp + Instagram)', 'Signed with `X-Hub-Signature-256`; the channel follows the body’s `object`.', receiveMeta),
    delivery('/api/webhooks/email', 'Receive inbound email webhook', 'Mailgun routes format, signed with the webhook signing key.', (ctx) => receive(ctx, 'email')),
    handshake('/api/webhooks/messenger', 'Meta webhook verification for Messenger', ['messenger']),
    delivery('/api/webhooks/messenger', 'Receive Messenger inbound webhook events', 'Signed with `X-Hub-Signature-256`.', (ctx) => receive(ctx, 'messenger')),
    handshake('/api/webhooks/instagram', 'Meta webhook verification for Instagram', ['instagram']),
    delivery('/api/webhooks/instagram', 'Receive Instagram inbound webhook events', 'Signed with `X-Hub-Signature-256`.', (ctx) => receive(ctx, 'instagram')),
  ],
};
