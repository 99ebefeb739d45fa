/**
 * Mocha root hooks: boot one server for the whole run on a throwaway database (the services
 * come from scripts/with-services.sh), and close it after. One fake Graph API serves the whole
 * run as META_GRAPH_URL; it starts with no handlers, so each test registers what it expects.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config.js';
import { undocumentedAnswers } from '../src/http/conformance.js';
import type { RealtimeGateway } from '../src/realtime/gateway.js';
import { startServer, type RunningServer } from '../src/server.js';
import { startFakeGraph, type FakeGraph } from './support/fake-graph.js';

let server: RunningServer | null = null;
let graph: FakeGraph | null = null;
let env: Record<string, string> = {};

/** The run's fake Graph API (the server's META_GRAPH_URL); `reset()` it before registering handlers. */
export function fakeGraph(): FakeGraph {
  if (!graph) throw new Error('fake Graph API not started');
  return graph;
}

/** The environment the test server runs with, for a second server process sharing its data. */
export const testServerEnv = () => env;

/** The running server's Socket.IO gateway (its census shows what it holds for sockets). */
export function realtimeGateway(): RealtimeGateway {
  if (!server) throw new Error('server not started');
  return server.realtime;
}

/** The running server's base URL. */
export function baseUrl(): string {
  if (!server) throw new Error('server not started');
  return server.url;
}

/** A database URI with a random name, so runs never see each other's data. */
export function throwawayMongoUri(prefix = 'test'): string {
  const uri = new URL(process.env.MONGODB_URI ?? '');
  uri.pathname = `/${prefix}_${randomBytes(4).toString('hex')}`;
  return uri.toString();
}

/** Every RATE_LIMIT_* setting (src/config.ts). */
export const RATE_LIMIT_VARIABLES = ['LOGIN_IP', 'LOGIN_EMAIL', 'REGISTER_IP', 'REGISTER_EMAIL', 'SOCKET_IP', 'WEBHOOK_SOURCE', 'API_TOKEN'].map((n) => `RATE_LIMIT_${n}`);

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(60000);
    graph = await startFakeGraph();
    env = {
      NODE_ENV: 'test',
      MONGODB_URI: throwawayMongoUri(),
      REDIS_URL: process.env.REDIS_URL ?? '',
      JWT_SECRET: randomBytes(32).toString('hex'),
      REALTIME_REPLAY_LIMIT: '40',
      WEBHOOK_BODY_LIMIT_KB: '2048',
      // Sweepers look often, so tests wait on outcomes for moments, never minutes.
      SCHEDULED_MESSAGES_SWEEP_MS: '300',
      // Tests kill server processes; a sweep lock one of them held blocks that sweep 3 s, not 30-60.
      SWEEP_LOCK_MS: '3000',
      CHAT_EXPIRATION_SWEEP_MS: '300',
      // Campaigns: short real rates and stale limits; this process does not send them (the
      // campaign tests start sender processes they can kill), it only sweeps.
      CAMPAIGN_SENDER: 'false',
      CAMPAIGN_RATE_PER_SECOND: '200',
      CAMPAIGN_SWEEP_MS: '300',
      CAMPAIGN_RUN_STALE_MS: '1500',
      CAMPAIGN_CLAIM_STALE_MS: '1500',
      // Outgoing webhooks: retries after moments (4 attempts in all), a sweep that looks often.
      OUTGOING_WEBHOOK_RETRY_MS: '200,500,800',
      OUTGOING_WEBHOOK_SWEEP_MS: '300',
      OUTGOING_WEBHOOK_TIMEOUT_MS: '5000',
      // Billing renewals and card retries are swept often (a test's card retries are moments apart).
      BILLING_SWEEP_MS: '300',
      // The platform's own Meta app secret; tenants may also set their own per integration.
      META_APP_SECRET: randomBytes(16).toString('hex'),
      // Outbound Graph calls go to the local fake, never to Meta.
      META_GRAPH_URL: graph.url,
      META_GRAPH_VERSION: 'v21.0',
      // The platform's Meta app for onboarding (Embedded Signup, Facebook Login).
      META_APP_ID: '1234567890123',
      META_WHATSAPP_CONFIG_ID: '9876543210987',
      META_OAUTH_REDIRECT_URI: 'https://app.omnistream.test/integrations/meta/callback',
      // Local fake SMTP servers listen on 127.0.0.1: allowed explicitly, as production would
      // allow an internal relay; every other non-public address stays refused.
      OUTBOUND_ALLOWED_NETWORKS: '127.0.0.1/32',
      // Their self-signed certificate is trusted the way production trusts a private CA.
      OUTBOUND_TLS_CA_FILE: fileURLToPath(new URL('./fixtures/tls/smtp-cert.pem', import.meta.url)),
      // GET /metrics exists only with a token (test/http/metrics.test.ts also runs an app without one).
      METRICS_TOKEN: randomBytes(24).toString('hex'),
      // Every test calls from 127.0.0.1; test/http/rate-limits.test.ts runs servers that limit.
      ...Object.fromEntries(RATE_LIMIT_VARIABLES.map((name) => [name, 'off'])),
    };
    const config = parseConfig({ ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' });
    server = await startServer(config);
  },
  async afterAll() {
    await server?.close();
    server = null;
    await graph?.close();
    graph = null;
    // Every answer the in-process server gave during the run had to be a documented status.
    const undocumented = undocumentedAnswers();
    if (undocumented.length > 0) throw new Error(`answers the OpenAPI document does not list:\n  ${undocumented.join('\n  ')}`);
  },
};
