/**
 * End-to-end delivery measurement: requests offered at a fixed rate, each expecting one event on
 * every watching socket. An item counts as delivered when it has reached every watcher; its
 * latency runs from the start of its request to the last of those arrivals. "Sustained" is the
 * delivered count divided by the time from the first request to the last arrival.
 */
import { readFileSync } from 'node:fs';
import { waitIdle, type BenchProcess } from './child.js';
import { decoded, type FrameHandler } from './sockets.js';
import { ms, offer, pct, perSecond, waitUntil } from './stats.js';
import type { Answer } from './api.js';

/** Names the item an event stands for (null: not one we track). */
export type KeyOf = (event: string, payload: unknown) => string | null;

/** Arrivals of tracked items on a set of watching sockets. */
export class Arrivals {
  private readonly sentAt = new Map<string, number>();
  private readonly seen: Map<string, number>[];
  private readonly deliveredAt = new Map<string, number>();
  private doubles = 0;

  constructor(
    watchers: number,
    private readonly keyOf: KeyOf,
  ) {
    this.seen = Array.from({ length: watchers }, () => new Map());
  }

  /** The frame handler of watcher `w`. */
  handler(w: number): FrameHandler {
    return decoded((event, payload) => {
      const key = this.keyOf(event, payload);
      if (key === null || !this.sentAt.has(key)) return;
      const seen = this.seen[w] as Map<string, number>;
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      if (count > 1) this.doubles++;
      else if (this.seen.every((m) => m.has(key))) this.deliveredAt.set(key, performance.now());
    });
  }

  /** Starts tracking `key`, sent now. */
  expect(key: string): void {
    this.sentAt.set(key, performance.now());
  }

  /** Whether every one of `keys` was delivered. */
  allDelivered(keys: string[]): boolean {
    return keys.every((k) => this.deliveredAt.has(k));
  }

  /** Delivery facts of `keys` so far. */
  summarize(keys: string[]) {
    const latencies: number[] = [];
    let first = Infinity;
    let last = -Infinity;
    for (const k of keys) {
      const sent = this.sentAt.get(k) as number;
      first = Math.min(first, sent);
      const at = this.deliveredAt.get(k);
      if (at === undefined) continue;
      latencies.push(at - sent);
      last = Math.max(last, at);
    }
    const seconds = (last - first) / 1000;
    return { delivered: latencies.length, latencies, sustained: latencies.length && seconds > 0 ? latencies.length / seconds : 0, doubled: this.doubles };
  }
}

/** One request of a step: the item it should deliver and how to send it. */
export interface Offered {
  key: string;
  send(): Promise<Answer>;
}

/** What one offered rate gave. */
export interface StepResult {
  rate: number;
  sent: number;
  delivered: number;
  doubled: number;
  /** Requests answered with anything but 2xx, or not answered. */
  failed: number;
  sustained: number;
  answers: number[];
  latencies: number[];
  /** CPU the server processes used during the step, in cores (1 = one core busy). */
  serverCores?: number;
  /** CPU this process (the load generator and its sockets) used meanwhile, in cores. */
  generatorCores?: number;
  /** CPU the database and Redis processes used meanwhile, in cores (when the run started them). */
  databaseCores?: number;
  redisCores?: number;
}

/** Offers `make(n)` at `rate` for `seconds`, then waits up to `drainMs` for the last deliveries. */
export async function runStep(arrivals: Arrivals, rate: number, seconds: number, drainMs: number, make: (n: number) => Offered): Promise<StepResult> {
  const keys: string[] = [];
  const answers: number[] = [];
  let failed = 0;
  const doubledBefore = arrivals.summarize([]).doubled;
  await offer(rate, seconds, async (n) => {
    const item = make(n);
    keys.push(item.key);
    arrivals.expect(item.key);
    try {
      const answer = await item.send();
      answers.push(answer.ms);
      if (answer.status >= 300) failed++;
    } catch {
      failed++;
    }
  });
  await waitUntil(() => arrivals.allDelivered(keys), drainMs);
  const s = arrivals.summarize(keys);
  return { rate, sent: keys.length, delivered: s.delivered, doubled: s.doubled - doubledBefore, failed, sustained: s.sustained, answers, latencies: s.latencies };
}

/** A step in one line: counts, sustained rate, answer and delivery percentiles. */
export function describeStep(r: StepResult, unit: string): string {
  return (
    `  offered ${String(r.rate).padStart(4)}/s: ${r.delivered}/${r.sent} delivered, ${r.doubled} doubled, ${r.failed} failed requests; ` +
    `sustained ${perSecond(r.sustained, unit)}; answer p50 ${ms(pct(r.answers, 0.5))} p99 ${ms(pct(r.answers, 0.99))}; ` +
    `delivery p50 ${ms(pct(r.latencies, 0.5))} p99 ${ms(pct(r.latencies, 0.99))}` +
    (r.serverCores === undefined ? '' : `; CPU: server ${r.serverCores.toFixed(2)}, generator ${(r.generatorCores ?? NaN).toFixed(2)}`) +
    (r.databaseCores === undefined ? '' : `, database ${r.databaseCores.toFixed(2)}, redis ${(r.redisCores ?? NaN).toFixed(2)}`) +
    (r.serverCores === undefined ? '' : ' cores')
  );
}

/** Runs a step once `servers` are idle, and notes how much CPU they used meanwhile. */
export async function withServerCpu(servers: BenchProcess[], run: () => Promise<StepResult>): Promise<StepResult> {
  await waitIdle(servers);
  const cpu = async () => (await Promise.all(servers.map((p) => p.cpuMs()))).reduce((a, b) => a + b, 0);
  const before = await cpu();
  const services = [process.env.OMNISTREAM_DATABASE_PID, process.env.OMNISTREAM_REDIS_PID];
  const servicesBefore = services.map(processCpuMs);
  const generator = process.cpuUsage();
  const started = performance.now();
  const r = await run();
  const { user, system } = process.cpuUsage(generator);
  const elapsed = performance.now() - started;
  const [database, redis] = services.map((pid, i) => {
    const [was, now] = [servicesBefore[i], processCpuMs(pid)];
    return was === undefined || now === undefined ? undefined : (now - was) / elapsed;
  });
  return { ...r, serverCores: ((await cpu()) - before) / elapsed, generatorCores: (user + system) / 1000 / elapsed, databaseCores: database, redisCores: redis };
}

// Linux's clock ticks per second for /proc/<pid>/stat, which is 100 on every mainstream kernel config.
const CLOCK_TICKS = 100;

/** CPU milliseconds another process has used (user + system), from /proc; undefined without one. */
function processCpuMs(pid: string | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    // Fields after the parenthesized command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Whether every request of the step was delivered exactly once and answered well. */
export const clean = (r: StepResult) => r.delivered === r.sent && r.doubled === 0 && r.failed === 0;

/**
 * Offers increasing rates until one is not fully delivered, or the server is saturated
 * (sustained under 3/4 of the offered rate: a higher rate would only grow the backlog).
 * Answers every step, and the best sustained rate among the clean ones.
 */
export async function ladder(rates: number[], run: (rate: number) => Promise<StepResult>, print: (r: StepResult) => void) {
  const steps: StepResult[] = [];
  for (const rate of rates) {
    const r = await run(rate);
    steps.push(r);
    print(r);
    if (!clean(r) || r.sustained < 0.75 * rate) break;
  }
  const cleanSteps = steps.filter(clean);
  const best = cleanSteps.reduce<StepResult | undefined>((b, r) => (!b || r.sustained > b.sustained ? r : b), undefined);
  return { steps, best };
}

/** "480 msg/s (offered 500/s, 2500/2500)", or the best partial step when none was clean. */
export function ladderText(r: { steps: StepResult[]; best: StepResult | undefined }, unit: string): string {
  if (r.best) return `${perSecond(r.best.sustained, unit)} (offered ${r.best.rate}/s, ${r.best.delivered}/${r.best.sent})`;
  const top = r.steps.reduce<StepResult | undefined>((b, s) => (!b || s.sustained > b.sustained ? s : b), undefined);
  return top ? `no clean step; best ${perSecond(top.sustained, unit)} with ${top.delivered}/${top.sent} delivered, ${top.doubled} doubled` : '—';
}

/** Key of message.created: the provider message id. */
export const createdKey: KeyOf = (event, payload) => (event === 'message.created' ? externalIdOf(payload) : null);

/** Key of message.updated: provider id and new status. */
export const updatedKey: KeyOf = (event, payload) => {
  if (event !== 'message.updated') return null;
  const data = (payload as { data?: { external_id?: unknown; status?: unknown } }).data;
  return typeof data?.external_id === 'string' ? `${data.external_id}:${String(data.status)}` : null;
};

function externalIdOf(payload: unknown): string | null {
  const id = (payload as { data?: { external_id?: unknown } }).data?.external_id;
  return typeof id === 'string' ? id : null;
}
