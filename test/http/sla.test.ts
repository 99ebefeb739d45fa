/**
 * SLA over real HTTP: policies, the clock the SLA listener keeps from real conversations
 * (WhatsApp webhooks, agent replies, status changes), and the sweeper, called with an injected
 * `now` so a minutes-long target is judged without waiting minutes.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import mongoose from 'mongoose';
import { JOBS_COLLECTION } from '../../jobs/scheduler.js';
import { name as sweepJobName } from '../../jobs/sla-check.job.js';
import { EventModel } from '../../src/models/event.js';
import { DUE_SLA_SORT, dueSlaFilter, SlaRecordModel } from '../../src/models/sla-record.js';
import { slaRecordId } from '../../src/services/sla-clock.js';
import { sweepSla } from '../../src/services/sla-sweep.js';
import { fakeGraph } from '../setup.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

const policyBody = (overrides: Record<string, unknown> = {}) => ({ name: `Policy ${randomUUID().slice(0, 8)}`, first_response_minutes: 30, resolution_minutes: 240, ...overrides });

async function createPolicy(s: TestSession, overrides: Record<string, unknown> = {}) {
  const res = await s.call('POST', '/api/sla-policies', { body: policyBody(overrides) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { id: string; name: string };
}

const slaOf = async (s: TestSession, conversationId: string) => {
  const res = await s.call('GET', `/api/conversations/${conversationId}/sla`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body;
};

/** Waits until the conversation's SLA status satisfies `ok`. */
const slaWhen = (s: TestSession, conversationId: string, ok: (sla: any) => boolean, what: string) =>
  until(async () => {
    const sla = await slaOf(s, conversationId);
    return ok(sla) ? sla : null;
  }, what);

const setStatus = async (s: TestSession, id: string, status: string) => {
  const res = await s.call('PATCH', `/api/conversations/${id}/status`, { body: { status } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
};

const breachesOf = async (s: TestSession, policyId: string) => {
  const res = await s.call('GET', `/api/sla-policies/${policyId}/breaches`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.data as any[];
};

const breachEventsOf = (tenantId: string) => EventModel.find({ tenant_id: tenantId, event: 'sla.breached' }).lean().exec();

/** The sweeper job's Agenda document (shared by every process of the run): when it last ran and runs next. */
const sweepJob = async () => {
  const job = await mongoose.connection.db?.collection(JOBS_COLLECTION).findOne({ name: sweepJobName });
  expect(job, 'the SLA sweep job is scheduled').to.not.equal(null);
  return job as unknown as { lockedAt: Date | null; lastRunAt: Date | null; nextRunAt: Date };
};

/**
 * Moves a running record's first-response due time into the past, as the passing of its target
 * would (the shortest target is a minute): a compare-and-set on `version`, like the clock's own writes.
 */
async function makeFirstResponseOverdue(tenantId: string, conversationId: string, due: Date): Promise<void> {
  const id = slaRecordId(tenantId, conversationId);
  const r = await SlaRecordModel.findById(id).lean().exec();
  expect(r?.state).to.equal('running');
  const res = await SlaRecordModel.updateOne({ _id: id, version: r?.version }, { $set: { 'first_response.due_at': due, next_due_at: due }, $inc: { version: 1 } }).exec();
  expect(res.matchedCount).to.equal(1);
}

describe('SLA', function () {
  this.timeout(30000);
  let s: TestSession;
  let wa: WhatsappAccount;
  let other: TestSession;
  let otherPolicy: string;
  let otherConversation: string;

  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    other = await createSession();
    otherPolicy = (await createPolicy(other)).id;
    otherConversation = (await startConversation(other, await connectWhatsapp(other))).conversationId;
  });

  describe('POST /api/sla-policies', () => {
    it('creates a policy with its defaults', async () => {
      const res = await s.call('POST', '/api/sla-policies', { body: { name: 'Standard', first_response_minutes: 15 } });
      expect(res.status).to.equal(201);
      expect(res.body).to.deep.include({
        name: 'Standard',
        first_response_minutes: 15,
        resolution_minutes: null,
        business_hours_only: false,
        is_active: true,
        priority: 100,
        channels: [],
        division_ids: [],
        tags: [],
      });
      await s.call('DELETE', `/api/sla-policies/${res.body.id}`);
    });

    it('answers 400 for bad input, no target at all, and an unknown division', async () => {
      for (const body of [
        { name: '' },
        { name: 'x', first_response_minutes: 0 },
        { name: 'x', first_response_minutes: 10, surprise: true },
        { name: 'x', first_response_minutes: 10, channels: ['fax'] },
        { name: 'x' },
        { name: 'x', first_response_minutes: 10, division_ids: [randomUUID()] },
      ]) {
        const res = await s.call('POST', '/api/sla-policies', { body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
      }
    });

    itChecksAccess('POST', () => '/api/sla-policies', 'sla.manage', () => s, { body: policyBody() });
  });

  describe('GET /api/sla-policies', () => {
    it('lists the tenant’s policies by priority, never another tenant’s', async () => {
      const fresh = await createSession();
      const late = await createPolicy(fresh, { priority: 50 });
      const early = await createPolicy(fresh, { priority: 1 });
      const res = await fresh.call('GET', '/api/sla-policies');
      expect(res.status).to.equal(200);
      expect(res.body.data.map((p: { id: string }) => p.id)).to.deep.equal([early.id, late.id]);
      expect(res.body.pagination.total).to.equal(2);
    });

    it('answers 400 for a bad page size', async () => {
      expect((await s.call('GET', '/api/sla-policies?limit=1000')).status).to.equal(400);
    });

    itChecksAccess('GET', () => '/api/sla-policies', 'sla.view', () => s);
  });

  describe('PATCH /api/sla-policies/{id}', () => {
    it('changes only the fields given', async () => {
      const p = await createPolicy(s, { priority: 7 });
      const res = await s.call('PATCH', `/api/sla-policies/${p.id}`, { body: { resolution_minutes: 60, tags: ['vip', 'vip'] } });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ resolution_minutes: 60, first_response_minutes: 30, priority: 7, tags: ['vip'] });
      await s.call('DELETE', `/api/sla-policies/${p.id}`);
    });

    it('answers 400 for an empty change, a bad id, and removing the last target', async () => {
      const p = await createPolicy(s, { resolution_minutes: null });
      expect((await s.call('PATCH', `/api/sla-policies/${p.id}`, { body: {} })).status).to.equal(400);
      expect((await s.call('PATCH', '/api/sla-policies/not-a-uuid', { body: { priority: 1 } })).status).to.equal(400);
      expect((await s.call('PATCH', `/api/sla-policies/${p.id}`, { body: { first_response_minutes: null } })).status).to.equal(400);
      await s.call('DELETE', `/api/sla-policies/${p.id}`);
    });

    it('answers 404 for another tenant’s policy', async () => {
      expect((await s.call('PATCH', `/api/sla-policies/${otherPolicy}`, { body: { priority: 1 } })).status).to.equal(404);
    });

    itChecksAccess('PATCH', () => `/api/sla-policies/${otherPolicy}`, 'sla.manage', () => s, { body: { priority: 1 } });
  });

  describe('DELETE /api/sla-policies/{id}', () => {
    it('deletes a policy', async () => {
      const p = await createPolicy(s);
      expect((await s.call('DELETE', `/api/sla-policies/${p.id}`)).status).to.equal(200);
      expect((await s.call('DELETE', `/api/sla-policies/${p.id}`)).status).to.equal(404);
    });

    it('answers 400 for a bad id and 404 for another tenant’s policy', async () => {
      expect((await s.call('DELETE', '/api/sla-policies/nope')).status).to.equal(400);
      expect((await s.call('DELETE', `/api/sla-policies/${otherPolicy}`)).status).to.equal(404);
    });

    itChecksAccess('DELETE', () => `/api/sla-policies/${otherPolicy}`, 'sla.manage', () => s);
  });

  describe('GET /api/sla-policies/{id}/breaches', () => {
    it('answers 400 for a bad target filter, 404 for another tenant’s policy', async () => {
      const p = await createPolicy(s);
      expect((await s.call('GET', `/api/sla-policies/${p.id}/breaches?target=speed`)).status).to.equal(400);
      expect((await s.call('GET', `/api/sla-policies/${p.id}/breaches?target=resolution`)).status).to.equal(200);
      expect((await s.call('GET', `/api/sla-policies/${otherPolicy}/breaches`)).status).to.equal(404);
      await s.call('DELETE', `/api/sla-policies/${p.id}`);
    });

    itChecksAccess('GET', () => `/api/sla-policies/${otherPolicy}/breaches`, 'sla.view', () => s);
  });

  describe('GET /api/conversations/{id}/sla', () => {
    it('answers policy null when no policy applies', async () => {
      const fresh = await createSession();
      const c = await startConversation(fresh, await connectWhatsapp(fresh));
      expect(await slaOf(fresh, c.conversationId)).to.deep.include({ policy: null, state: 'none', first_response: null, resolution: null });
    });

    it('answers 400 for a bad id and 404 for another tenant’s conversation', async () => {
      expect((await s.call('GET', '/api/conversations/nope/sla')).status).to.equal(400);
      expect((await s.call('GET', `/api/conversations/${otherConversation}/sla`)).status).to.equal(404);
    });

    it('answers 404 for a conversation the caller may not see', async () => {
      const d = await s.call('POST', '/api/divisions', { body: { name: `Hidden ${randomUUID().slice(0, 6)}` } });
      const c = await startConversation(s, wa);
      await s.call('POST', `/api/conversations/${c.conversationId}/transfer`, { body: { to_division_id: d.body.id, reason: 'route' } });
      const outsider = await userWithPermissions(s, ['conversations.view']);
      expect((await outsider.call('GET', `/api/conversations/${c.conversationId}/sla`)).status).to.equal(404);
    });

    itChecksAccess('GET', () => `/api/conversations/${otherConversation}/sla`, 'conversations.view', () => s);
  });

  describe('the clock', () => {
    let t: TestSession;
    let twa: WhatsappAccount;
    beforeEach(async () => {
      t = await createSession();
      twa = await connectWhatsapp(t);
      // Agent replies reach the local fake Graph API, which accepts them.
      fakeGraph().on('POST', `/v21.0/${twa.phoneNumberId}/messages`, () => ({ body: { messaging_product: 'whatsapp', messages: [{ id: `wamid.${randomUUID()}` }] } }));
    });

    it('chooses the lowest priority among matching policies, again when tags change, and shows due times from the start', async () => {
      const general = await createPolicy(t, { priority: 10, channels: ['whatsapp'], first_response_minutes: 60 });
      const vip = await createPolicy(t, { priority: 5, tags: ['vip'], first_response_minutes: 5 });
      await createPolicy(t, { priority: 1, channels: ['email'] });
      const c = await startConversation(t, twa);
      const first = await slaWhen(t, c.conversationId, (x) => x.policy !== null, 'a policy applied');
      expect(first.policy).to.deep.equal({ id: general.id, name: general.name });
      expect(first.state).to.equal('running');
      const created = (await t.call('GET', `/api/conversations/${c.conversationId}`)).body.created_at as string;
      expect(Date.parse(first.first_response.due_at) - Date.parse(created)).to.equal(60 * 60_000);
      expect(first.first_response.status).to.equal('active');

      expect((await t.call('PATCH', `/api/conversations/${c.conversationId}/tags`, { body: { add: ['vip'] } })).status).to.equal(200);
      const tagged = await slaWhen(t, c.conversationId, (x) => x.policy?.id === vip.id, 'the vip policy applied');
      expect(Date.parse(tagged.first_response.due_at) - Date.parse(created)).to.equal(5 * 60_000);
    });

    it('is met when an agent answers in time, and the sweeper records nothing for it', async () => {
      const p = await createPolicy(t, { first_response_minutes: 60, resolution_minutes: null });
      const c = await startConversation(t, twa);
      await slaWhen(t, c.conversationId, (x) => x.policy !== null, 'the policy applied');
      const sent = await t.call('POST', `/api/conversations/${c.conversationId}/messages`, { body: { type: 'text', text: 'Halo, kami bantu', idempotency_key: randomUUID() } });
      expect(sent.status, JSON.stringify(sent.body)).to.be.oneOf([200, 201]);
      const met = await slaWhen(t, c.conversationId, (x) => x.first_response.status === 'met', 'first response met');
      expect(met.first_response.breached_at).to.equal(null);
      expect(Date.parse(met.first_response.met_at)).to.be.below(Date.parse(met.first_response.due_at));
      await sweepSla({ now: new Date(Date.now() + 2 * 3600_000) });
      expect(await breachesOf(t, p.id)).to.deep.equal([]);
      expect((await slaOf(t, c.conversationId)).first_response.status).to.equal('met');
    });

    it('records a breach once when two sweepers run at once, and emits sla.breached once', async () => {
      const p = await createPolicy(t, { first_response_minutes: 1, resolution_minutes: null });
      const c = await startConversation(t, twa);
      const running = await slaWhen(t, c.conversationId, (x) => x.policy !== null, 'the policy applied');
      const late = new Date(Date.parse(running.first_response.due_at) + 1000);
      // Not due yet at the real time: the job running meanwhile records nothing.
      await Promise.all([sweepSla({ now: late }), sweepSla({ now: late })]);
      await sweepSla({ now: late });
      const breaches = await breachesOf(t, p.id);
      expect(breaches).to.have.length(1);
      expect(breaches[0]).to.deep.include({ conversation_id: c.conversationId, target: 'first_response', target_minutes: 1, due_at: running.first_response.due_at });
      const events = await EventModel.find({ tenant_id: t.tenantId, event: 'sla.breached' }).lean().exec();
      expect(events).to.have.length(1);
      expect(events[0]?.data).to.deep.include({ id: breaches[0].id, policy_name: p.name });
      expect(events[0]?.audience).to.deep.include({ scope: 'conversation', conversationId: c.conversationId });
      const sla = await slaOf(t, c.conversationId);
      expect(sla.first_response).to.deep.include({ status: 'breached', met_at: null });
      // A reply after the breach does not record it again.
      await t.call('POST', `/api/conversations/${c.conversationId}/messages`, { body: { type: 'text', text: 'Maaf menunggu', idempotency_key: randomUUID() } });
      await slaWhen(t, c.conversationId, (x) => x.first_response.met_at !== null, 'the late reply recorded');
      expect(await breachesOf(t, p.id)).to.have.length(1);
    });

    it('records a late reply’s breach once when the reply comes before the sweeper, and a later sweep adds none', async () => {
      const p = await createPolicy(t, { first_response_minutes: 60, resolution_minutes: null });
      const c = await startConversation(t, twa);
      await slaWhen(t, c.conversationId, (x) => x.policy !== null, 'the policy applied');
      // The sweeper job (any process) must not run between the clock falling due and the reply:
      // start when it is idle with its next run well ahead, and check afterwards that it did not run.
      const idle = await until(async () => {
        const job = await sweepJob();
        return !job.lockedAt && new Date(job.nextRunAt).getTime() > Date.now() + 10_000 ? job : null;
      }, 'the SLA sweep job idle, its next run 10 s away', 20_000);
      const due = new Date(Date.now() - 1_000);
      await makeFirstResponseOverdue(t.tenantId, c.conversationId, due);
      const sent = await t.call('POST', `/api/conversations/${c.conversationId}/messages`, { body: { type: 'text', text: 'Maaf, kami terlambat', idempotency_key: randomUUID() } });
      expect(sent.status, JSON.stringify(sent.body)).to.be.oneOf([200, 201]);
      const late = await slaWhen(t, c.conversationId, (x) => x.first_response.met_at !== null, 'the late reply applied');
      const after = await sweepJob();
      expect(String(after.lastRunAt), 'the sweeper ran before the reply was applied').to.equal(String(idle.lastRunAt));
      // Recorded by the reply path: at the reply's time, which is when the clock was met.
      expect(late.first_response).to.deep.include({ status: 'breached', due_at: due.toISOString() });
      expect(late.first_response.breached_at).to.equal(late.first_response.met_at);
      const breaches = await breachesOf(t, p.id);
      expect(breaches).to.have.length(1);
      expect(breaches[0]).to.deep.include({ conversation_id: c.conversationId, target: 'first_response', due_at: due.toISOString(), breached_at: late.first_response.met_at });
      const events = await until(async () => {
        const found = await breachEventsOf(t.tenantId);
        return found.length > 0 ? found : null;
      }, 'sla.breached in the log');
      expect(events).to.have.length(1);
      expect(events[0]?.data).to.deep.include({ id: breaches[0].id, policy_name: p.name });

      const report = await sweepSla({ now: new Date(Date.now() + 86_400_000) });
      expect(report).to.be.an('object');
      expect(await breachesOf(t, p.id)).to.have.length(1);
      expect(await breachEventsOf(t.tenantId)).to.have.length(1);
      expect((await slaOf(t, c.conversationId)).first_response).to.deep.include({ status: 'breached', breached_at: late.first_response.met_at });
    });

    it('drops a conversation’s clocks at its next change after the tenant deleted its only policy, so none is breached', async () => {
      const p = await createPolicy(t, { first_response_minutes: 30, resolution_minutes: 120 });
      const c = await startConversation(t, twa);
      await slaWhen(t, c.conversationId, (x) => x.state === 'running', 'running');
      expect((await t.call('DELETE', `/api/sla-policies/${p.id}`)).status).to.equal(200);
      await setStatus(t, c.conversationId, 'pending');
      const dropped = await slaWhen(t, c.conversationId, (x) => x.policy === null, 'the clocks dropped with the policy');
      expect(dropped).to.deep.include({ state: 'none', first_response: null, resolution: null });
      await sweepSla({ now: new Date(Date.now() + 86_400_000) });
      expect(await breachEventsOf(t.tenantId)).to.have.length(0);
    });

    it('pauses while pending: due times move by the paused time, and resolving meets resolution', async () => {
      await createPolicy(t, { first_response_minutes: 30, resolution_minutes: 120 });
      const c = await startConversation(t, twa);
      const before = await slaWhen(t, c.conversationId, (x) => x.policy !== null, 'the policy applied');
      await setStatus(t, c.conversationId, 'pending');
      const paused = await slaWhen(t, c.conversationId, (x) => x.state === 'paused', 'paused');
      expect(paused.first_response).to.deep.include({ status: 'paused', due_at: null });
      await new Promise((r) => setTimeout(r, 300));
      await setStatus(t, c.conversationId, 'open');
      const resumed = await slaWhen(t, c.conversationId, (x) => x.state === 'running', 'running again');
      const moved = Date.parse(resumed.first_response.due_at) - Date.parse(before.first_response.due_at);
      expect(moved).to.equal(resumed.paused_ms);
      expect(moved).to.be.at.least(300);
      expect(Date.parse(resumed.resolution.due_at) - Date.parse(before.resolution.due_at)).to.equal(moved);
      await setStatus(t, c.conversationId, 'resolved');
      const done = await slaWhen(t, c.conversationId, (x) => x.state === 'stopped', 'stopped');
      expect(done.resolution.status).to.equal('met');
      // Records nothing for a stopped clock, however late.
      const report = await sweepSla({ now: new Date(Date.now() + 86_400_000) });
      expect(report).to.be.an('object');
      expect((await slaOf(t, c.conversationId)).first_response.status).to.equal('stopped');
    });

    it('counts only working hours in the tenant’s zone, with the division’s override after a transfer', async () => {
      expect((await t.call('PUT', '/api/settings/timezone', { body: { timezone: 'Asia/Jakarta' } })).status).to.equal(200);
      const everyDay = (start: string, end: string) => [0, 1, 2, 3, 4, 5, 6].map((d) => ({ day_of_week: d, start_time: start, end_time: end, is_active: true }));
      expect((await t.call('PUT', '/api/working-hours', { body: { days: everyDay('09:00', '10:00') } })).status).to.equal(200);
      const division = (await t.call('POST', '/api/divisions', { body: { name: 'Night desk' } })).body.id as string;
      expect((await t.call('PUT', `/api/working-hours/divisions/${division}`, { body: { days: everyDay('22:00', '02:00') } })).status).to.equal(200);
      await createPolicy(t, { business_hours_only: true, first_response_minutes: 90, resolution_minutes: null });
      const c = await startConversation(t, twa);
      const sla = await slaWhen(t, c.conversationId, (x) => x.policy !== null, 'the policy applied');
      const created = new Date((await t.call('GET', `/api/conversations/${c.conversationId}`)).body.created_at as string);
      expect(sla.business_hours_only).to.equal(true);
      expect(sla.first_response.due_at).to.equal(dueByDailyWindows(created, 90, 'Asia/Jakarta', 9, 10));

      await t.call('POST', `/api/conversations/${c.conversationId}/transfer`, { body: { to_division_id: division, reason: 'night shift' } });
      const night = await slaWhen(t, c.conversationId, (x) => x.first_response.due_at !== sla.first_response.due_at, 'due time under the override');
      expect(night.first_response.due_at).to.equal(dueByDailyWindows(created, 90, 'Asia/Jakarta', 22, 26));
    });
  });

  it('the sweeper’s query, first page and later ones, is answered from its index', async () => {
    const now = new Date();
    const from = new Date(now.getTime() - 60_000);
    for (const after of [null, { _id: randomUUID(), next_due_at: from }]) {
      const explained = (await SlaRecordModel.find(dueSlaFilter(now, after))
        .sort(DUE_SLA_SORT)
        .limit(500)
        .explain('queryPlanner')) as unknown as { queryPlanner: { winningPlan: unknown } };
      const plan = JSON.stringify(explained.queryPlanner.winningPlan);
      expect(plan).to.include('state_1_next_due_at_1__id_1');
      expect(plan).to.not.include('COLLSCAN');
    }
  });
});

/**
 * An independent oracle for a schedule open every day from `openHour` to `closeHour` local
 * (closeHour past 24 runs into the next day): walks local days with luxon and spends `minutes`.
 */
function dueByDailyWindows(from: Date, minutes: number, zone: string, openHour: number, closeHour: number): string {
  let left = minutes * 60_000;
  let day = DateTime.fromJSDate(from, { zone }).startOf('day').minus({ days: 1 });
  for (let i = 0; i < 10; i++, day = day.plus({ days: 1 })) {
    const open = day.plus({ hours: openHour }).toMillis();
    const close = day.plus({ hours: closeHour }).toMillis();
    const start = Math.max(open, from.getTime());
    if (close <= start) continue;
    if (close - start >= left) return new Date(start + left).toISOString();
    left -= close - start;
  }
  throw new Error('not reached in ten days');
}
