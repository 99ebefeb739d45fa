/**
 * Analytics over real HTTP and a real database. Conversation and message events are fed to the
 * real analytics listener (as the runner would hand them, replays included) with chosen times, so
 * bucketing in Asia/Jakarta can be checked to the minute, WhatsApp deliveries included. Every expected number is computed here from the fixtures (fixed +07:00 arithmetic,
 * nearest-rank percentiles written out), not by the code under test. One test drives a real
 * WhatsApp webhook to show the listener runs on published events.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { analyticsListener } from '../../src/events/listeners/analytics.js';
import { EVENTS, type DomainEvent, type EventType } from '../../src/events/types.js';
import { AnalyticsConversationModel, AnalyticsRollupModel } from '../../src/models/analytics-rollup.js';
import { CsatSurveyModel } from '../../src/models/csat.js';
import { DeliveryRollupModel } from '../../src/models/analytics-delivery.js';
import { DailyDeliveryModel, DailyRollupModel } from '../../src/models/analytics-daily.js';
import { insertSlaRecord, SlaRecordModel, type SlaClock } from '../../src/models/sla-record.js';
import { indexesUsed } from '../support/query-plans.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, postSigned, startConversation, statusWebhook, until } from '../support/whatsapp.js';

const MIN = 60_000;

/** One fixture conversation: what happens to it and when. */
interface Fixture {
  id: string;
  channel: string;
  created: string;
  agent: string | null;
  /** Minutes after creation of the first agent reply (null: none). */
  replyAfter: number | null;
  /** The final status and minutes after creation it was reached (null: stays open). */
  end: { status: 'resolved' | 'closed' | 'expired'; after: number } | null;
  inbound: number;
}

const AGENT_1 = randomUUID();
const AGENT_2 = randomUUID();

// 16:30Z on the 10th is 23:30 in Jakarta (the 10th); 17:30Z is 00:30 on the 11th there, though still the 10th in UTC.
const FIXTURES: Fixture[] = [
  { id: randomUUID(), channel: 'whatsapp', created: '2026-03-10T16:30:00Z', agent: AGENT_1, replyAfter: 10, end: { status: 'resolved', after: 120 }, inbound: 2 },
  { id: randomUUID(), channel: 'webchat', created: '2026-03-10T17:30:00Z', agent: AGENT_2, replyAfter: 30, end: { status: 'resolved', after: 60 }, inbound: 1 },
  { id: randomUUID(), channel: 'whatsapp', created: '2026-03-11T03:00:00Z', agent: AGENT_1, replyAfter: 5, end: { status: 'closed', after: 300 }, inbound: 3 },
  { id: randomUUID(), channel: 'whatsapp', created: '2026-03-11T05:00:00Z', agent: null, replyAfter: null, end: null, inbound: 1 },
  { id: randomUUID(), channel: 'webchat', created: '2026-03-12T01:00:00Z', agent: AGENT_2, replyAfter: 45, end: { status: 'expired', after: 1440 }, inbound: 1 },
];

const iso = (ms: number) => new Date(ms).toISOString();

/** The events the system would publish for the fixtures, in seq order. */
function eventsOf(tenantId: string, fixtures: Fixture[]): DomainEvent[] {
  const raw: { at: number; event: EventType; data: unknown }[] = [];
  for (const f of fixtures) {
    const t0 = Date.parse(f.created);
    const conv = (status: string, assignee: string | null, at: number, tags: string[] = []) => ({
      id: f.id,
      contact_id: randomUUID(),
      channel: f.channel,
      account_id: null,
      division_id: null,
      assignee_id: assignee,
      status,
      tags,
      created_at: f.created,
      updated_at: iso(at),
    });
    const msg = (direction: 'inbound' | 'outbound', sender: string, at: number) => ({ id: randomUUID(), conversation_id: f.id, channel: f.channel, direction, sender_type: sender, sent_at: iso(at) });
    raw.push({ at: t0, event: EVENTS.conversationCreated, data: conv('open', null, t0) });
    for (let i = 0; i < f.inbound; i++) raw.push({ at: t0 + i * 1000, event: EVENTS.messageCreated, data: msg('inbound', 'contact', t0 + i * 1000) });
    if (f.agent) raw.push({ at: t0 + MIN, event: EVENTS.conversationAssigned, data: conv('open', f.agent, t0 + MIN) });
    if (f.replyAfter !== null) raw.push({ at: t0 + f.replyAfter * MIN, event: EVENTS.messageCreated, data: msg('outbound', 'agent', t0 + f.replyAfter * MIN) });
    if (f.end) {
      const at = t0 + f.end.after * MIN;
      raw.push({ at, event: EVENTS.conversationUpdated, data: conv(f.end.status, f.agent, at) });
      // A later change that keeps the status (a tag) counts no second resolution.
      raw.push({ at: at + MIN, event: EVENTS.conversationUpdated, data: conv(f.end.status, f.agent, at + MIN, ['vip']) });
    }
  }
  raw.sort((a, b) => a.at - b.at);
  return raw.map((r, i) => ({ id: randomUUID(), event: r.event, seq: i + 1, tenant_id: tenantId, data: r.data, created_at: iso(r.at), audience: { scope: 'tenant', permission: null } }));
}

async function feed(events: DomainEvent[]) {
  for (const e of events) await analyticsListener.handle(e);
}

/** A Jakarta day (fixed +07:00, no DST) of a UTC instant. */
const jakartaDay = (ms: number) => new Date(ms + 7 * 60 * MIN).toISOString().slice(0, 10);
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Nearest-rank percentile in seconds. */
function rank(values: number[], p: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return (s[Math.ceil(p * s.length) - 1] as number) / 1000;
}

/** The figures a report should give for `fixtures` whose conversations open on the days in `days` (by `dayOf`). */
function expected(fixtures: Fixture[], dayOf: (ms: number) => string, days: string[]) {
  const inRange = fixtures.filter((f) => days.includes(dayOf(Date.parse(f.created))));
  const perDay = days.map((day) => {
    const opened = fixtures.filter((f) => dayOf(Date.parse(f.created)) === day).length;
    const ended = (status: string) => fixtures.filter((f) => f.end?.status === status && dayOf(Date.parse(f.created) + f.end.after * MIN) === day).length;
    let inbound = 0;
    let outbound = 0;
    for (const f of fixtures) {
      const t0 = Date.parse(f.created);
      for (let i = 0; i < f.inbound; i++) if (dayOf(t0 + i * 1000) === day) inbound++;
      if (f.replyAfter !== null && dayOf(t0 + f.replyAfter * MIN) === day) outbound++;
    }
    return { day, opened, resolved: ended('resolved'), closed: ended('closed'), expired: ended('expired'), inbound, outbound };
  });
  const frt = inRange.filter((f) => f.replyAfter !== null).map((f) => (f.replyAfter as number) * MIN);
  const res = inRange.filter((f) => f.end).map((f) => (f.end as { after: number }).after * MIN);
  return { perDay, frt: { count: frt.length, median: rank(frt, 0.5), p90: rank(frt, 0.9) }, res: { count: res.length, median: rank(res, 0.5), p90: rank(res, 0.9) } };
}

/** SLA records (as the SLA listener keeps them): when the clocks started and how each ended. */
const SLA: { started: string; firstResponse: 'met' | 'breached' | null; resolution: 'met' | 'breached' | null }[] = [
  { started: '2026-03-10T16:30:00Z', firstResponse: 'met', resolution: 'met' },
  { started: '2026-03-11T03:00:00Z', firstResponse: 'breached', resolution: null },
  { started: '2026-03-11T05:00:00Z', firstResponse: 'met', resolution: 'breached' },
  // 17:30Z on the 12th is the 13th in Jakarta: outside the range.
  { started: '2026-03-12T17:30:00Z', firstResponse: 'breached', resolution: 'breached' },
];

async function storeSla(tenantId: string) {
  const clock = (end: 'met' | 'breached' | null, started: string): SlaClock => {
    const due = new Date(Date.parse(started) + 30 * MIN);
    return { target_minutes: 30, due_at: due, met_at: end === 'met' ? new Date(Date.parse(started) + 10 * MIN) : null, breached_at: end === 'breached' ? due : null };
  };
  for (const r of SLA) {
    const ok = await insertSlaRecord({
      _id: randomUUID(),
      tenant_id: tenantId,
      conversation_id: randomUUID(),
      policy_id: null,
      policy_name: null,
      business_hours_only: false,
      division_id: null,
      started_at: new Date(r.started),
      state: 'running',
      pauses: [],
      first_response: clock(r.firstResponse, r.started),
      resolution: clock(r.resolution, r.started),
      next_due_at: null,
      last_seq: 0,
      version: 1,
    });
    expect(ok).to.not.equal(false);
  }
}

// Surveys: when made, the rating (null: not answered), whether the link went out.
/** CSAT surveys: when made, the rating (null: not answered), whether the link went out. */
const SURVEYS: { at: string; rating: number | null; sent: boolean }[] = [
  { at: '2026-03-10T16:59:00Z', rating: 5, sent: true },
  { at: '2026-03-10T17:01:00Z', rating: 4, sent: true },
  { at: '2026-03-11T09:00:00Z', rating: 2, sent: true },
  { at: '2026-03-11T10:00:00Z', rating: null, sent: true },
  { at: '2026-03-12T10:00:00Z', rating: null, sent: false },
  { at: '2026-03-12T17:00:00Z', rating: 1, sent: true },
];

async function storeSurveys(tenant: string) {
  for (const v of SURVEYS) {
    // Written with its creation time (the repository stamps now): the fixture needs chosen days.
    await CsatSurveyModel.collection.insertOne({
      _id: randomUUID() as never,
      tenant_id: tenant,
      conversation_id: randomUUID(),
      contact_id: randomUUID(),
      channel: 'whatsapp',
      agent_id: AGENT_1,
      division_id: null,
      trigger: 'resolved',
      created_by: null,
      status: v.sent ? (v.rating ? 'completed' : 'sent') : 'not_sent',
      token_hash: randomUUID(),
      token_nonce: randomUUID(),
      expires_at: new Date('2026-04-01T00:00:00Z'),
      message_id: null,
      send_error: null,
      rating: v.rating,
      comment: null,
      responded_at: v.rating ? new Date(v.at) : null,
      created_at: new Date(v.at),
      updated_at: new Date(v.at),
    });
  }
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);

describe('Analytics', function () {
  this.timeout(60_000);
  let s: TestSession;
  let other: TestSession;
  /** The events s's listener was handed, kept to hand them again. */
  let fed: DomainEvent[];
  const RANGE = 'from=2026-03-10&to=2026-03-12';
  const DAYS = ['2026-03-10', '2026-03-11', '2026-03-12'];

  before(async () => {
    s = await createSession({ timezone: 'Asia/Jakarta' });
    other = await createSession({ timezone: 'UTC' });
    fed = eventsOf(s.tenantId, FIXTURES);
    await feed(fed);
    // The other tenant has the same shape of data twice over: none of it may show in s's numbers.
    await feed(eventsOf(other.tenantId, [...FIXTURES, ...FIXTURES].map((f) => ({ ...f, id: randomUUID() }))));
    await storeSla(s.tenantId);
    await storeSla(other.tenantId);
    await storeSurveys(s.tenantId);
    await storeSurveys(other.tenantId);
  });

  describe('GET /api/analytics/trends', () => {
    itChecksAccess('GET', () => `/api/analytics/trends?${RANGE}`, 'analytics.view', () => s);

    it('buckets by the tenant’s day in Asia/Jakarta, not the UTC day', async () => {
      const res = await s.call('GET', `/api/analytics/trends?${RANGE}&bucket=day`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ timezone: 'Asia/Jakarta', from: '2026-03-10', to: '2026-03-12', bucket: 'day', start: '2026-03-09T17:00:00.000Z', end: '2026-03-12T17:00:00.000Z' });
      const want = expected(FIXTURES, jakartaDay, DAYS).perDay;
      expect(res.body.series.map((b: any) => b.start)).to.deep.equal(DAYS.map((d) => `${d}T00:00:00+07:00`));
      expect(res.body.series.map((b: any) => ({ ...b.conversations, ...b.messages }))).to.deep.equal(
        want.map((w) => ({ opened: w.opened, resolved: w.resolved, closed: w.closed, expired: w.expired, in: w.inbound, out: w.outbound })),
      );
      // The 23:30 and 00:30 (Jakarta) conversations fall on different Jakarta days though both are on the 10th in UTC.
      expect(want[0]?.opened).to.equal(1);
      expect(FIXTURES.filter((f) => utcDay(Date.parse(f.created)) === '2026-03-10')).to.have.length(2);
    });

    it('buckets a UTC tenant by UTC days', async () => {
      const res = await other.call('GET', `/api/analytics/trends?${RANGE}`);
      expect(res.status).to.equal(200);
      expect(res.body.timezone).to.equal('UTC');
      const want = expected(FIXTURES, utcDay, DAYS).perDay;
      expect(res.body.series.map((b: any) => b.conversations.opened)).to.deep.equal(want.map((w) => w.opened * 2));
    });

    it('puts a day boundary of a +05:30 zone (Asia/Kolkata) on its half hour', async () => {
      const kolkata = await createSession({ timezone: 'Asia/Kolkata' });
      // 18:20Z is 23:50 on the 10th in Kolkata; 18:40Z is 00:10 on the 11th (an hour bucket would merge them).
      const two: Fixture[] = ['2026-03-10T18:20:00Z', '2026-03-10T18:40:00Z'].map((created) => ({ id: randomUUID(), channel: 'webchat', created, agent: null, replyAfter: null, end: null, inbound: 1 }));
      await feed(eventsOf(kolkata.tenantId, two));
      const res = await kolkata.call('GET', '/api/analytics/trends?from=2026-03-10&to=2026-03-11');
      expect(res.status).to.equal(200);
      const kolkataDay = (ms: number) => new Date(ms + 330 * MIN).toISOString().slice(0, 10);
      expect(res.body.series.map((b: any) => [b.start, b.conversations.opened])).to.deep.equal(
        ['2026-03-10', '2026-03-11'].map((d) => [`${d}T00:00:00+05:30`, two.filter((f) => kolkataDay(Date.parse(f.created)) === d).length]),
      );
      expect(res.body.series.map((b: any) => b.conversations.opened)).to.deep.equal([1, 1]);
    });

    it('counts a replayed event once', async () => {
      const before = await s.call('GET', `/api/analytics/trends?${RANGE}`);
      // At-least-once delivery: after a crash the runner hands the events since its last cursor write again.
      await feed(fed.slice(-5));
      await feed(fed);
      const again = await s.call('GET', `/api/analytics/trends?${RANGE}`);
      expect(again.body.series).to.deep.equal(before.body.series);
    });

    it('buckets by hour, week and month', async () => {
      const hours = await s.call('GET', `/api/analytics/trends?from=2026-03-10&to=2026-03-10&bucket=hour`);
      expect(hours.status).to.equal(200);
      expect(hours.body.series).to.have.length(24);
      expect(hours.body.series[23]).to.deep.include({ start: '2026-03-10T23:00:00+07:00', conversations: { opened: 1, resolved: 0, closed: 0, expired: 0 } });
      const weeks = await s.call('GET', `/api/analytics/trends?from=2026-03-01&to=2026-03-31&bucket=week`);
      expect(weeks.status).to.equal(200);
      // 2026-03-09 is a Monday: every fixture opens in that week.
      const week = weeks.body.series.find((b: any) => b.start === '2026-03-09T00:00:00+07:00');
      expect(week.conversations.opened).to.equal(FIXTURES.length);
      const months = await s.call('GET', `/api/analytics/trends?from=2026-01-01&to=2026-12-31&bucket=month`);
      expect(months.body.series).to.have.length(12);
      expect(months.body.series[2].conversations.opened).to.equal(FIXTURES.length);
    });

    for (const [what, query] of [
      ['a bad bucket', `${RANGE}&bucket=minute`],
      ['to before from', 'from=2026-03-12&to=2026-03-10'],
      ['a range over 366 days', 'from=2025-01-01&to=2026-01-02'],
      ['an hourly range over 31 days', 'from=2026-01-01&to=2026-02-01&bucket=hour'],
      ['a malformed day', 'from=2026-3-1&to=2026-03-10'],
      ['a missing from', 'to=2026-03-10'],
      ['an unknown parameter', `${RANGE}&color=red`],
      ['working_hours on a report that measures no times', `${RANGE}&working_hours=true`],
    ]) {
      it(`answers 400 for ${what}`, async () => {
        const res = await s.call('GET', `/api/analytics/trends?${query}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
      });
    }
  });

  describe('GET /api/analytics/overview', () => {
    itChecksAccess('GET', () => `/api/analytics/overview?${RANGE}`, 'analytics.view', () => s);

    it('answers totals, response and resolution times (median, p90) computed from the fixtures', async () => {
      const res = await s.call('GET', `/api/analytics/overview?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const want = expected(FIXTURES, jakartaDay, DAYS);
      expect(res.body.conversations).to.deep.equal({
        opened: sum(want.perDay, (d) => d.opened),
        resolved: sum(want.perDay, (d) => d.resolved),
        closed: sum(want.perDay, (d) => d.closed),
        expired: sum(want.perDay, (d) => d.expired),
      });
      expect(res.body.messages).to.deep.equal({ in: sum(want.perDay, (d) => d.inbound), out: sum(want.perDay, (d) => d.outbound) });
      expect(res.body.first_response).to.deep.equal({ count: want.frt.count, median_seconds: want.frt.median, p90_seconds: want.frt.p90 });
      expect(res.body.resolution).to.deep.equal({ count: want.res.count, median_seconds: want.res.median, p90_seconds: want.res.p90 });
      const slaIn = SLA.filter((r) => DAYS.includes(jakartaDay(Date.parse(r.started))));
      const outcomes = (k: 'firstResponse' | 'resolution') => ({ met: slaIn.filter((r) => r[k] === 'met').length, breached: slaIn.filter((r) => r[k] === 'breached').length });
      expect(res.body.sla).to.deep.equal({ first_response: outcomes('firstResponse'), resolution: outcomes('resolution') });
      const rated = SURVEYS.filter((v) => v.rating !== null && DAYS.includes(jakartaDay(Date.parse(v.at))));
      expect(res.body.csat.responses).to.equal(rated.length);
      expect(res.body.csat.average_rating).to.be.closeTo(sum(rated, (v) => v.rating as number) / rated.length, 0.01);
    });

    it('counts only working hours when asked (Monday to Friday 09:00-17:00 in Jakarta)', async () => {
      const days = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day_of_week: d, start_time: '09:00', end_time: '17:00', is_active: d >= 1 && d <= 5 }));
      const put = await s.call('PUT', '/api/working-hours', { body: { days } });
      expect(put.status, JSON.stringify(put.body)).to.equal(200);
      const res = await s.call('GET', `/api/analytics/overview?${RANGE}&working_hours=true`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.working_hours).to.equal(true);
      // Minute by minute: open when the Jakarta wall clock (+07:00) is a weekday from 09:00 to 17:00.
      const open = (from: number, minutes: number) => {
        let n = 0;
        for (let i = 0; i < minutes; i++) {
          const local = new Date(from + i * MIN + 7 * 60 * MIN);
          if (local.getUTCDay() >= 1 && local.getUTCDay() <= 5 && local.getUTCHours() >= 9 && local.getUTCHours() < 17) n++;
        }
        return n * MIN;
      };
      const inRange = FIXTURES.filter((f) => DAYS.includes(jakartaDay(Date.parse(f.created))));
      const frt = inRange.filter((f) => f.replyAfter !== null).map((f) => open(Date.parse(f.created), f.replyAfter as number));
      const res2 = inRange.filter((f) => f.end).map((f) => open(Date.parse(f.created), (f.end as { after: number }).after));
      expect(res.body.first_response).to.deep.equal({ count: frt.length, median_seconds: rank(frt, 0.5), p90_seconds: rank(frt, 0.9) });
      expect(res.body.resolution).to.deep.equal({ count: res2.length, median_seconds: rank(res2, 0.5), p90_seconds: rank(res2, 0.9) });
      // And the calendar figures differ: the fixtures open around midnight.
      const calendar = await s.call('GET', `/api/analytics/overview?${RANGE}`);
      expect(calendar.body.working_hours).to.equal(false);
      expect(calendar.body.resolution.p90_seconds).to.not.equal(res.body.resolution.p90_seconds);
    });

    it('filters by channel', async () => {
      const res = await s.call('GET', `/api/analytics/overview?${RANGE}&channel=webchat`);
      expect(res.status).to.equal(200);
      expect(res.body.conversations.opened).to.equal(FIXTURES.filter((f) => f.channel === 'webchat').length);
    });

    it('counts a replayed event once', async () => {
      const before = await s.call('GET', `/api/analytics/overview?${RANGE}`);
      // The runner replays what it handled since its last cursor write: here, every event, twice.
      await feed(fed);
      const again = await s.call('GET', `/api/analytics/overview?${RANGE}`);
      expect(again.body).to.deep.equal(before.body);
    });
  });

  describe('GET /api/analytics/agents', () => {
    itChecksAccess('GET', () => `/api/analytics/agents?${RANGE}`, 'analytics.view', () => s);

    it('answers assignments, handled conversations and average handling time per agent', async () => {
      const res = await s.call('GET', `/api/analytics/agents?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      for (const agent of [AGENT_1, AGENT_2]) {
        const own = FIXTURES.filter((f) => f.agent === agent);
        // Handled when it ended, so a conversation expiring after the range (the 13th in Jakarta) is not handled in it.
        const handled = own.filter((f) => f.end && DAYS.includes(jakartaDay(Date.parse(f.created) + f.end.after * MIN)));
        const row = res.body.agents.find((a: any) => a.agent_id === agent);
        expect(row, agent).to.not.equal(undefined);
        expect(row.assigned).to.equal(own.length);
        expect(row.handled).to.equal(handled.length);
        expect(row.average_handling_seconds).to.equal(Math.round((sum(handled, (f) => (f.end as { after: number }).after) * 60) / handled.length));
        expect(row.messages_out).to.equal(own.filter((f) => f.replyAfter !== null).length);
      }
      expect(res.body.agents).to.have.length(2);
    });
  });

  describe('GET /api/analytics/channels', () => {
    itChecksAccess('GET', () => `/api/analytics/channels?${RANGE}`, 'analytics.view', () => s);

    it('answers volumes per channel', async () => {
      const res = await s.call('GET', `/api/analytics/channels?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      for (const channel of ['whatsapp', 'webchat']) {
        const own = FIXTURES.filter((f) => f.channel === channel);
        const row = res.body.channels.find((c: any) => c.channel === channel);
        expect(row.conversations.opened, channel).to.equal(own.length);
        expect(row.messages.in, channel).to.equal(sum(own, (f) => f.inbound));
      }
    });
  });

  describe('GET /api/analytics/csat', () => {
    itChecksAccess('GET', () => `/api/analytics/csat?${RANGE}`, 'analytics.view', () => s);

    it('answers the CSAT numbers with the range and zone used, per Jakarta day', async () => {
      const res = await s.call('GET', `/api/analytics/csat?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const inRange = SURVEYS.filter((v) => DAYS.includes(jakartaDay(Date.parse(v.at))));
      const rated = inRange.filter((v) => v.rating !== null).map((v) => v.rating as number);
      const sent = inRange.filter((v) => v.sent).length;
      expect(res.body).to.include({ timezone: 'Asia/Jakarta', from: '2026-03-10', to: '2026-03-12', surveys: inRange.length, sent, responses: rated.length });
      expect(res.body.average_rating).to.be.closeTo(rated.reduce((a, b) => a + b, 0) / rated.length, 0.01);
      expect(res.body.response_rate).to.be.closeTo(rated.length / sent, 1e-4);
      expect(res.body.distribution).to.deep.equal(Object.fromEntries([1, 2, 3, 4, 5].map((n) => [n, rated.filter((r) => r === n).length])));
      expect(res.body.series.map((b: any) => [b.start, b.surveys])).to.deep.equal(DAYS.map((d) => [`${d}T00:00:00+07:00`, inRange.filter((v) => jakartaDay(Date.parse(v.at)) === d).length]));
    });

    it('answers 400 for a range over 366 days', async () => {
      expect((await s.call('GET', '/api/analytics/csat?from=2025-01-01&to=2026-01-02')).status).to.equal(400);
    });
  });

  describe('GET /api/analytics/whatsapp/*', () => {
    // Outbound WhatsApp messages: status, template (or none), first error code; sent at Jakarta-day edges.
    const SENT: { status: 'sent' | 'delivered' | 'read' | 'failed' | 'pending'; template: string | null; code?: number; at: string }[] = [
      { status: 'read', template: 'promo', at: '2026-03-10T16:59:00Z' },
      { status: 'delivered', template: 'promo', at: '2026-03-10T17:01:00Z' },
      { status: 'failed', template: 'promo', code: 131047, at: '2026-03-11T02:00:00Z' },
      { status: 'read', template: 'otp', at: '2026-03-11T03:00:00Z' },
      { status: 'read', template: null, at: '2026-03-11T04:00:00Z' },
      { status: 'sent', template: null, at: '2026-03-12T04:00:00Z' },
      { status: 'failed', template: null, code: 131047, at: '2026-03-12T05:00:00Z' },
      { status: 'failed', template: null, code: 131026, at: '2026-03-12T06:00:00Z' },
      { status: 'pending', template: null, at: '2026-03-12T07:00:00Z' },
      // Outside the range in Jakarta (17:00Z on the 12th is 00:00 on the 13th).
      { status: 'read', template: 'promo', at: '2026-03-12T17:00:00Z' },
    ];

    /** The message events of the SENT fixtures: each message created pending, then moved step by step to its status. */
    function deliveryEvents(tenantId: string): DomainEvent[] {
      const out: DomainEvent[] = [];
      for (const m of SENT) {
        const id = randomUUID();
        const steps = m.status === 'pending' ? ['pending'] : m.status === 'failed' ? ['pending', 'sent', 'failed'] : ['pending', ...['sent', 'delivered', 'read'].slice(0, ['sent', 'delivered', 'read'].indexOf(m.status) + 1)];
        steps.forEach((status, i) =>
          out.push({
            id: randomUUID(),
            event: i === 0 ? EVENTS.messageCreated : EVENTS.messageUpdated,
            seq: out.length + 1,
            tenant_id: tenantId,
            created_at: m.at,
            audience: { scope: 'tenant', permission: null },
            data: {
              id,
              conversation_id: randomUUID(),
              channel: 'whatsapp',
              direction: 'outbound',
              sender_type: 'agent',
              type: m.template ? 'template' : 'text',
              content: m.template ? { template: { name: m.template, language: 'id', components: [] } } : {},
              status,
              errors: status === 'failed' && m.code ? [{ code: m.code, title: 'error' }] : [],
              sent_at: m.at,
            },
          }),
        );
      }
      return out;
    }

    const inRange = SENT.filter((m) => DAYS.includes(jakartaDay(Date.parse(m.at))));
    const reached = (m: (typeof SENT)[number], s: 'sent' | 'delivered' | 'read') =>
      ({ sent: ['sent', 'delivered', 'read'], delivered: ['delivered', 'read'], read: ['read'] })[s].includes(m.status);

    // Tenants of their own: these message events would add to the message counts the other reports check.
    let wa: TestSession;
    let waEvents: DomainEvent[];
    before(async () => {
      wa = await createSession({ timezone: 'Asia/Jakarta' });
      const waOther = await createSession({ timezone: 'Asia/Jakarta' });
      waEvents = deliveryEvents(wa.tenantId);
      await feed(waEvents);
      await feed(deliveryEvents(waOther.tenantId));
    });

    itChecksAccess('GET', () => `/api/analytics/whatsapp/messages?${RANGE}`, 'analytics.view', () => wa);
    itChecksAccess('GET', () => `/api/analytics/whatsapp/templates?${RANGE}`, 'analytics.view', () => wa);
    itChecksAccess('GET', () => `/api/analytics/whatsapp/conversations?${RANGE}`, 'analytics.view', () => wa);

    it('answers delivery counts, rates and failure reasons, per Jakarta day', async () => {
      const res = await wa.call('GET', `/api/analytics/whatsapp/messages?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const count = (xs: typeof SENT, f: (m: (typeof SENT)[number]) => boolean) => xs.filter(f).length;
      expect(res.body).to.include({
        timezone: 'Asia/Jakarta',
        total: inRange.length,
        sent: count(inRange, (m) => reached(m, 'sent')),
        delivered: count(inRange, (m) => reached(m, 'delivered')),
        read: count(inRange, (m) => reached(m, 'read')),
        failed: count(inRange, (m) => m.status === 'failed'),
        pending: count(inRange, (m) => m.status === 'pending'),
      });
      expect(res.body.read_rate).to.be.closeTo(count(inRange, (m) => reached(m, 'read')) / inRange.length, 1e-4);
      expect(res.body.failure_reasons).to.deep.equal([
        { code: '131047', count: 2 },
        { code: '131026', count: 1 },
      ]);
      expect(res.body.series.map((b: any) => b.total)).to.deep.equal(DAYS.map((d) => count(inRange, (m) => jakartaDay(Date.parse(m.at)) === d)));
    });

    it('counts each message once, in its current status, when events are replayed', async () => {
      const before = await wa.call('GET', `/api/analytics/whatsapp/messages?${RANGE}`);
      await feed(waEvents.slice(-4));
      await feed(waEvents);
      const again = await wa.call('GET', `/api/analytics/whatsapp/messages?${RANGE}`);
      expect(again.body).to.deep.equal(before.body);
      expect(again.body.total).to.equal(inRange.length);
    });

    it('answers sends and read rates per template', async () => {
      const res = await wa.call('GET', `/api/analytics/whatsapp/templates?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const names = [...new Set(inRange.flatMap((m) => (m.template ? [m.template] : [])))];
      expect(res.body.templates.map((t: any) => t.name).sort()).to.deep.equal(names.sort());
      for (const name of names) {
        const own = inRange.filter((m) => m.template === name);
        const row = res.body.templates.find((t: any) => t.name === name);
        expect(row.sends, name).to.equal(own.length);
        expect(row.read_rate, name).to.be.closeTo(own.filter((m) => reached(m, 'read')).length / own.length, 1e-4);
      }
    });

    it('answers WhatsApp conversations per bucket, without pricing', async () => {
      const res = await s.call('GET', `/api/analytics/whatsapp/conversations?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const want = expected(
        FIXTURES.filter((f) => f.channel === 'whatsapp'),
        jakartaDay,
        DAYS,
      ).perDay;
      expect(res.body.series.map((b: any) => b.conversations.opened)).to.deep.equal(want.map((w) => w.opened));
      expect(res.body.pricing).to.equal(null);
    });

    it('answers 400 for a bad bucket', async () => {
      expect((await wa.call('GET', `/api/analytics/whatsapp/messages?${RANGE}&bucket=year`)).status).to.equal(400);
    });
  });

  describe('day roll-ups', () => {
    // Days before yesterday are read from day roll-ups built from the 15-minute ones; these tests
    // change what a built day holds and the zone its days are cut in.
    const opened = (body: any) => body.series.map((b: any) => b.conversations.opened);

    it('counts a change to a day that was already built', async () => {
      const t = await createSession({ timezone: 'Asia/Jakarta' });
      const first = FIXTURES.slice(0, 3).map((f) => ({ ...f, id: randomUUID() }));
      const events = eventsOf(t.tenantId, first);
      await feed(events);
      const before = await t.call('GET', `/api/analytics/trends?${RANGE}`);
      expect(opened(before.body)).to.deep.equal(expected(first, jakartaDay, DAYS).perDay.map((d) => d.opened));
      // A late arrival on the 11th (Jakarta): a conversation stored after the days were built.
      const late: Fixture = { id: randomUUID(), channel: 'whatsapp', created: '2026-03-11T06:00:00Z', agent: AGENT_2, replyAfter: 3, end: { status: 'resolved', after: 20 }, inbound: 2 };
      const lateEvents = eventsOf(t.tenantId, [late]).map((e) => ({ ...e, seq: e.seq + events.length }));
      await feed(lateEvents);
      const all = [...first, late];
      const want = expected(all, jakartaDay, DAYS).perDay;
      const after = await t.call('GET', `/api/analytics/trends?${RANGE}`);
      expect(opened(after.body)).to.deep.equal(want.map((d) => d.opened));
      expect(after.body.series.map((b: any) => b.messages.in)).to.deep.equal(want.map((d) => d.inbound));
      // One dimension, from its own day series: the agent report and a channel filter.
      const agents = await t.call('GET', `/api/analytics/agents?${RANGE}`);
      const agent2 = agents.body.agents.find((a: any) => a.agent_id === AGENT_2);
      expect(agent2.assigned).to.equal(all.filter((f) => f.agent === AGENT_2).length);
      const whatsapp = await t.call('GET', `/api/analytics/trends?${RANGE}&channel=whatsapp`);
      expect(opened(whatsapp.body)).to.deep.equal(expected(all.filter((f) => f.channel === 'whatsapp'), jakartaDay, DAYS).perDay.map((d) => d.opened));
      // Two dimensions at once are summed from the 15-minute roll-ups. A count carries the assignee
      // of its moment: the agent's replies are theirs, the opening (before assignment) is not.
      const both = await t.call('GET', `/api/analytics/trends?${RANGE}&channel=whatsapp&agent_id=${AGENT_2}`);
      const mine = expected(all.filter((f) => f.channel === 'whatsapp' && f.agent === AGENT_2), jakartaDay, DAYS).perDay;
      expect(both.body.series.map((b: any) => b.messages.out)).to.deep.equal(mine.map((d) => d.outbound));
      expect(mine.map((d) => d.outbound)).to.deep.equal([0, 1, 0]);
    });

    it('cuts the days again when the tenant changes its time zone', async () => {
      const t = await createSession({ timezone: 'Asia/Jakarta' });
      const fixtures = FIXTURES.map((f) => ({ ...f, id: randomUUID() }));
      await feed(eventsOf(t.tenantId, fixtures));
      const jakarta = await t.call('GET', `/api/analytics/trends?${RANGE}`);
      expect(opened(jakarta.body)).to.deep.equal(expected(fixtures, jakartaDay, DAYS).perDay.map((d) => d.opened));
      const moved = await t.call('PUT', '/api/settings/timezone', { body: { timezone: 'UTC' } });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
      const utc = await t.call('GET', `/api/analytics/trends?${RANGE}`);
      expect(utc.body.timezone).to.equal('UTC');
      expect(opened(utc.body)).to.deep.equal(expected(fixtures, utcDay, DAYS).perDay.map((d) => d.opened));
    });
  });

  describe('query plans', () => {
    it('reads every report through an index bounded by tenant and time', async () => {
      const range = { $gte: new Date('2026-01-01T00:00:00Z'), $lt: new Date('2027-01-01T00:00:00Z') };
      expect(await indexesUsed(AnalyticsRollupModel as never, { tenant_id: s.tenantId, bucket: range })).to.deep.equal(['tenant_id_1_bucket_1']);
      expect(await indexesUsed(AnalyticsConversationModel as never, { tenant_id: s.tenantId, opened_at: range })).to.deep.equal(['tenant_id_1_opened_at_1']);
      expect(await indexesUsed(SlaRecordModel as never, { tenant_id: s.tenantId, started_at: range })).to.deep.equal(['tenant_id_1_started_at_1']);
      expect(await indexesUsed(DeliveryRollupModel as never, { tenant_id: s.tenantId, bucket: range })).to.deep.equal(['tenant_id_1_bucket_1']);
      const days = ['tenant_id_1_zone_1_kind_1_key_1_day_1'];
      expect(await indexesUsed(DailyRollupModel as never, { tenant_id: s.tenantId, zone: 'Asia/Jakarta', kind: 'all', day: range })).to.deep.equal(days);
      expect(await indexesUsed(DailyRollupModel as never, { tenant_id: s.tenantId, zone: 'Asia/Jakarta', kind: 'channel', key: 'whatsapp', day: range })).to.deep.equal(days);
      expect(await indexesUsed(DailyDeliveryModel as never, { tenant_id: s.tenantId, zone: 'Asia/Jakarta', day: range })).to.deep.equal(['tenant_id_1_zone_1_day_1']);
      const since = { $gte: new Date('2026-03-01T00:00:00Z') };
      expect(await indexesUsed(AnalyticsRollupModel as never, { tenant_id: s.tenantId, updated_at: since })).to.deep.equal(['tenant_id_1_updated_at_1']);
      expect(await indexesUsed(DeliveryRollupModel as never, { tenant_id: s.tenantId, updated_at: since })).to.deep.equal(['tenant_id_1_updated_at_1']);
    });
  });

  describe('the analytics listener on published events', () => {
    it('counts a real WhatsApp conversation, the agent’s reply and its delivery statuses', async () => {
      const live = await createSession({ timezone: 'Asia/Jakarta' });
      const wa = await connectWhatsapp(live);
      const conv = await startConversation(live, wa);
      const today = new Date(Date.now() + 7 * 60 * MIN).toISOString().slice(0, 10);
      const range = `from=${today}&to=${today}`;
      await until(async () => {
        const res = await live.call('GET', `/api/analytics/overview?${range}`);
        return res.body.conversations?.opened === 1 && res.body.messages.in === 1 ? res.body : null;
      }, 'the overview counts the conversation');
      const issued = acceptSends(wa);
      const sent = await live.call('POST', `/api/conversations/${conv.conversationId}/messages`, { body: { type: 'text', text: 'Halo, kami bantu', idempotency_key: randomUUID() } });
      expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
      for (const status of ['delivered', 'read']) expect((await postSigned(statusWebhook(wa.phoneNumberId, issued[0] as string, status, conv.from), wa.appSecret)).status).to.equal(200);
      const delivery = await until(async () => {
        const res = await live.call('GET', `/api/analytics/whatsapp/messages?${range}`);
        return res.body.read === 1 ? res.body : null;
      }, 'the delivery report counts the read reply');
      expect(delivery).to.include({ total: 1, sent: 1, delivered: 1, read: 1, failed: 0, pending: 0 });
      const overview = (await live.call('GET', `/api/analytics/overview?${range}`)).body;
      expect(overview.messages).to.deep.equal({ in: 1, out: 1 });
      expect(overview.first_response.count).to.equal(1);
    });
  });
});
