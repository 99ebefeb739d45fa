/** The BENCH_* variables that tune a run (README, "Benchmark"), parsed once. */

/** A run's knobs. */
export interface Settings {
  /** Offered rates of the sustained-throughput ladders, msg/s. */
  rates: number[];
  /** How long each offered rate lasts. */
  seconds: number;
  /** How long to wait after the last request of a step for its last deliveries. */
  drainSeconds: number;
  /** Agent sockets connected for the latency and heap measures. */
  agents: number;
  /** Offered rate of the latency measure. */
  latencyRate: number;
  /** Sockets of the reconnect storm. */
  storm: number;
  /** Webhooks sent while the storm's sockets are away. */
  stormEvents: number;
  /** Returning customers of the "existing conversations" ladder. */
  customers: number;
  /** Conversations in the tenant when the conversation list is timed. */
  conversations: number;
  /** Sequential requests per side of the conversation-list measure. */
  listRequests: number;
  /** Due-job counts of the Agenda measure. */
  agendaJobs: number[];
  /** Give-up time of one Agenda or raw-pop drain. */
  agendaTimeoutSeconds: number;
  /** Duration of the raw-insert baseline. */
  insertSeconds: number;
  /** Sections to run (all when empty). */
  only: Set<string>;
  /** Keep the run's database instead of dropping it at the end. */
  keepDatabase: boolean;
}

/** Every section name, in run order. */
export const SECTIONS = ['latency', 'new', 'existing', 'statuses', 'list', 'storm', 'two-process', 'agenda', 'scheduled', 'campaigns', 'sla', 'outgoing-webhooks', 'webchat', 'analytics', 'automation', 'ai'] as const;

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
}

function list(env: NodeJS.ProcessEnv, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`${name} must be positive numbers separated by commas, got ${raw}`);
  return values;
}

/** Reads the BENCH_* variables; throws naming a bad one. */
export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const only = new Set((env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const unknown = [...only].filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown sections ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
  return {
    rates: list(env, 'BENCH_RATES', [50, 100, 200, 400, 800]),
    seconds: positive(env, 'BENCH_SECONDS', 5),
    drainSeconds: positive(env, 'BENCH_DRAIN_SECONDS', 10),
    agents: Math.round(positive(env, 'BENCH_AGENTS', 500)),
    latencyRate: positive(env, 'BENCH_LATENCY_RATE', 80),
    storm: Math.round(positive(env, 'BENCH_STORM', 2000)),
    stormEvents: Math.round(positive(env, 'BENCH_STORM_EVENTS', 20)),
    customers: Math.round(positive(env, 'BENCH_CUSTOMERS', 50)),
    conversations: Math.round(positive(env, 'BENCH_CONVERSATIONS', 10_000)),
    listRequests: Math.round(positive(env, 'BENCH_LIST_REQUESTS', 200)),
    agendaJobs: list(env, 'BENCH_AGENDA_JOBS', [200, 2000]).map(Math.round),
    agendaTimeoutSeconds: positive(env, 'BENCH_AGENDA_TIMEOUT_SECONDS', 60),
    insertSeconds: positive(env, 'BENCH_INSERT_SECONDS', 3),
    only,
    keepDatabase: env.BENCH_KEEP_DB === '1',
  };
}

/** Whether a section runs. */
export const runs = (s: Settings, section: (typeof SECTIONS)[number]) => s.only.size === 0 || s.only.has(section);
