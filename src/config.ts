/**
 * Every setting OmniStream reads, parsed once from the environment. A bad value stops the
 * process at start with a message naming the variable, instead of failing later at use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseNetwork } from './net/outbound-guard.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const port = z.coerce.number().int().min(0).max(65535);
// `<count>/<seconds>` (at most count in any such window), or `off`.
const rateLimit = z
  .string()
  .regex(/^(off|[1-9]\d{0,8}\/[1-9]\d{0,6})$/, 'must be <count>/<seconds> (e.g. 30/300) or off')
  .transform((v): RateLimit | null => {
    if (v === 'off') return null;
    const [points, seconds] = v.split('/').map(Number) as [number, number];
    return { points, seconds };
  });

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(86400),
  COOKIE_NAME: z.string().regex(/^[A-Za-z0-9_-]+$/).default('omnistream_token'),
  COOKIE_SECURE: bool.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_KB: z.coerce.number().int().min(1).max(102400).default(1024),
  WEBHOOK_BODY_LIMIT_KB: z.coerce.number().int().min(64).max(102400).default(25600),
  META_WEBHOOK_BODY_LIMIT_KB: z.coerce.number().int().min(64).max(102400).default(3072),
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  MEDIA_DIR: z.string().min(1).default('.data/media'),
  S3_ENDPOINT: z.url().optional(),
  S3_ACCESS_KEY: z.string().min(1).optional(),
  S3_SECRET_KEY: z.string().min(1).optional(),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'must be a valid S3 bucket name').default('omnistream-media'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  MEDIA_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(16 * 1024 * 1024),
  PASSWORD_HASH_ROUNDS: z.coerce.number().int().min(4).max(15).optional(),
  META_APP_SECRET: z.string().min(1).optional(),
  META_VERIFY_TOKEN: z.string().min(1).optional(),
  META_GRAPH_URL: z.url().default('https://graph.facebook.com'),
  META_GRAPH_VERSION: z.string().regex(/^v\d+\.\d+$/, 'must look like v21.0').default('v21.0'),
  META_APP_ID: z.string().regex(/^[0-9]{1,32}$/, 'must be the Meta app id (digits)').optional(),
  META_WHATSAPP_CONFIG_ID: z.string().regex(/^[0-9]{1,32}$/, 'must be the Embedded Signup configuration id (digits)').optional(),
  META_OAUTH_REDIRECT_URI: z.url().optional(),
  META_GRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(10000),
  META_GRAPH_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  EMAIL_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  ENCRYPTION_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)').optional(),
  REALTIME_REPLAY_LIMIT: z.coerce.number().int().min(1).max(100000).default(1000),
  ACTOR_LEASE_MS: z.coerce.number().int().min(200).max(600000).default(10000),
  ACTOR_IDLE_MS: z.coerce.number().int().min(50).max(3600000).default(30000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  WEBHOOK_RETRY_AFTER_MS: z.coerce.number().int().min(100).max(3600000).default(30000),
  SWEEP_LOCK_MS: z.coerce.number().int().min(1000).max(3600000).optional(),
  SCHEDULED_MESSAGES_SWEEP_MS: z.coerce.number().int().min(200).max(3600000).default(5000),
  SCHEDULED_MESSAGES_CLAIM_LEASE_MS: z.coerce.number().int().min(1000).max(3600000).default(60000),
  CHAT_EXPIRATION_SWEEP_MS: z.coerce.number().int().min(200).max(86400000).default(60000),
  SLA_SWEEP_MS: z.coerce.number().int().min(200).max(3600000).default(30000),
  CSAT_TOKEN_TTL_HOURS: z.coerce.number().int().min(1).max(8760).default(168),
  CSAT_LINK_BASE_URL: z.url().default('http://localhost:3000/csat'),
  PUBLIC_URL: z.url().optional(),
  CAMPAIGN_RATE_PER_SECOND: z.coerce.number().int().min(1).max(10000).default(80),
  CAMPAIGN_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(100),
  CAMPAIGN_PARALLEL: z.coerce.number().int().min(1).max(512).default(64),
  CAMPAIGN_SWEEP_MS: z.coerce.number().int().min(200).max(3600000).default(5000),
  CAMPAIGN_RUN_STALE_MS: z.coerce.number().int().min(500).max(3600000).default(30000),
  CAMPAIGN_CLAIM_STALE_MS: z.coerce.number().int().min(500).max(3600000).default(60000),
  CAMPAIGN_SENDER: bool.default(true),
  OUTGOING_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(10000),
  OUTGOING_WEBHOOK_RETRY_MS: z
    .string()
    .default('10000,30000,120000,600000,1800000,3600000')
    .transform((v) => v.split(',').map((n) => Number(n.trim())))
    .refine((list) => list.length >= 1 && list.length <= 20 && list.every((n) => Number.isInteger(n) && n >= 10 && n <= 86_400_000), 'must be 1 to 20 comma-separated waits in ms (10 to 86400000), e.g. 10000,30000,120000'),
  OUTGOING_WEBHOOK_SWEEP_MS: z.coerce.number().int().min(200).max(3600000).default(5000),
  OUTGOING_WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  OUTBOUND_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((n) => n.trim()).filter(Boolean))
    .refine((list) => list.every(isNetwork), 'must be a comma-separated list of CIDRs or addresses, e.g. 127.0.0.1/32,10.20.0.0/16'),
  OUTBOUND_TLS_CA_FILE: z.string().min(1).optional(),
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BILLING_TAX_RATE_BPS: z.coerce.number().int().min(0).max(10000).default(0),
  BILLING_SWEEP_MS: z.coerce.number().int().min(200).max(86400000).default(60000),
  BILLING_RETRY_MS: z
    .string()
    .default('86400000,259200000,432000000')
    .transform((v) => v.split(',').map((n) => Number(n.trim())))
    .refine((list) => list.length >= 1 && list.length <= 10 && list.every((n) => Number.isInteger(n) && n >= 100), 'must be 1 to 10 comma-separated ms after the first failed payment, e.g. 86400000,259200000,432000000'),
  BILLING_STRIPE_API_URL: z.url().optional(),
  BILLING_STRIPE_SECRET_KEY: z.string().min(8).optional(),
  RATE_LIMIT_LOGIN_IP: rateLimit.prefault('30/300'),
  RATE_LIMIT_LOGIN_EMAIL: rateLimit.prefault('10/300'),
  RATE_LIMIT_REGISTER_IP: rateLimit.prefault('10/3600'),
  RATE_LIMIT_REGISTER_EMAIL: rateLimit.prefault('3/3600'),
  RATE_LIMIT_SOCKET_IP: rateLimit.prefault('120/60'),
  RATE_LIMIT_WEBHOOK_SOURCE: rateLimit.prefault('12000/60'),
  RATE_LIMIT_API_TOKEN: rateLimit.prefault('1200/60'),
  RATE_LIMIT_WEBCHAT_SESSION_IP: rateLimit.prefault('60/60'),
  RATE_LIMIT_WEBCHAT_VISITOR: rateLimit.prefault('20/60'),
});

/** At most `points` in any window of `seconds`. */
export interface RateLimit {
  points: number;
  seconds: number;
}

/** What each abuse limit counts; null turns it off. */
export interface RateLimits {
  /** Login attempts per client IP. */
  loginIp: RateLimit | null;
  /** Login attempts per e-mail address, from any IP. */
  loginEmail: RateLimit | null;
  /** Registrations per client IP. */
  registerIp: RateLimit | null;
  /** Registrations per e-mail address. */
  registerEmail: RateLimit | null;
  /** Socket.IO handshakes per client IP. */
  socketIp: RateLimit | null;
  /** Webhook deliveries per source IP and provider. */
  webhookSource: RateLimit | null;
  /** Authenticated API requests per session token or API key. */
  apiToken: RateLimit | null;
  /** Website chat widget sessions started (visitor tokens issued or renewed) per client IP. */
  webchatSessionIp: RateLimit | null;
  /** Website chat widget messages per visitor. */
  webchatVisitor: RateLimit | null;
}

/** True for a CIDR or a single IP address. */
function isNetwork(text: string): boolean {
  try {
    parseNetwork(text);
    return true;
  } catch {
    return false;
  }
}

export type Config = {
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  mongodbUri: string;
  redisUrl: string;
  jwt: { secret: string; ttlSeconds: number };
  cookie: { name: string; secure: boolean };
  logLevel: string;
  bodyLimitKb: number;
  /** Webhooks carry e-mail attachments, so they get a larger limit than API calls. */
  webhookBodyLimitKb: number;
  /** Meta's webhooks (WhatsApp, Messenger, Instagram) carry no files: Meta sends at most 3 MB. */
  metaWebhookBodyLimitKb: number;
  storage:
    | { driver: 'local'; dir: string }
    | { driver: 's3'; endpoint: string; accessKey: string; secretKey: string; bucket: string; region: string };
  /** S3 settings whenever S3_ENDPOINT and its keys are set, whatever the default driver (POST /api/media/s3). */
  s3: Extract<Config['storage'], { driver: 's3' }> | null;
  /** Largest accepted media upload. */
  media: { maxBytes: number };
  actorLeaseMs: number;
  /** How long an actor with no message keeps its state and lease. */
  actorIdleMs: number;
  /**
   * Stored webhooks: how many one process works on at once, and how long after it was received
   * (or last tried) a delivery not marked done is taken up again by the recovery pass.
   */
  webhooks: { concurrency: number; retryAfterMs: number };
  /**
   * The scheduled-message sweeper: how often it looks for due messages, and how long a claim
   * (status sending) holds before another pass takes it over from a claimer that died.
   */
  /** Overrides every recurring job's Agenda lock lifetime (how long a killed holder blocks it); unset, each job's own. */
  sweepLockMs: number | null;
  scheduledMessages: { sweepMs: number; claimLeaseMs: number };
  /** How often the chat-expiration sweeper applies the tenants' rules. */
  chatExpiration: { sweepMs: number };
  /** How often the SLA sweeper looks for clocks past their due time. */
  sla: { sweepMs: number };
  /**
   * CSAT surveys: how long a rating link works, and the page it opens (the token is appended as
   * `?token=`); that page submits to PATCH /api/csat/{token}.
   */
  csat: { tokenTtlHours: number; linkBaseUrl: string };
  /** The server's public base URL (the widget snippet's script source); null: the request's own origin. */
  publicUrl: string | null;
  /**
   * Campaign sending: the cap per sending account (messages/s, one token bucket in Redis shared
   * by every process; Meta's default tier is 80), recipients per batch (a cancel stops before the
   * next one), sends in flight per process, how often the sweeper starts due campaigns and
   * restarts quiet ones, how long a run may go without a heartbeat before another takes over,
   * how long a recipient's claim holds before another run settles it, and whether this process
   * runs campaign sends at all (false: a web-only process, others send).
   */
  campaigns: { ratePerSecond: number; batchSize: number; parallel: number; sweepMs: number; runStaleMs: number; claimStaleMs: number; sender: boolean };
  /**
   * Outgoing webhooks: the time one attempt may take, the waits before each retry of a failed
   * delivery (its attempts are this list's length + 1), and how often the sweep wakes webhooks
   * whose retry is due; delivered and failed deliveries older than retentionDays are deleted.
   */
  outgoingWebhooks: { timeoutMs: number; retryMs: number[]; sweepMs: number; retentionDays: number };
  /** How many missed events a resuming socket may replay before it must reload over REST. */
  realtimeReplayLimit: number;
  passwordHashRounds: number;
  /**
   * The platform's Meta app: webhook secrets, the Graph API, and what onboarding (Embedded Signup,
   * Facebook Login) needs: app id, Embedded Signup config id, OAuth redirect URI; each Graph call's
   * timeout and how often a 5xx/429 is retried.
   */
  meta: {
    appSecret: string | null;
    verifyToken: string | null;
    graphUrl: string;
    graphVersion: string;
    appId: string | null;
    whatsappConfigId: string | null;
    oauthRedirectUri: string | null;
    timeoutMs: number;
    retries: number;
  };
  email: { webhookSecret: string | null };
  /** 32-byte key for secrets at rest (integration tokens); derived from JWT_SECRET outside production. */
  encryptionKey: Buffer;
  /**
   * Tenant-configured targets (SMTP servers, later webhook URLs): networks they may reach besides
   * public addresses (none by default), and extra CA certificates (PEM) their TLS trusts.
   */
  outbound: { allowedNetworks: string[]; ca: string | null };
  rateLimits: RateLimits;
  /**
   * Reverse proxies in front of the server that append to X-Forwarded-For: the client address
   * is the entry this many from the right (0: the connection's own address, no header trusted).
   */
  trustProxyHops: number;
  /** The bearer token `GET /metrics` asks for; null: the endpoint does not exist (404). */
  metricsToken: string | null;
  /** Billing: the tax rate invoices charge (basis points, 1100 = 11%), how often the renewal sweep runs, when failed card payments are retried (ms after the first failure; past_due after the last), and the card provider. */
  billing: { taxRateBps: number; sweepMs: number; retryMs: number[]; stripe: { apiUrl: string; secretKey: string } | null };
};

/** Parses `env` into a Config, or throws one error listing every bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new Error('Invalid configuration:\n  JWT_SECRET: required in production (32+ characters)');
  }
  if (e.NODE_ENV === 'production' && !e.ENCRYPTION_KEY) {
    throw new Error('Invalid configuration:\n  ENCRYPTION_KEY: required in production (64 hex characters)');
  }
  const jwtSecret = e.JWT_SECRET ?? randomBytes(32).toString('hex');
  let outboundCa: string | null = null;
  if (e.OUTBOUND_TLS_CA_FILE) {
    try {
      outboundCa = readFileSync(e.OUTBOUND_TLS_CA_FILE, 'utf8');
    } catch (err) {
      throw new Error(`Invalid configuration:\n  OUTBOUND_TLS_CA_FILE: cannot read ${e.OUTBOUND_TLS_CA_FILE} (${(err as Error).message})`);
    }
    if (!outboundCa.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`Invalid configuration:\n  OUTBOUND_TLS_CA_FILE: ${e.OUTBOUND_TLS_CA_FILE} holds no PEM certificate`);
    }
  }
  let storage: Config['storage'] = { driver: 'local', dir: e.MEDIA_DIR };
  if (e.STORAGE_DRIVER === 's3') {
    const missing = (['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const).filter((k) => !e[k]);
    if (missing.length) {
      throw new Error(`Invalid configuration:\n${missing.map((k) => `  ${k}: required when STORAGE_DRIVER=s3`).join('\n')}`);
    }
    storage = {
      driver: 's3',
      endpoint: e.S3_ENDPOINT as string,
      accessKey: e.S3_ACCESS_KEY as string,
      secretKey: e.S3_SECRET_KEY as string,
      bucket: e.S3_BUCKET,
      region: e.S3_REGION,
    };
  }
  // POST /api/media/s3 may use S3 next to a local default driver when its settings are given.
  const s3: Config['s3'] =
    e.S3_ENDPOINT && e.S3_ACCESS_KEY && e.S3_SECRET_KEY
      ? { driver: 's3', endpoint: e.S3_ENDPOINT, accessKey: e.S3_ACCESS_KEY, secretKey: e.S3_SECRET_KEY, bucket: e.S3_BUCKET, region: e.S3_REGION }
      : null;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    // Outside production a per-process secret keeps `npm run local` zero-config; tokens then
    // do not survive a restart, which is fine for development.
    jwt: { secret: jwtSecret, ttlSeconds: e.JWT_TTL_SECONDS },
    cookie: { name: e.COOKIE_NAME, secure: e.COOKIE_SECURE ?? e.NODE_ENV === 'production' },
    logLevel: e.NODE_ENV === 'test' && !env.LOG_LEVEL ? 'silent' : e.LOG_LEVEL,
    bodyLimitKb: e.BODY_LIMIT_KB,
    webhookBodyLimitKb: e.WEBHOOK_BODY_LIMIT_KB,
    metaWebhookBodyLimitKb: e.META_WEBHOOK_BODY_LIMIT_KB,
    storage,
    s3,
    media: { maxBytes: e.MEDIA_MAX_BYTES },
    actorLeaseMs: e.ACTOR_LEASE_MS,
    actorIdleMs: e.ACTOR_IDLE_MS,
    webhooks: { concurrency: e.WEBHOOK_CONCURRENCY, retryAfterMs: e.WEBHOOK_RETRY_AFTER_MS },
    sweepLockMs: e.SWEEP_LOCK_MS ?? null,
    scheduledMessages: { sweepMs: e.SCHEDULED_MESSAGES_SWEEP_MS, claimLeaseMs: e.SCHEDULED_MESSAGES_CLAIM_LEASE_MS },
    chatExpiration: { sweepMs: e.CHAT_EXPIRATION_SWEEP_MS },
    sla: { sweepMs: e.SLA_SWEEP_MS },
    csat: { tokenTtlHours: e.CSAT_TOKEN_TTL_HOURS, linkBaseUrl: e.CSAT_LINK_BASE_URL },
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    campaigns: {
      ratePerSecond: e.CAMPAIGN_RATE_PER_SECOND,
      batchSize: e.CAMPAIGN_BATCH_SIZE,
      parallel: e.CAMPAIGN_PARALLEL,
      sweepMs: e.CAMPAIGN_SWEEP_MS,
      runStaleMs: e.CAMPAIGN_RUN_STALE_MS,
      claimStaleMs: e.CAMPAIGN_CLAIM_STALE_MS,
      sender: e.CAMPAIGN_SENDER,
    },
    outgoingWebhooks: { timeoutMs: e.OUTGOING_WEBHOOK_TIMEOUT_MS, retryMs: e.OUTGOING_WEBHOOK_RETRY_MS, sweepMs: e.OUTGOING_WEBHOOK_SWEEP_MS, retentionDays: e.OUTGOING_WEBHOOK_RETENTION_DAYS },
    realtimeReplayLimit: e.REALTIME_REPLAY_LIMIT,
    // bcrypt cost 10 takes ~70 ms per hash; tests hash hundreds of passwords.
    passwordHashRounds: e.PASSWORD_HASH_ROUNDS ?? (e.NODE_ENV === 'test' ? 4 : 10),
    meta: {
      appSecret: e.META_APP_SECRET ?? null,
      verifyToken: e.META_VERIFY_TOKEN ?? null,
      graphUrl: e.META_GRAPH_URL.replace(/\/+$/, ''),
      graphVersion: e.META_GRAPH_VERSION,
      appId: e.META_APP_ID ?? null,
      whatsappConfigId: e.META_WHATSAPP_CONFIG_ID ?? null,
      oauthRedirectUri: e.META_OAUTH_REDIRECT_URI ?? null,
      timeoutMs: e.META_GRAPH_TIMEOUT_MS,
      retries: e.META_GRAPH_RETRIES,
    },
    email: { webhookSecret: e.EMAIL_WEBHOOK_SECRET ?? null },
    encryptionKey: e.ENCRYPTION_KEY
      ? Buffer.from(e.ENCRYPTION_KEY, 'hex')
      : createHash('sha256').update(`omnistream-encryption:${jwtSecret}`).digest(),
    outbound: { allowedNetworks: e.OUTBOUND_ALLOWED_NETWORKS, ca: outboundCa },
    trustProxyHops: e.TRUST_PROXY_HOPS ?? (e.NODE_ENV === 'production' ? 1 : 0),
    metricsToken: e.METRICS_TOKEN ?? null,
    // The card provider exists only with both its URL and key; without it, bank transfer only.
    billing: {
      taxRateBps: e.BILLING_TAX_RATE_BPS,
      sweepMs: e.BILLING_SWEEP_MS,
      retryMs: e.BILLING_RETRY_MS,
      stripe: e.BILLING_STRIPE_API_URL && e.BILLING_STRIPE_SECRET_KEY ? { apiUrl: e.BILLING_STRIPE_API_URL, secretKey: e.BILLING_STRIPE_SECRET_KEY } : null,
    },
    rateLimits: {
      loginIp: e.RATE_LIMIT_LOGIN_IP,
      loginEmail: e.RATE_LIMIT_LOGIN_EMAIL,
      registerIp: e.RATE_LIMIT_REGISTER_IP,
      registerEmail: e.RATE_LIMIT_REGISTER_EMAIL,
      socketIp: e.RATE_LIMIT_SOCKET_IP,
      webhookSource: e.RATE_LIMIT_WEBHOOK_SOURCE,
      apiToken: e.RATE_LIMIT_API_TOKEN,
      webchatSessionIp: e.RATE_LIMIT_WEBCHAT_SESSION_IP,
      webchatVisitor: e.RATE_LIMIT_WEBCHAT_VISITOR,
    },
  };
}
