/**
 * Automation inspection and operations over real HTTP: stats and series in Asia/Jakarta, alert
 * stats, the run log and replay context, the event queue (lists, fingerprint, conversation and
 * rule views, stats, streamed CSV exports), retry / retry-failed / cleanup / reprocess, and
 * worker metrics. Runs and queue items are fixtures inserted here; every expected figure is
 * computed in this file from those fixtures with fixed +07:00 arithmetic (no luxon, no server
 * code), and every endpoint gets its 400, 401, 403 and cross-tenant 404.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { automationEventId, AutomationEventModel, type AutomationEvent, type AutomationEventState } from '../../src/models/automation-event.js';
import { conversations } from '../../src/models/conversation.js';
import { readEventsAfter } from '../../src/models/event.js';
import { EVENTS } from '../../src/events/types.js';
import { payloadFingerprint } from '../../src/events/listeners/automation.js';
import { AutomationRuleModel, type AutomationRule } from '../../src/models/automation-rule.js';
import { AutomationRunModel, type AutomationRun, type RunActionStatus } from '../../src/models/automation-run.js';
import { insertDocs } from '../../src/models/driver.js';
import { runFilter } from '../../src/services/automation-runs.js';
import { eventFilter } from '../../src/services/automation-events.js';
import { baseUrl } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { buildAutomationRule } from '../support/automation.js';
import { indexesUsed } from '../support/query-plans.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until } from '../support/whatsapp.js';

const HOUR = 3_600_000;
const WIB = 7 * HOUR;
/** The Jakarta calendar day and hour of an instant, by fixed +07:00 arithmetic. */
const wibDay = (t: Date) => new Date(t.getTime() + WIB).toISOString().slice(0, 10);
const wibHour = (t: Date) => new Date(t.getTime() + WIB).toISOString().slice(0, 13);

const NIGHT_NAME = 'Balas "malam", shift\nmalam — Selamat datang di Toko Budi 🌙';

/** A rule at version 3 (so a replay can tell an edit), as the tests below use it. */
const buildRule = (tenantId: string, over: Partial<AutomationRule> = {}) => buildAutomationRule(tenantId, { version: 3, ...over });

function buildEvent(tenantId: string, over: Partial<AutomationEvent> = {}): AutomationEvent {
  const at = over.created_at ?? new Date();
  return {
    _id: randomUUID(),
    tenant_id: tenantId,
    conversation_id: null,
    event_seq: Math.floor(Math.random() * 1e9),
    domain_event_id: randomUUID(),
    event_type: 'message.created',
    payload: { text: 'Halo, saya butuh bantuan, "segera"' },
    fingerprint: randomUUID().replace(/-/g, '').padEnd(64, 'a'),
    duplicate_of: null,
    state: 'done',
    attempts: 1,
    last_error: null,
    skip_reason: null,
    next_attempt_at: null,
    causation: { rule_ids: [], depth: 0 },
    claimed_by: 'proc-a',
    evaluated_rule_ids: [],
    reprocess_count: 0,
    processed_at: at,
    created_at: at,
    updated_at: at,
    ...over,
  };
}

interface RunSpec {
  rule: AutomationRule;
  at: Date;
  matched?: boolean;
  actions?: RunActionStatus[];
  error?: string | null;
  dryRun?: boolean;
  duration?: number;
  event?: AutomationEvent;
  conversationId?: string | null;
}

function buildRun(tenantId: string, spec: RunSpec): AutomationRun {
  return {
    _id: randomUUID(),
    tenant_id: tenantId,
    rule_id: spec.rule._id,
    rule_version: spec.rule.version,
    rule_snapshot: { name: spec.rule.name, trigger: spec.rule.trigger, conditions: spec.rule.conditions, actions: spec.rule.actions },
    event_id: spec.event?._id ?? randomUUID(),
    event_type: spec.event?.event_type ?? 'message.created',
    conversation_id: spec.conversationId ?? spec.event?.conversation_id ?? null,
    matched: spec.matched ?? true,
    dry_run: spec.dryRun ?? false,
    conditions: [{ group: 'all', field: 'conversation.channel', op: 'equals', expected: 'whatsapp', actual: 'whatsapp', result: spec.matched ?? true }],
    actions: (spec.actions ?? []).map((status, i) => ({ type: i % 2 ? 'send_message' : 'add_tags', params: { n: i }, status, error: status === 'failed' ? 'Gagal mengirim: "timeout", coba lagi' : null, result: null })),
    error: spec.error ?? null,
    duration_ms: spec.duration ?? 10,
    started_at: spec.at,
    finished_at: new Date(spec.at.getTime() + (spec.duration ?? 10)),
    created_at: spec.at,
    updated_at: spec.at,
  };
}

/** The figures of a set of runs, computed from the fixtures. */
function figuresOf(runs: AutomationRun[]) {
  const failed = runs.filter((r) => r.error !== null || r.actions.some((a) => a.status === 'failed')).length;
  const matched = runs.filter((r) => r.matched).length;
  return {
    runs: runs.length,
    matched,
    failed,
    actions: runs.reduce((n, r) => n + r.actions.filter((a) => a.status === 'ok').length, 0),
    action_failures: runs.reduce((n, r) => n + r.actions.filter((a) => a.status === 'failed').length, 0),
    dry_runs: runs.filter((r) => r.dry_run).length,
    match_rate: runs.length ? Math.round((matched / runs.length) * 1e4) / 1e4 : null,
    failure_rate: runs.length ? Math.round((failed / runs.length) * 1e4) / 1e4 : null,
  };
}

const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
const FIGURE_KEYS = ['runs', 'matched', 'failed', 'actions', 'action_failures', 'dry_runs', 'match_rate', 'failure_rate'];

/** GET a CSV export as text with its headers. */
async function getCsv(s: TestSession, path: string) {
  const res = await fetch(`${baseUrl()}${path}`, { headers: { authorization: `Bearer ${s.token}` } });
  // Decoded keeping a byte-order mark (Response.text() drops it).
  return { status: res.status, headers: res.headers, text: new TextDecoder('utf-8', { ignoreBOM: true, fatal: true }).decode(await res.arrayBuffer()) };
}

describe('Automation inspection and operations', function () {
  this.timeout(60_000);
  let s: TestSession;
  let other: TestSession;
  let otherRule: AutomationRule;
  let otherRun: AutomationRun;
  let otherEvent: AutomationEvent;
  let r1: AutomationRule;
  let r2: AutomationRule;
  let r3Deleted: AutomationRule;
  let r4: AutomationRule;
  let r5Inactive: AutomationRule;
  let r6Snoozed: AutomationRule;
  let night: AutomationRule;
  let history: AutomationRun[];
  let recent: AutomationRun[];
  let events: AutomationEvent[];
  let recentEvents: AutomationEvent[];
  const conversationA = randomUUID();
  const sharedFingerprint = 'ab'.repeat(32);
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);

  before(async () => {
    s = await createSession({ timezone: 'Asia/Jakarta' });
    other = await createSession({ timezone: 'UTC' });
    r1 = buildRule(s.tenantId, { name: 'VIP', alerts: { failure_rate_percent: 50, no_runs_hours: 1 }, created_at: ago(48 * HOUR) });
    r2 = buildRule(s.tenantId, { name: 'Quiet', alerts: { failure_rate_percent: null, no_runs_hours: 2 }, created_at: ago(10 * HOUR) });
    r3Deleted = buildRule(s.tenantId, { name: 'Gone', deleted_at: ago(HOUR), alerts: { failure_rate_percent: 1, no_runs_hours: 1 } });
    r4 = buildRule(s.tenantId, { name: 'Healthy', alerts: { failure_rate_percent: 10, no_runs_hours: null } });
    r5Inactive = buildRule(s.tenantId, { name: 'Off', active: false, alerts: { failure_rate_percent: null, no_runs_hours: 1 }, created_at: ago(30 * HOUR) });
    r6Snoozed = buildRule(s.tenantId, { name: 'Snoozed', snoozed_until: new Date(now.getTime() + HOUR), alerts: { failure_rate_percent: null, no_runs_hours: 1 }, created_at: ago(30 * HOUR) });
    night = buildRule(s.tenantId, { name: NIGHT_NAME, version: 7 });
    otherRule = buildRule(other.tenantId, { name: 'Other tenant' });
    await insertDocs(AutomationRuleModel, [r1, r2, r3Deleted, r4, r5Inactive, r6Snoozed, night, otherRule]);

    const at = (iso: string) => new Date(iso);
    events = [
      buildEvent(s.tenantId, { created_at: at('2026-03-09T16:30:00Z'), event_type: 'message.created', state: 'done', conversation_id: conversationA, event_seq: 1 }),
      buildEvent(s.tenantId, { created_at: at('2026-03-09T17:00:00Z'), event_type: 'message.created', state: 'failed', last_error: 'webhook 500', conversation_id: conversationA, event_seq: 2, fingerprint: sharedFingerprint }),
      buildEvent(s.tenantId, { created_at: at('2026-03-10T10:00:00Z'), event_type: 'conversation.created', state: 'skipped', skip_reason: 'duplicate', fingerprint: sharedFingerprint, event_seq: 3 }),
      buildEvent(s.tenantId, { created_at: at('2026-03-11T03:00:00Z'), event_type: 'sla.breached', state: 'done', payload: { note: 'Pelanggan menunggu, "lama"\nsekali' }, event_seq: 4, evaluated_rule_ids: [r1._id] }),
      buildEvent(s.tenantId, { created_at: at('2026-03-12T16:59:59Z'), event_type: 'message.created', state: 'failed', last_error: '=cmd|calc', conversation_id: conversationA, event_seq: 5, evaluated_rule_ids: [r1._id, r2._id] }),
      buildEvent(s.tenantId, { created_at: at('2026-03-12T17:00:00Z'), event_type: 'message.created', state: 'done', event_seq: 6 }),
    ];
    events[2]!.duplicate_of = events[1]!._id;
    recentEvents = [
      // Pending but not due for an hour: the worker leaves them, the lag counts them.
      buildEvent(s.tenantId, { created_at: ago(10 * 60_000), state: 'pending', processed_at: null, claimed_by: null, next_attempt_at: new Date(now.getTime() + HOUR), event_seq: 100 }),
      buildEvent(s.tenantId, { created_at: ago(2 * 60_000), state: 'pending', processed_at: null, claimed_by: null, next_attempt_at: new Date(now.getTime() + HOUR), event_seq: 101 }),
      // Claimed a minute ago but touched now, so the sweep does not take it for a dead process's (STALE_PROCESSING_MS).
      buildEvent(s.tenantId, { created_at: ago(60_000), updated_at: now, state: 'processing', processed_at: null, claimed_by: 'proc-a', event_seq: 102 }),
      buildEvent(s.tenantId, { created_at: ago(6 * 60_000), processed_at: ago(5 * 60_000), state: 'done', claimed_by: 'proc-a', event_seq: 103 }),
      buildEvent(s.tenantId, { created_at: ago(4 * 60_000), processed_at: ago(3 * 60_000), state: 'done', claimed_by: 'proc-a', event_seq: 104 }),
      buildEvent(s.tenantId, { created_at: ago(3 * 60_000), processed_at: ago(2 * 60_000), state: 'done', claimed_by: 'proc-b', event_seq: 105 }),
      buildEvent(s.tenantId, { created_at: ago(4 * 60_000), processed_at: ago(60_000), state: 'failed', claimed_by: 'proc-b', last_error: 'boom', event_seq: 106 }),
      buildEvent(s.tenantId, { created_at: ago(3 * HOUR), processed_at: ago(2 * HOUR), state: 'done', claimed_by: 'proc-b', event_seq: 107 }),
    ];
    otherEvent = buildEvent(other.tenantId, { conversation_id: conversationA, fingerprint: sharedFingerprint, state: 'failed' });
    await insertDocs(AutomationEventModel, [...events, ...recentEvents, otherEvent]);

    history = [
      buildRun(s.tenantId, { rule: r1, at: at('2026-03-09T16:30:00Z'), actions: ['ok'], event: events[0] }),
      buildRun(s.tenantId, { rule: r1, at: at('2026-03-09T17:00:00Z'), actions: ['ok', 'failed'], event: events[1], duration: 40 }),
      buildRun(s.tenantId, { rule: r2, at: at('2026-03-10T10:00:00Z'), matched: false, event: events[2], duration: 4 }),
      buildRun(s.tenantId, { rule: r1, at: at('2026-03-10T16:59:00Z'), actions: ['dry_run', 'dry_run'], dryRun: true, event: events[3] }),
      buildRun(s.tenantId, { rule: r2, at: at('2026-03-10T17:30:00Z'), actions: ['ok', 'ok', 'ok'], event: events[3], duration: 25 }),
      buildRun(s.tenantId, { rule: night, at: at('2026-03-11T03:00:00Z'), actions: ['failed'], error: '=HYPERLINK("http://x")', event: events[4] }),
      buildRun(s.tenantId, { rule: r3Deleted, at: at('2026-03-11T20:00:00Z'), actions: ['skipped'], event: events[4] }),
      buildRun(s.tenantId, { rule: r1, at: at('2026-03-12T16:59:59Z'), actions: ['ok'], event: events[4], conversationId: conversationA }),
      buildRun(s.tenantId, { rule: r1, at: at('2026-03-12T17:00:00Z'), actions: ['ok'], event: events[5] }),
    ];
    recent = [
      buildRun(s.tenantId, { rule: r1, at: ago(10 * 60_000), actions: ['ok'] }),
      buildRun(s.tenantId, { rule: r1, at: ago(2 * HOUR), actions: ['failed'] }),
      buildRun(s.tenantId, { rule: r1, at: ago(5 * HOUR), error: 'crashed' }),
      buildRun(s.tenantId, { rule: r1, at: ago(20 * HOUR), matched: false }),
      buildRun(s.tenantId, { rule: r1, at: ago(30 * HOUR), actions: ['failed'] }),
      buildRun(s.tenantId, { rule: r2, at: ago(3 * HOUR), actions: ['ok'] }),
      buildRun(s.tenantId, { rule: r4, at: ago(HOUR), actions: ['ok'] }),
      buildRun(s.tenantId, { rule: r4, at: ago(4 * HOUR), matched: false }),
    ];
    otherRun = buildRun(other.tenantId, { rule: otherRule, at: at('2026-03-11T03:00:00Z'), actions: ['failed'], event: otherEvent });
    await insertDocs(AutomationRunModel, [...history, ...recent, otherRun]);
  });

  const inMarch = (t: Date) => wibDay(t) >= '2026-03-10' && wibDay(t) <= '2026-03-12';
  const MARCH = 'from=2026-03-10&to=2026-03-12';

  describe('GET /api/automation/stats', () => {
    itChecksAccess('GET', () => '/api/automation/stats', 'automation.view', () => s);
    it('totals and per-rule figures over whole Jakarta days', async () => {
      const res = await s.call('GET', `/api/automation/stats?${MARCH}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const runs = history.filter((r) => inMarch(r.started_at));
      expect(res.body.range).to.include({ timezone: 'Asia/Jakarta', from: '2026-03-10', to: '2026-03-12' });
      expect(pick(res.body, FIGURE_KEYS)).to.deep.equal(figuresOf(runs));
      const ruleIds = [...new Set(runs.map((r) => r.rule_id))];
      expect(res.body.by_rule).to.have.length(ruleIds.length);
      for (const id of ruleIds) {
        const row = res.body.by_rule.find((b: { rule_id: string }) => b.rule_id === id);
        expect(pick(row, FIGURE_KEYS), id).to.deep.equal(figuresOf(runs.filter((r) => r.rule_id === id)));
      }
      expect(res.body.by_rule.find((b: { rule_id: string }) => b.rule_id === r3Deleted._id)).to.include({ deleted: true, name: 'Gone' });
      const durations = runs.map((r) => r.duration_ms);
      expect(res.body.max_duration_ms).to.equal(Math.max(...durations));
      expect(res.body.average_duration_ms).to.equal(Math.round((durations.reduce((a, b) => a + b, 0) / durations.length) * 10) / 10);
    });
    it('answers 400 for a reversed range and a range too long', async () => {
      const reversed = await s.call('GET', '/api/automation/stats?from=2026-03-12&to=2026-03-10');
      expect(reversed.status).to.equal(400);
      expect(JSON.stringify(reversed.body.details)).to.include('to');
      expect((await s.call('GET', '/api/automation/stats?from=2025-01-01&to=2026-03-10')).status).to.equal(400);
      expect((await s.call('GET', '/api/automation/stats?from=yesterday')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/stats/timeseries', () => {
    itChecksAccess('GET', () => '/api/automation/stats/timeseries', 'automation.view', () => s);
    it('one bucket per Jakarta day, empty days included', async () => {
      const res = await s.call('GET', `/api/automation/stats/timeseries?${MARCH}&bucket=day`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.series.map((b: { start: string }) => b.start)).to.deep.equal(['2026-03-09T17:00:00.000Z', '2026-03-10T17:00:00.000Z', '2026-03-11T17:00:00.000Z']);
      for (const b of res.body.series) {
        const day = wibDay(new Date(b.start));
        expect(pick(b, FIGURE_KEYS), day).to.deep.equal(figuresOf(history.filter((r) => wibDay(r.started_at) === day)));
      }
    });
    it('24 hourly buckets for one day, each with its runs', async () => {
      const res = await s.call('GET', '/api/automation/stats/timeseries?from=2026-03-10&to=2026-03-10&bucket=hour');
      expect(res.status).to.equal(200);
      expect(res.body.series).to.have.length(24);
      for (const b of res.body.series) {
        const hour = wibHour(new Date(b.start));
        expect(pick(b, FIGURE_KEYS), hour).to.deep.equal(figuresOf(history.filter((r) => wibHour(r.started_at) === hour)));
      }
      expect(res.body.series.reduce((n: number, b: { runs: number }) => n + b.runs, 0)).to.equal(history.filter((r) => wibDay(r.started_at) === '2026-03-10').length);
    });
    it('answers 400 for an unknown bucket and an hourly range over 31 days', async () => {
      expect((await s.call('GET', '/api/automation/stats/timeseries?bucket=week')).status).to.equal(400);
      const long = await s.call('GET', '/api/automation/stats/timeseries?from=2026-01-01&to=2026-03-01&bucket=hour');
      expect(long.status).to.equal(400);
      expect(long.body.details[0].message).to.include('31 days');
    });
  });

  describe('GET /api/automation/stats/alerts', () => {
    itChecksAccess('GET', () => '/api/automation/stats/alerts', 'automation.view', () => s);
    it('each live rule with a threshold against its window and last run', async () => {
      const res = await s.call('GET', '/api/automation/stats/alerts?window_hours=24');
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const rows = new Map<string, any>(res.body.rules.map((r: { rule_id: string }) => [r.rule_id, r]));
      expect([...rows.keys()].sort()).to.deep.equal([r1._id, r2._id, r4._id, r5Inactive._id, r6Snoozed._id].sort());
      for (const rule of [r1, r2, r4]) {
        const window = recent.filter((r) => r.rule_id === rule._id && r.started_at.getTime() >= now.getTime() - 24 * HOUR);
        const f = figuresOf(window);
        const row = rows.get(rule._id);
        expect(row.window, rule.name).to.deep.equal({ runs: f.runs, failed: f.failed, failure_rate_percent: f.runs ? Math.round((f.failed / f.runs) * 1e4) / 100 : null });
        const last = recent.filter((r) => r.rule_id === rule._id).map((r) => r.started_at.getTime());
        expect(row.last_run_at).to.equal(new Date(Math.max(...last)).toISOString());
      }
      // r1: 4 runs in the last 24 h, 2 failed = 50% >= 50%; last run 10 minutes ago < 1 h.
      expect(rows.get(r1._id)).to.include({ failure_rate_breached: true, no_runs_breached: false, breached: true });
      // r2: last run 3 h ago, threshold 2 h.
      expect(rows.get(r2._id)).to.include({ failure_rate_breached: false, no_runs_breached: true });
      expect(rows.get(r4._id)).to.include({ breached: false });
      // Inactive: not expected to run, so its silence is no alert.
      expect(rows.get(r5Inactive._id)).to.include({ breached: false, last_run_at: null });
      expect(rows.get(r6Snoozed._id)).to.include({ breached: false, last_run_at: null });
      expect(res.body.breached).to.equal(2);
    });
    it('a shorter window sees fewer runs', async () => {
      const res = await s.call('GET', '/api/automation/stats/alerts?window_hours=1');
      const row = res.body.rules.find((r: { rule_id: string }) => r.rule_id === r1._id);
      expect(row.window).to.deep.equal({ runs: 1, failed: 0, failure_rate_percent: 0 });
    });
    it('answers 400 for a window out of range', async () => {
      expect((await s.call('GET', '/api/automation/stats/alerts?window_hours=0')).status).to.equal(400);
      expect((await s.call('GET', '/api/automation/stats/alerts?window_hours=abc')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/rules/{id}/stats', () => {
    itChecksAccess('GET', () => `/api/automation/rules/${r1._id}/stats`, 'automation.view', () => s);
    it('one rule’s figures and its last run', async () => {
      const res = await s.call('GET', `/api/automation/rules/${r1._id}/stats?${MARCH}`);
      expect(res.status).to.equal(200);
      expect(pick(res.body, FIGURE_KEYS)).to.deep.equal(figuresOf(history.filter((r) => r.rule_id === r1._id && inMarch(r.started_at))));
      expect(res.body).to.include({ rule_id: r1._id, name: 'VIP', version: 3, last_run_at: recent[0]!.started_at.toISOString() });
    });
    it('answers 404 for another tenant’s rule and a deleted one, 400 for a bad id', async () => {
      expect((await s.call('GET', `/api/automation/rules/${otherRule._id}/stats`)).status).to.equal(404);
      expect((await s.call('GET', `/api/automation/rules/${r3Deleted._id}/stats`)).status).to.equal(404);
      expect((await s.call('GET', '/api/automation/rules/not-a-uuid/stats')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/rules/{id}/stats/timeseries', () => {
    itChecksAccess('GET', () => `/api/automation/rules/${r1._id}/stats/timeseries`, 'automation.view', () => s);
    it('the rule’s runs per Jakarta day', async () => {
      const res = await s.call('GET', `/api/automation/rules/${r2._id}/stats/timeseries?${MARCH}`);
      expect(res.status).to.equal(200);
      expect(res.body.rule_id).to.equal(r2._id);
      for (const b of res.body.series) {
        const day = wibDay(new Date(b.start));
        expect(pick(b, FIGURE_KEYS), day).to.deep.equal(figuresOf(history.filter((r) => r.rule_id === r2._id && wibDay(r.started_at) === day)));
      }
    });
    it('answers 404 for another tenant’s rule and 400 for a bad query', async () => {
      expect((await s.call('GET', `/api/automation/rules/${otherRule._id}/stats/timeseries`)).status).to.equal(404);
      expect((await s.call('GET', `/api/automation/rules/${r1._id}/stats/timeseries?bucket=minute`)).status).to.equal(400);
    });
  });

  describe('GET /api/automation/runs', () => {
    itChecksAccess('GET', () => '/api/automation/runs', 'automation.view', () => s);
    const all = () => [...history, ...recent].sort((a, b) => b.started_at.getTime() - a.started_at.getTime() || b._id.localeCompare(a._id));
    it('newest first, paginated', async () => {
      const res = await s.call('GET', '/api/automation/runs?limit=5&page=2');
      expect(res.status).to.equal(200);
      expect(res.body.pagination).to.deep.equal({ page: 2, limit: 5, total: all().length, total_pages: Math.ceil(all().length / 5) });
      expect(res.body.data.map((r: { id: string }) => r.id)).to.deep.equal(all().slice(5, 10).map((r) => r._id));
    });
    it('filters by rule, outcome, dry run, conversation and time', async () => {
      const cases: [string, (r: AutomationRun) => boolean][] = [
        [`rule_id=${r1._id}`, (r) => r.rule_id === r1._id],
        ['matched=false', (r) => !r.matched],
        ['event_type=sla.breached', (r) => r.event_type === 'sla.breached'],
        ['failed=true', (r) => r.error !== null || r.actions.some((a) => a.status === 'failed')],
        ['failed=false', (r) => r.error === null && !r.actions.some((a) => a.status === 'failed')],
        ['dry_run=true', (r) => r.dry_run],
        [`conversation_id=${conversationA}`, (r) => r.conversation_id === conversationA],
        ['from=2026-03-10T00:00:00Z&to=2026-03-11T03:00:00Z', (r) => r.started_at >= new Date('2026-03-10T00:00:00Z') && r.started_at < new Date('2026-03-11T03:00:00Z')],
        [`rule_id=${r1._id}&failed=true&from=2026-03-01T00:00:00%2B07:00`, (r) => r.rule_id === r1._id && (r.error !== null || r.actions.some((a) => a.status === 'failed')) && r.started_at >= new Date('2026-02-28T17:00:00Z')],
      ];
      for (const [query, keep] of cases) {
        const res = await s.call('GET', `/api/automation/runs?limit=100&${query}`);
        expect(res.status, query).to.equal(200);
        expect(res.body.data.map((r: { id: string }) => r.id), query).to.deep.equal(all().filter(keep).map((r) => r._id));
      }
    });
    it('runs on an index of automation_runs', async () => {
      for (const f of [{}, { ruleId: r1._id, failed: true }, { conversationId: conversationA }, { from: new Date('2026-03-10') }]) {
        expect(await indexesUsed(AutomationRunModel as never, runFilter(s.tenantId, f), { started_at: -1, _id: -1 })).to.not.be.empty;
      }
    });
    it('answers 400 naming the bad parameter', async () => {
      for (const q of ['limit=0', 'matched=yes', 'from=2026-13-01', 'from=2026-03-10T00:00:00Z&to=2026-03-09T00:00:00Z', 'rule_id=x', 'colour=red']) {
        const res = await s.call('GET', `/api/automation/runs?${q}`);
        expect(res.status, q).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
      }
    });
    it('never shows another tenant’s runs', async () => {
      const res = await other.call('GET', '/api/automation/runs');
      expect(res.body.data.map((r: { id: string }) => r.id)).to.deep.equal([otherRun._id]);
    });
  });

  describe('GET /api/automation/runs/export', () => {
    itChecksAccess('GET', () => '/api/automation/runs/export', 'automation.view', () => s);
    it('streams RFC 4180 CSV in UTF-8 with commas, quotes, line breaks and Indonesian text intact', async () => {
      const res = await getCsv(s, `/api/automation/runs/export?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).to.include('automation-runs.csv');
      // Streamed: no length known up front.
      expect(res.headers.get('content-length')).to.equal(null);
      expect(res.text.startsWith('\uFEFF')).to.equal(true);
      expect(res.text).to.include('\r\n');
      const rows = parse(res.text.slice(1), { columns: true }) as Record<string, string>[];
      const expected = history.slice().sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
      expect(rows.map((r) => r.id)).to.deep.equal(expected.map((r) => r._id));
      const nightRow = rows.find((r) => r.rule_id === night._id) as Record<string, string>;
      expect(nightRow.rule_name).to.equal(NIGHT_NAME);
      expect(nightRow.error).to.equal(`'=HYPERLINK("http://x")`);
      expect(nightRow).to.include({ matched: 'true', failed: 'true', rule_version: '7', actions: 'add_tags:failed (Gagal mengirim: "timeout", coba lagi)' });
      expect(nightRow.started_at).to.equal('2026-03-11T03:00:00.000Z');
    });
    it('bom=false leaves out the byte-order mark; filters apply', async () => {
      const res = await getCsv(s, `/api/automation/runs/export?bom=false&rule_id=${r2._id}`);
      expect(res.text.startsWith('id,started_at')).to.equal(true);
      const rows = parse(res.text, { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => r.id).sort()).to.deep.equal([...history, ...recent].filter((r) => r.rule_id === r2._id).map((r) => r._id).sort());
    });
    it('answers 400 for a bad filter', async () => {
      expect((await s.call('GET', '/api/automation/runs/export?bom=maybe')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/rules/{id}/runs', () => {
    itChecksAccess('GET', () => `/api/automation/rules/${r1._id}/runs`, 'automation.view', () => s);
    it('the rule’s runs, newest first', async () => {
      const res = await s.call('GET', `/api/automation/rules/${r2._id}/runs`);
      expect(res.status).to.equal(200);
      const expected = [...history, ...recent].filter((r) => r.rule_id === r2._id).sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
      expect(res.body.data.map((r: { id: string }) => r.id)).to.deep.equal(expected.map((r) => r._id));
      expect(res.body.data[0]).to.include({ rule_id: r2._id, rule_name: 'Quiet', rule_version: 3 });
    });
    it('answers 404 for another tenant’s rule and 400 for a bad query', async () => {
      expect((await s.call('GET', `/api/automation/rules/${otherRule._id}/runs`)).status).to.equal(404);
      expect((await s.call('GET', `/api/automation/rules/${r1._id}/runs?rule_id=${r2._id}`)).status).to.equal(400);
    });
  });

  describe('GET /api/automation/events/{id}/runs', () => {
    itChecksAccess('GET', () => `/api/automation/events/${events[4]!._id}/runs`, 'automation.view', () => s);
    it('the item’s runs in the order they ran', async () => {
      const res = await s.call('GET', `/api/automation/events/${events[4]!._id}/runs`);
      expect(res.status).to.equal(200);
      const expected = history.filter((r) => r.event_id === events[4]!._id).sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
      expect(res.body.data.map((r: { id: string }) => r.id)).to.deep.equal(expected.map((r) => r._id));
    });
    it('answers 404 for another tenant’s item and 400 for a bad id', async () => {
      expect((await s.call('GET', `/api/automation/events/${otherEvent._id}/runs`)).status).to.equal(404);
      expect((await s.call('GET', '/api/automation/events/123/runs')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/runs/{id}', () => {
    itChecksAccess('GET', () => `/api/automation/runs/${history[1]!._id}`, 'automation.view', () => s);
    it('the run with conditions and actions as evaluated', async () => {
      const run = history[1]!;
      const res = await s.call('GET', `/api/automation/runs/${run._id}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: run._id, rule_id: r1._id, matched: true, failed: true, duration_ms: 40, started_at: run.started_at.toISOString() });
      expect(res.body.conditions).to.deep.equal([{ group: 'all', field: 'conversation.channel', op: 'equals', expected: 'whatsapp', actual: 'whatsapp', result: true }]);
      expect(res.body.actions.map((a: { status: string }) => a.status)).to.deep.equal(['ok', 'failed']);
    });
    it('answers 404 for another tenant’s run and 400 for a bad id', async () => {
      expect((await s.call('GET', `/api/automation/runs/${otherRun._id}`)).status).to.equal(404);
      expect((await s.call('GET', '/api/automation/runs/zzz')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/runs/{id}/replay', () => {
    itChecksAccess('GET', () => `/api/automation/runs/${history[5]!._id}/replay`, 'automation.view', () => s);
    it('the rule version and snapshot, the payload the run saw, and the dry-run call to reproduce it', async () => {
      const run = history[5]!;
      const res = await s.call('GET', `/api/automation/runs/${run._id}/replay`);
      expect(res.status).to.equal(200);
      expect(res.body.rule).to.deep.include({ id: night._id, version: 7, current_version: 7, changed_since: false });
      expect(res.body.rule.snapshot.name).to.equal(NIGHT_NAME);
      expect(res.body.event).to.include({ id: events[4]!._id, event_type: 'message.created', state: 'failed' });
      expect(res.body.event.payload).to.deep.equal(events[4]!.payload);
      expect(res.body.reproduce).to.deep.equal({ method: 'POST', path: '/api/automation/rules/dry-run', body: { rule: run.rule_snapshot, event_type: 'message.created', payload: events[4]!.payload } });
    });
    it('says when the rule changed or was deleted since', async () => {
      const res = await s.call('GET', `/api/automation/runs/${history[6]!._id}/replay`);
      expect(res.body.rule).to.include({ current_version: null, changed_since: true });
    });
    it('answers 404 for another tenant’s run and 400 for a bad id', async () => {
      expect((await s.call('GET', `/api/automation/runs/${otherRun._id}/replay`)).status).to.equal(404);
      expect((await s.call('GET', '/api/automation/runs/1/replay')).status).to.equal(400);
    });
  });

  const allEvents = () => [...events, ...recentEvents].sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || b._id.localeCompare(a._id));

  describe('GET /api/automation/events', () => {
    itChecksAccess('GET', () => '/api/automation/events', 'automation.view', () => s);
    it('filters by state, type, conversation, duplicates and time', async () => {
      const cases: [string, (e: AutomationEvent) => boolean][] = [
        ['', () => true],
        ['state=failed', (e) => e.state === 'failed'],
        ['state=pending', (e) => e.state === 'pending'],
        ['event_type=sla.breached', (e) => e.event_type === 'sla.breached'],
        [`conversation_id=${conversationA}`, (e) => e.conversation_id === conversationA],
        ['duplicate=true', (e) => e.duplicate_of !== null],
        ['state=done&from=2026-03-10T00:00:00Z&to=2026-03-13T00:00:00Z', (e) => e.state === 'done' && e.created_at >= new Date('2026-03-10') && e.created_at < new Date('2026-03-13')],
      ];
      for (const [query, keep] of cases) {
        const res = await s.call('GET', `/api/automation/events?limit=100&${query}`);
        expect(res.status, query).to.equal(200);
        expect(res.body.data.map((e: { id: string }) => e.id), query).to.deep.equal(allEvents().filter(keep).map((e) => e._id));
        expect(res.body.pagination.total).to.equal(allEvents().filter(keep).length);
      }
    });
    it('runs on an index of automation_events', async () => {
      for (const f of [{}, { state: 'failed' as AutomationEventState }, { conversationId: conversationA }, { fingerprint: sharedFingerprint }, { ruleId: r1._id }]) {
        expect(await indexesUsed(AutomationEventModel as never, eventFilter(s.tenantId, f), { created_at: -1, _id: -1 })).to.not.be.empty;
      }
    });
    it('answers 400 for an unknown state or event type', async () => {
      expect((await s.call('GET', '/api/automation/events?state=lost')).status).to.equal(400);
      expect((await s.call('GET', '/api/automation/events?event_type=DROP')).status).to.equal(400);
    });
  });

  /** The lag a request answered between `asked` and `answered` can report: now minus the oldest pending item (whole seconds). */
  const lagBounds = (asked: number, answered: number): [number, number] => {
    const oldest = recentEvents[0]!.created_at.getTime();
    return [Math.floor((asked - oldest) / 1000) - 1, Math.ceil((answered - oldest) / 1000) + 1];
  };

  describe('GET /api/automation/events/stats', () => {
    itChecksAccess('GET', () => '/api/automation/events/stats', 'automation.view', () => s);
    it('items per state, lag, and per type over Jakarta days', async () => {
      const asked = Date.now();
      const res = await s.call('GET', `/api/automation/events/stats?${MARCH}`);
      const answered = Date.now();
      expect(res.status).to.equal(200);
      const every = [...events, ...recentEvents];
      for (const state of ['pending', 'processing', 'done', 'failed', 'skipped'] as const) expect(res.body.by_state[state], state).to.equal(every.filter((e) => e.state === state).length);
      expect(res.body.total).to.equal(every.length);
      expect(res.body.oldest_pending_at).to.equal(recentEvents[0]!.created_at.toISOString());
      expect(res.body.lag_seconds).to.be.within(...lagBounds(asked, answered));
      const march = events.filter((e) => inMarch(e.created_at));
      const types = [...new Set(march.map((e) => e.event_type))];
      expect(res.body.by_event_type).to.have.length(types.length);
      for (const t of types) {
        const of = march.filter((e) => e.event_type === t);
        expect(res.body.by_event_type.find((r: { event_type: string }) => r.event_type === t), t).to.deep.equal({
          event_type: t,
          total: of.length,
          duplicates: of.filter((e) => e.duplicate_of).length,
          done: of.filter((e) => e.state === 'done').length,
          failed: of.filter((e) => e.state === 'failed').length,
          skipped: of.filter((e) => e.state === 'skipped').length,
        });
      }
    });
    it('answers 400 for a bad range', async () => {
      expect((await s.call('GET', '/api/automation/events/stats?to=2026-02-30')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/events/export', () => {
    itChecksAccess('GET', () => '/api/automation/events/export', 'automation.view', () => s);
    it('streams the items as CSV, the payload as JSON in one cell, formulas guarded', async () => {
      const res = await getCsv(s, '/api/automation/events/export?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
      const rows = parse(res.text, { columns: true, bom: true }) as Record<string, string>[];
      const expected = events.slice().sort((a, b) => b.created_at.getTime() - a.created_at.getTime());
      expect(rows.map((r) => r.id)).to.deep.equal(expected.map((e) => e._id));
      const sla = rows.find((r) => r.id === events[3]!._id) as Record<string, string>;
      expect(JSON.parse(sla.payload as string)).to.deep.equal({ note: 'Pelanggan menunggu, "lama"\nsekali' });
      expect(rows.find((r) => r.id === events[4]!._id)?.last_error).to.equal("'=cmd|calc");
      expect(rows.find((r) => r.id === events[2]!._id)).to.include({ duplicate_of: events[1]!._id, skip_reason: 'duplicate', state: 'skipped' });
    });
    it('answers 400 for a bad filter', async () => {
      expect((await s.call('GET', '/api/automation/events/export?state=everything')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/events/fingerprint/{fingerprint}', () => {
    itChecksAccess('GET', () => `/api/automation/events/fingerprint/${sharedFingerprint}`, 'automation.view', () => s);
    it('the tenant’s items with that fingerprint, any case', async () => {
      const res = await s.call('GET', `/api/automation/events/fingerprint/${sharedFingerprint.toUpperCase()}`);
      expect(res.status).to.equal(200);
      expect(res.body.data.map((e: { id: string }) => e.id)).to.deep.equal([events[2]!._id, events[1]!._id]);
    });
    it('answers 400 for something that is not a SHA-256, and nothing of another tenant', async () => {
      const bad = await s.call('GET', '/api/automation/events/fingerprint/abc');
      expect(bad.status).to.equal(400);
      expect(bad.body.details[0].message).to.include('SHA-256');
      const res = await other.call('GET', `/api/automation/events/fingerprint/${sharedFingerprint}`);
      expect(res.body.data.map((e: { id: string }) => e.id)).to.deep.equal([otherEvent._id]);
    });
  });

  describe('GET /api/automation/rules/{id}/events', () => {
    itChecksAccess('GET', () => `/api/automation/rules/${r1._id}/events`, 'automation.view', () => s);
    it('the items the rule was evaluated on', async () => {
      const res = await s.call('GET', `/api/automation/rules/${r2._id}/events`);
      expect(res.status).to.equal(200);
      expect(res.body.data.map((e: { id: string }) => e.id)).to.deep.equal([events[4]!._id]);
      const r1Events = await s.call('GET', `/api/automation/rules/${r1._id}/events`);
      expect(r1Events.body.data.map((e: { id: string }) => e.id)).to.deep.equal([events[4]!._id, events[3]!._id]);
    });
    it('answers 404 for another tenant’s rule and 400 for a bad query', async () => {
      expect((await s.call('GET', `/api/automation/rules/${otherRule._id}/events`)).status).to.equal(404);
      expect((await s.call('GET', `/api/automation/rules/${r1._id}/events?page=0`)).status).to.equal(400);
    });
  });

  describe('GET /api/automation/events/{id}', () => {
    itChecksAccess('GET', () => `/api/automation/events/${events[2]!._id}`, 'automation.view', () => s);
    it('the item', async () => {
      const e = events[2]!;
      const res = await s.call('GET', `/api/automation/events/${e._id}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ id: e._id, state: 'skipped', duplicate_of: events[1]!._id, fingerprint: sharedFingerprint, event_seq: 3, created_at: e.created_at.toISOString() });
    });
    it('answers 404 for another tenant’s item and 400 for a bad id', async () => {
      expect((await s.call('GET', `/api/automation/events/${otherEvent._id}`)).status).to.equal(404);
      expect((await s.call('GET', '/api/automation/events/nope')).status).to.equal(400);
    });
  });

  describe('GET /api/automation/worker/metrics', () => {
    itChecksAccess('GET', () => '/api/automation/worker/metrics', 'automation.view', () => s);
    it('depth, lag, throughput and failure rate, overall and per process', async () => {
      const asked = Date.now();
      const res = await s.call('GET', '/api/automation/worker/metrics?window_minutes=15');
      const answered = Date.now();
      expect(res.status).to.equal(200);
      const every = [...events, ...recentEvents];
      const since = Date.now() - 15 * 60_000;
      const finished = every.filter((e) => e.processed_at && e.processed_at.getTime() >= since && e.state !== 'processing');
      expect(res.body).to.include({
        queue_depth: every.filter((e) => e.state === 'pending' || e.state === 'processing').length,
        pending: 2,
        processing: 1,
        failed_total: every.filter((e) => e.state === 'failed').length,
        processed: finished.length,
        failed: finished.filter((e) => e.state === 'failed').length,
        throughput_per_minute: Math.round((finished.length / 15) * 1000) / 1000,
        failure_rate: Math.round((finished.filter((e) => e.state === 'failed').length / finished.length) * 1e4) / 1e4,
      });
      expect(res.body.lag_seconds).to.be.within(...lagBounds(asked, answered));
      for (const name of ['proc-a', 'proc-b']) {
        const mine = finished.filter((e) => e.claimed_by === name);
        const row = res.body.processes.find((p: { process: string }) => p.process === name);
        expect(row, name).to.include({ processed: mine.length, failed: mine.filter((e) => e.state === 'failed').length, processing: every.filter((e) => e.state === 'processing' && e.claimed_by === name).length });
        const latency = mine.reduce((n, e) => n + ((e.processed_at as Date).getTime() - e.created_at.getTime()), 0) / mine.length;
        expect(row.average_latency_ms).to.equal(Math.round(latency * 10) / 10);
      }
    });
    it('answers 400 for a window out of range', async () => {
      expect((await s.call('GET', '/api/automation/worker/metrics?window_minutes=0')).status).to.equal(400);
    });
  });
});

describe('Automation queue operations', function () {
  this.timeout(60_000);
  let s: TestSession;
  let other: TestSession;

  before(async () => {
    s = await createSession();
    other = await createSession();
  });

  describe('GET /api/automation/runs/export (a large export)', () => {
    it('streams every one of 3,000 runs, newest first', async () => {
      const rule = buildRule(s.tenantId, { name: 'Bulk, "export"' });
      const start = Date.parse('2026-05-01T00:00:00Z');
      const bulk = Array.from({ length: 3000 }, (_, i) => buildRun(s.tenantId, { rule, at: new Date(start + i * 1000), actions: i % 7 ? ['ok'] : ['failed'] }));
      await insertDocs(AutomationRuleModel, [rule]);
      await insertDocs(AutomationRunModel, bulk);
      const res = await getCsv(s, `/api/automation/runs/export?bom=false&rule_id=${rule._id}`);
      expect(res.status).to.equal(200);
      const rows = parse(res.text, { columns: true }) as Record<string, string>[];
      expect(rows).to.have.length(bulk.length);
      expect(rows[0]?.id).to.equal(bulk.at(-1)?._id);
      expect(rows.at(-1)?.id).to.equal(bulk[0]?._id);
      expect(rows.filter((r) => r.failed === 'true')).to.have.length(bulk.filter((r) => r.actions[0]?.status === 'failed').length);
      expect(new Set(rows.map((r) => r.rule_name))).to.deep.equal(new Set(['Bulk, "export"']));
    });
  });

  describe('GET /api/conversations/{id}/automation-events', () => {
    let conversationId: string;
    let mine: AutomationEvent[];
    before(async () => {
      const wa = await connectWhatsapp(s);
      conversationId = (await startConversation(s, wa)).conversationId;
      // A type no listener queues here, so the list holds exactly these fixtures.
      mine = [3, 1, 2].map((seq) => buildEvent(s.tenantId, { conversation_id: conversationId, event_type: 'csat.submitted', event_seq: 1_000_000 + seq, created_at: new Date(Date.now() - seq * 1000) }));
      await insertDocs(AutomationEventModel, mine);
    });
    itChecksAccess('GET', () => `/api/conversations/${conversationId}/automation-events`, 'automation.view', () => s);
    it('the conversation’s items in seq order', async () => {
      const res = await s.call('GET', `/api/conversations/${conversationId}/automation-events?event_type=csat.submitted`);
      expect(res.status).to.equal(200);
      expect(res.body.data.map((e: { event_seq: number }) => e.event_seq)).to.deep.equal([1_000_001, 1_000_002, 1_000_003]);
    });
    it('answers 404 for another tenant’s conversation and 400 for a bad id', async () => {
      expect((await other.call('GET', `/api/conversations/${conversationId}/automation-events`)).status).to.equal(404);
      expect((await s.call('GET', '/api/conversations/abc/automation-events')).status).to.equal(400);
    });
  });

  describe('POST /api/automation/events/{id}/retry', () => {
    let failed: AutomationEvent;
    let done: AutomationEvent;
    let othersFailed: AutomationEvent;
    before(async () => {
      // Not rule-triggering types and no rules in this tenant: the worker settles them without runs.
      failed = buildEvent(s.tenantId, { state: 'failed', attempts: 5, last_error: 'webhook 503', event_type: 'note.deleted' });
      done = buildEvent(s.tenantId, { state: 'done', event_type: 'note.deleted' });
      othersFailed = buildEvent(other.tenantId, { state: 'failed' });
      await insertDocs(AutomationEventModel, [failed, done, othersFailed]);
    });
    itChecksAccess('POST', () => `/api/automation/events/${failed._id}/retry`, 'automation.manage', () => s);
    it('puts a failed item back to pending, due now, attempts from zero', async () => {
      const res = await s.call('POST', `/api/automation/events/${failed._id}/retry`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ id: failed._id, state: 'pending', attempts: 0, next_attempt_at: null });
      const log = await s.call('GET', `/api/activity-logs?action=automation_event.retried`);
      expect(JSON.stringify(log.body)).to.include(failed._id);
    });
    it('answers 422 for an item that is not failed', async () => {
      const res = await s.call('POST', `/api/automation/events/${done._id}/retry`);
      expect(res.status).to.equal(422);
      expect(res.body.message).to.include('done');
    });
    it('answers 404 for another tenant’s item and 400 for a bad id', async () => {
      expect((await s.call('POST', `/api/automation/events/${othersFailed._id}/retry`)).status).to.equal(404);
      expect((await s.call('POST', '/api/automation/events/1/retry')).status).to.equal(400);
    });
  });

  describe('POST /api/automation/events/retry-failed', () => {
    let failedNotes: AutomationEvent[];
    let failedOther: AutomationEvent;
    before(async () => {
      failedNotes = [1, 2, 3].map(() => buildEvent(s.tenantId, { state: 'failed', event_type: 'note.updated', attempts: 5 }));
      failedOther = buildEvent(s.tenantId, { state: 'failed', event_type: 'contact.updated', attempts: 5 });
      await insertDocs(AutomationEventModel, [...failedNotes, failedOther]);
    });
    itChecksAccess('POST', () => '/api/automation/events/retry-failed', 'automation.manage', () => s, { body: {} });
    it('requeues every failed item matching the filters, and only those', async () => {
      const res = await s.call('POST', '/api/automation/events/retry-failed', { body: { event_type: 'note.updated' } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ retried: failedNotes.length });
      const still = await s.call('GET', `/api/automation/events/${failedOther._id}`);
      expect(still.body.state).to.equal('failed');
      for (const e of failedNotes) expect((await s.call('GET', `/api/automation/events/${e._id}`)).body.state).to.not.equal('failed');
    });
    it('leaves another tenant’s failed items alone', async () => {
      const foreign = buildEvent(other.tenantId, { state: 'failed', event_type: 'contact.updated' });
      await insertDocs(AutomationEventModel, [foreign]);
      const res = await s.call('POST', '/api/automation/events/retry-failed', { body: { event_type: 'contact.updated' } });
      expect(res.body.retried).to.equal(1);
      expect((await other.call('GET', `/api/automation/events/${foreign._id}`)).body.state).to.equal('failed');
    });
    it('answers 400 for a bad body', async () => {
      expect((await s.call('POST', '/api/automation/events/retry-failed', { body: { state: 'done' } })).status).to.equal(400);
      expect((await s.call('POST', '/api/automation/events/retry-failed', { body: { from: 'tomorrow' } })).status).to.equal(400);
    });
  });

  describe('POST /api/automation/events/cleanup', () => {
    let oldFailed: AutomationEvent[];
    let youngFailed: AutomationEvent;
    let oldDone: AutomationEvent;
    let foreignOld: AutomationEvent;
    before(async () => {
      const t = (hours: number) => new Date(Date.now() - hours * HOUR);
      oldFailed = [100, 72].map((h) => buildEvent(s.tenantId, { state: 'failed', created_at: t(h), event_type: 'note.created' }));
      youngFailed = buildEvent(s.tenantId, { state: 'failed', created_at: t(2), event_type: 'note.created' });
      oldDone = buildEvent(s.tenantId, { state: 'done', created_at: t(200), event_type: 'note.created' });
      foreignOld = buildEvent(other.tenantId, { state: 'failed', created_at: t(300) });
      await insertDocs(AutomationEventModel, [...oldFailed, youngFailed, oldDone, foreignOld]);
    });
    itChecksAccess('POST', () => '/api/automation/events/cleanup', 'automation.manage', () => s, { body: { older_than_hours: 48 } });
    it('counts in a dry run, then deletes only failed items older than the age', async () => {
      const dry = await s.call('POST', '/api/automation/events/cleanup', { body: { older_than_hours: 48, dry_run: true } });
      expect(dry.status).to.equal(200);
      expect(dry.body).to.include({ deleted: oldFailed.length, dry_run: true });
      for (const e of oldFailed) expect((await s.call('GET', `/api/automation/events/${e._id}`)).status).to.equal(200);
      const res = await s.call('POST', '/api/automation/events/cleanup', { body: { older_than_hours: 48 } });
      expect(res.body).to.include({ deleted: oldFailed.length, dry_run: false });
      for (const e of oldFailed) expect((await s.call('GET', `/api/automation/events/${e._id}`)).status).to.equal(404);
      expect((await s.call('GET', `/api/automation/events/${youngFailed._id}`)).status).to.equal(200);
      expect((await s.call('GET', `/api/automation/events/${oldDone._id}`)).status).to.equal(200);
      expect((await other.call('GET', `/api/automation/events/${foreignOld._id}`)).status).to.equal(200);
    });
    it('answers 400 naming a missing or bad age', async () => {
      const missing = await s.call('POST', '/api/automation/events/cleanup', { body: {} });
      expect(missing.status).to.equal(400);
      expect(missing.body.details[0].field).to.equal('older_than_hours');
      expect((await s.call('POST', '/api/automation/events/cleanup', { body: { older_than_hours: 0 } })).status).to.equal(400);
      expect((await s.call('POST', '/api/automation/events/cleanup', { body: { older_than_hours: 1.5 } })).status).to.equal(400);
    });
  });

  describe('POST /api/automation/events/{id}/reprocess', () => {
    let done: AutomationEvent;
    let processing: AutomationEvent;
    let foreign: AutomationEvent;
    before(async () => {
      done = buildEvent(s.tenantId, { state: 'done', event_type: 'note.created' });
      // Held by another process right now (not stale: updated just now).
      processing = buildEvent(s.tenantId, { state: 'processing', processed_at: null, claimed_by: 'proc-elsewhere', event_type: 'note.created' });
      foreign = buildEvent(other.tenantId, { state: 'done' });
      await insertDocs(AutomationEventModel, [done, processing, foreign]);
    });
    itChecksAccess('POST', () => `/api/automation/events/${done._id}/reprocess`, 'automation.manage', () => s);
    it('evaluates a finished item again and answers it with the new runs (none: no rule triggers on it)', async () => {
      const res = await s.call('POST', `/api/automation/events/${done._id}/reprocess`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.event.id).to.equal(done._id);
      expect(res.body.runs).to.deep.equal([]);
    });
    it('answers 409 while a worker is processing the item', async () => {
      expect((await s.call('POST', `/api/automation/events/${processing._id}/reprocess`)).status).to.equal(409);
    });
    it('answers 404 for another tenant’s item and 400 for a bad id', async () => {
      expect((await s.call('POST', `/api/automation/events/${foreign._id}/reprocess`)).status).to.equal(404);
      expect((await s.call('POST', '/api/automation/events/x/reprocess')).status).to.equal(400);
    });
  });
});

describe('Automation retry and reprocess through the worker', function () {
  this.timeout(60_000);

  it('a failed item goes to done after retry (its rule runs and tags the conversation), and reprocess runs the current rules again', async () => {
    const s = await createSession();
    const wa = await connectWhatsapp(s);
    // The conversation starts before any rule exists, so nothing is queued for it by the listener.
    const { conversationId } = await startConversation(s, wa, { text: 'Halo, pesanan saya belum sampai' });
    const [message] = (await readEventsAfter(s.tenantId, 0, 1000)).filter((e) => e.event === EVENTS.messageCreated);
    expect(message, 'message.created event').to.not.equal(undefined);
    const domain = message!;
    const rule = buildRule(s.tenantId, {
      name: 'Tag WhatsApp VIP',
      trigger: { events: [EVENTS.messageCreated] },
      conditions: { all: [{ field: 'conversation.channel', op: 'equals', value: 'whatsapp' }], any: [] },
      actions: [{ type: 'add_tags', params: { tags: ['vip'] } }],
    });
    await insertDocs(AutomationRuleModel, [rule]);
    // The item as the worker leaves one whose evaluation failed MAX_ATTEMPTS times (no run recorded).
    const payload = domain.data as Record<string, unknown>;
    const failed = buildEvent(s.tenantId, {
      _id: automationEventId(s.tenantId, domain.seq),
      conversation_id: conversationId,
      event_seq: domain.seq,
      domain_event_id: domain.id,
      event_type: domain.event,
      payload,
      fingerprint: payloadFingerprint(domain.event, payload),
      state: 'failed',
      attempts: 5,
      last_error: 'connection reset by the database',
      claimed_by: 'proc-crashed',
    });
    await insertDocs(AutomationEventModel, [failed]);

    const retried = await s.call('POST', `/api/automation/events/${failed._id}/retry`);
    expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
    const done = await until(async () => {
      const res = await s.call('GET', `/api/automation/events/${failed._id}`);
      return res.body.state === 'done' ? res.body : null;
    }, 'the retried item done');
    expect(done).to.include({ attempts: 1, last_error: null });
    expect(done.evaluated_rule_ids).to.deep.equal([rule._id]);
    const runs = await s.call('GET', `/api/automation/events/${failed._id}/runs`);
    expect(runs.body.data).to.have.length(1);
    expect(runs.body.data[0]).to.deep.include({ rule_id: rule._id, matched: true, failed: false });
    expect(runs.body.data[0].actions.map((a: { type: string; status: string }) => `${a.type}:${a.status}`)).to.deep.equal(['add_tags:ok']);
    await until(async () => ((await conversations.findOwned(s.tenantId, conversationId)).tags.includes('vip') ? true : null), 'the conversation tagged vip');
    const metrics = await s.call('GET', '/api/automation/worker/metrics');
    expect(metrics.body).to.include({ queue_depth: 0, processed: 1, failed: 0 });

    // The rule changes; reprocess evaluates the item with the rule as it is now, as a new pass.
    await AutomationRuleModel.updateOne({ _id: rule._id }, { $set: { version: 4, actions: [{ type: 'add_tags', params: { tags: ['vip', 'follow_up'] } }] } });
    const again = await s.call('POST', `/api/automation/events/${failed._id}/reprocess`);
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.event).to.include({ state: 'done', reprocess_count: 1 });
    expect(again.body.runs).to.have.length(1);
    expect(again.body.runs[0]).to.include({ rule_version: 4, matched: true });
    expect((await conversations.findOwned(s.tenantId, conversationId)).tags).to.include.members(['vip', 'follow_up']);
    const all = await s.call('GET', `/api/automation/events/${failed._id}/runs`);
    expect(all.body.data.map((r: { rule_version: number }) => r.rule_version)).to.deep.equal([3, 4]);
    // The first run's replay now says the rule changed since.
    const replay = await s.call('GET', `/api/automation/runs/${all.body.data[0].id}/replay`);
    expect(replay.body.rule).to.include({ version: 3, current_version: 4, changed_since: true });
    expect(replay.body.event.payload).to.deep.equal(payload);
  });
});
