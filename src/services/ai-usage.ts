/**
 * AI usage reports, per agent and day in the tenant's time zone (counted by the AI-replies
 * listener, models/ai-usage.ts): one agent's days in a range with totals, and the tenant's
 * summary over a range per agent. Days without activity are listed with zeros, so a chart needs
 * no gap filling. The range defaults to the last 30 days, today included, and spans at most 366.
 */
import { DateTime } from 'luxon';
import { FieldsError } from '../errors.js';
import { aiAgents, type AiAgent } from '../models/ai-agent.js';
import { USAGE_COUNTERS, usageDaysIn, type UsageCounts } from '../models/ai-usage.js';
import { findTenant } from '../models/tenant.js';
import { liveAiAgent } from './ai-agent-children.js';
import type { Acting } from './agents.js';

/** The longest range a report covers, in days. */
export const MAX_USAGE_DAYS = 366;
const DEFAULT_DAYS = 30;

/** A report's range: tenant-zone dates, both included. */
export interface UsageRange extends Acting {
  from?: string | undefined;
  to?: string | undefined;
}

/** One day's counts. */
export interface UsageDayView extends UsageCounts {
  day: string;
}

/** One agent's days. */
export interface AgentUsage {
  agent: AiAgent;
  timezone: string;
  from: string;
  to: string;
  totals: UsageCounts;
  days: UsageDayView[];
}

/** The tenant's summary. */
export interface UsageSummary {
  timezone: string;
  from: string;
  to: string;
  totals: UsageCounts;
  agents: { agent: AiAgent | null; aiAgentId: string; totals: UsageCounts }[];
}

const zero = (): UsageCounts => ({ replies: 0, handoffs: 0, no_answers: 0, tokens_in: 0, tokens_out: 0 });

function add(into: UsageCounts, c: UsageCounts): void {
  for (const k of USAGE_COUNTERS) into[k] += c[k];
}

/** The range's dates in the tenant's zone (400 naming the query field when they do not make one). */
async function rangeOf(q: UsageRange): Promise<{ timezone: string; from: string; to: string; dates: string[] }> {
  const timezone = (await findTenant(q.tenantId))?.timezone ?? 'UTC';
  const today = DateTime.now().setZone(timezone).startOf('day');
  const to = q.to ? DateTime.fromISO(q.to, { zone: timezone }) : today;
  const from = q.from ? DateTime.fromISO(q.from, { zone: timezone }) : to.minus({ days: DEFAULT_DAYS - 1 });
  if (from > to) throw FieldsError([{ in: 'query', field: 'from', message: 'must be on or before `to`' }]);
  const span = Math.round(to.diff(from, 'days').days) + 1;
  if (span > MAX_USAGE_DAYS) throw FieldsError([{ in: 'query', field: 'from', message: `the range spans at most ${MAX_USAGE_DAYS} days` }]);
  const dates = Array.from({ length: span }, (_, i) => from.plus({ days: i }).toISODate() as string);
  return { timezone, from: dates[0] as string, to: dates[dates.length - 1] as string, dates };
}

/** One AI agent's days in the range, with totals. */
export async function agentUsage(q: UsageRange & { aiAgentId: string }): Promise<AgentUsage> {
  const agent = await liveAiAgent(q.tenantId, q.aiAgentId);
  const { timezone, from, to, dates } = await rangeOf(q);
  const stored = new Map((await usageDaysIn(q.tenantId, from, to, agent._id)).map((d) => [d.day, d]));
  const totals = zero();
  const days = dates.map((day) => {
    const d = stored.get(day);
    const counts = zero();
    if (d) add(counts, d);
    add(totals, counts);
    return { day, ...counts };
  });
  return { agent, timezone, from, to, totals, days };
}

/** The tenant's AI usage over the range, per agent (deleted agents too while they have counts), busiest first. */
export async function usageSummary(q: UsageRange): Promise<UsageSummary> {
  const { timezone, from, to } = await rangeOf(q);
  const perAgent = new Map<string, UsageCounts>();
  const totals = zero();
  for (const d of await usageDaysIn(q.tenantId, from, to)) {
    const counts = perAgent.get(d.ai_agent_id) ?? zero();
    add(counts, d);
    add(totals, d);
    perAgent.set(d.ai_agent_id, counts);
  }
  const agents = new Map((await aiAgents.findMany(q.tenantId, [...perAgent.keys()])).map((a) => [a._id, a]));
  const rows = [...perAgent.entries()].map(([aiAgentId, counts]) => ({ aiAgentId, agent: agents.get(aiAgentId) ?? null, totals: counts }));
  rows.sort((a, b) => b.totals.replies + b.totals.handoffs + b.totals.no_answers - (a.totals.replies + a.totals.handoffs + a.totals.no_answers) || a.aiAgentId.localeCompare(b.aiAgentId));
  return { timezone, from, to, totals, agents: rows };
}
