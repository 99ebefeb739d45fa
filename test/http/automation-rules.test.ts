/**
 * Automation rules and control over real HTTP: each endpoint's success, 400, 401, 403 and
 * another organization's 404; validation naming the bad condition or action by index; version
 * conflicts; snooze, rollout, schedule windows in the organization's zone and the effective
 * state that explains them; the dry run changing nothing.
 */
import { expect } from 'chai';
import { automationRuns } from '../../src/models/automation-run.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, type TestSession } from '../support/session.js';

/** A valid rule body. */
const ruleBody = (over: Record<string, unknown> = {}) => ({
  name: 'Tag VIP contacts',
  trigger: { events: ['conversation.created'] },
  conditions: { all: [{ field: 'contact.tags', op: 'contains', value: 'vip' }], any: [] },
  actions: [{ type: 'add_tags', params: { tags: ['vip'] } }],
  ...over,
});

async function makeRule(s: TestSession, over: Record<string, unknown> = {}): Promise<any> {
  const res = await s.call('POST', '/api/automation/rules', { body: ruleBody(over) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}

/** A well-formed id for access checks' bodies (the check answers before the rule is looked up). */
const SOME_ID = '00000000-0000-4000-8000-000000000001';

const future = (ms = 3_600_000) => new Date(Date.now() + ms).toISOString();

describe('Automation rules API', () => {
  let admin: TestSession;
  let other: TestSession;
  let rule: any;
  let otherRule: any;

  before(async () => {
    [admin, other] = await Promise.all([createSession(), createSession()]);
    rule = await makeRule(admin);
    otherRule = await makeRule(other);
  });

  describe('POST /api/automation/rules', () => {
    it('creates a rule at version 1, active, full rollout', async () => {
      const r = await makeRule(admin, { name: 'Another' });
      expect(r).to.include({ name: 'Another', active: true, version: 1, rollout_percent: 100, snoozed_until: null });
      expect(r.created_by).to.equal(admin.userId);
      expect(r.alerts).to.deep.equal({ failure_rate_percent: null, no_runs_hours: null });
    });
    it('answers 400 naming the bad condition by group and index', async () => {
      const res = await admin.call('POST', '/api/automation/rules', {
        body: ruleBody({ conditions: { all: [{ field: 'conversation.channel', op: 'equals', value: 'whatsapp' }, { field: 'conversation.colour', op: 'equals', value: 'x' }], any: [] } }),
      });
      expect(res.status).to.equal(400);
      expect(res.body.message).to.include('conditions.all[1]').and.include('unknown field');
    });
    it('refuses a regex RE2 cannot run (a backreference), naming the condition', async () => {
      const res = await admin.call('POST', '/api/automation/rules', { body: ruleBody({ conditions: { all: [], any: [{ field: 'message.text', op: 'regex', value: '(a)\\1' }] } }) });
      expect(res.status).to.equal(400);
      expect(res.body.message).to.include('conditions.any[0]').and.include('RE2');
    });
    it('answers 400 naming the bad action parameter by index', async () => {
      const res = await admin.call('POST', '/api/automation/rules', { body: ruleBody({ actions: [{ type: 'add_tags', params: { tags: ['ok'] } }, { type: 'set_status', params: { status: 'sleeping' } }] }) });
      expect(res.status).to.equal(400);
      expect(res.body.message).to.match(/actions\.1\.params\.status/);
    });
    it('answers 422 naming an action whose agent is not in the organization', async () => {
      const res = await admin.call('POST', '/api/automation/rules', { body: ruleBody({ actions: [{ type: 'assign_agent', params: { agent_id: other.userId } }] }) });
      expect(res.status).to.equal(422);
      expect(res.body.message).to.include('actions[0]');
    });
    itChecksAccess('POST', () => '/api/automation/rules', 'automation.manage', () => admin, { body: ruleBody() });
  });

  describe('GET /api/automation/rules', () => {
    it('lists the organization’s rules only', async () => {
      const res = await admin.call('GET', '/api/automation/rules?limit=100');
      expect(res.status).to.equal(200);
      const ids = res.body.data.map((r: any) => r.id);
      expect(ids).to.include(rule.id).and.not.include(otherRule.id);
    });
    it('answers 400 for a bad limit', async () => {
      expect((await admin.call('GET', '/api/automation/rules?limit=0')).status).to.equal(400);
    });
    itChecksAccess('GET', () => '/api/automation/rules', 'automation.view', () => admin);
  });

  describe('GET/PATCH/DELETE /api/automation/rules/{id}', () => {
    it('reads a rule; another organization’s is 404', async () => {
      expect((await admin.call('GET', `/api/automation/rules/${rule.id}`)).body.id).to.equal(rule.id);
      expect((await admin.call('GET', `/api/automation/rules/${otherRule.id}`)).status).to.equal(404);
      expect((await admin.call('GET', '/api/automation/rules/not-a-uuid')).status).to.equal(400);
    });
    it('updates with the version read and refuses a stale one with 409', async () => {
      const r = await makeRule(admin);
      const ok = await admin.call('PATCH', `/api/automation/rules/${r.id}`, { body: { name: 'Renamed', version: 1 } });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(ok.body).to.include({ name: 'Renamed', version: 2 });
      const stale = await admin.call('PATCH', `/api/automation/rules/${r.id}`, { body: { name: 'Again', version: 1 } });
      expect(stale.status).to.equal(409);
      expect((await admin.call('PATCH', `/api/automation/rules/${r.id}`, { body: {} })).status).to.equal(400);
      expect((await admin.call('PATCH', `/api/automation/rules/${otherRule.id}`, { body: { name: 'x' } })).status).to.equal(404);
    });
    it('deletes a rule, which then answers 404 and leaves the list', async () => {
      const r = await makeRule(admin);
      expect((await admin.call('DELETE', `/api/automation/rules/${r.id}`)).status).to.equal(200);
      expect((await admin.call('GET', `/api/automation/rules/${r.id}`)).status).to.equal(404);
      expect((await admin.call('DELETE', `/api/automation/rules/${otherRule.id}`)).status).to.equal(404);
      expect((await admin.call('DELETE', '/api/automation/rules/nope')).status).to.equal(400);
    });
    itChecksAccess('GET', () => `/api/automation/rules/${rule.id}`, 'automation.view', () => admin);
    itChecksAccess('PATCH', () => `/api/automation/rules/${rule.id}`, 'automation.manage', () => admin, { body: { name: 'x' } });
    itChecksAccess('DELETE', () => `/api/automation/rules/${rule.id}`, 'automation.manage', () => admin);
  });

  describe('POST /api/automation/rules/{id}/toggle', () => {
    it('flips active and explains it in the state', async () => {
      const r = await makeRule(admin);
      const off = await admin.call('POST', `/api/automation/rules/${r.id}/toggle`);
      expect(off.body).to.include({ active: false, version: 2 });
      const state = await admin.call('GET', `/api/automation/rules/${r.id}/state`);
      expect(state.body.would_run).to.equal(false);
      expect(state.body.reasons.map((x: any) => x.reason)).to.deep.equal(['disabled']);
      expect((await admin.call('POST', `/api/automation/rules/${r.id}/toggle`)).body.active).to.equal(true);
      expect((await admin.call('POST', `/api/automation/rules/${otherRule.id}/toggle`)).status).to.equal(404);
      expect((await admin.call('POST', '/api/automation/rules/x/toggle')).status).to.equal(400);
    });
    itChecksAccess('POST', () => `/api/automation/rules/${rule.id}/toggle`, 'automation.manage', () => admin);
  });

  describe('snooze, snooze many, unsnooze, snoozed list', () => {
    it('snoozes until a time, lists it, explains it, and unsnoozes', async () => {
      const r = await makeRule(admin);
      const until = future();
      const res = await admin.call('POST', `/api/automation/rules/${r.id}/snooze`, { body: { until } });
      expect(res.status).to.equal(200);
      expect(res.body.snoozed_until).to.equal(until);
      const listed = await admin.call('GET', '/api/automation/rules/snoozed?limit=100');
      expect(listed.body.data.map((x: any) => x.id)).to.include(r.id);
      const state = await admin.call('GET', `/api/automation/rules/${r.id}/state`);
      expect(state.body.reasons.map((x: any) => x.reason)).to.include('snoozed');
      expect((await admin.call('POST', `/api/automation/rules/${r.id}/unsnooze`)).body.snoozed_until).to.equal(null);
      expect((await admin.call('POST', `/api/automation/rules/${r.id}/unsnooze`)).status).to.equal(422);
    });
    it('answers 400 for a time in the past or missing, and 404 for another organization’s rule', async () => {
      expect((await admin.call('POST', `/api/automation/rules/${rule.id}/snooze`, { body: { until: new Date(Date.now() - 1000).toISOString() } })).status).to.equal(400);
      expect((await admin.call('POST', `/api/automation/rules/${rule.id}/snooze`, { body: {} })).status).to.equal(400);
      expect((await admin.call('POST', `/api/automation/rules/${otherRule.id}/snooze`, { body: { until: future() } })).status).to.equal(404);
      expect((await admin.call('POST', `/api/automation/rules/${otherRule.id}/unsnooze`)).status).to.equal(404);
    });
    it('snoozes many; another organization’s ids are not found and stay unsnoozed', async () => {
      const [a, b] = [await makeRule(admin), await makeRule(admin)];
      const res = await admin.call('POST', '/api/automation/rules/snooze', { body: { rule_ids: [a.id, b.id, otherRule.id], until: future() } });
      expect(res.status).to.equal(200);
      expect(res.body.snoozed.map((x: any) => x.id)).to.have.members([a.id, b.id]);
      expect(res.body.not_found).to.deep.equal([otherRule.id]);
      expect((await other.call('GET', `/api/automation/rules/${otherRule.id}`)).body.snoozed_until).to.equal(null);
      expect((await admin.call('POST', '/api/automation/rules/snooze', { body: { rule_ids: [], until: future() } })).status).to.equal(400);
    });
    it('the snoozed list answers 400 for a bad page', async () => {
      expect((await admin.call('GET', '/api/automation/rules/snoozed?page=0')).status).to.equal(400);
    });
    itChecksAccess('POST', () => `/api/automation/rules/${rule.id}/snooze`, 'automation.manage', () => admin, { body: { until: future() } });
    itChecksAccess('POST', () => `/api/automation/rules/${rule.id}/unsnooze`, 'automation.manage', () => admin);
    itChecksAccess('POST', () => '/api/automation/rules/snooze', 'automation.manage', () => admin, { body: { rule_ids: [SOME_ID], until: future() } });
    itChecksAccess('GET', () => '/api/automation/rules/snoozed', 'automation.view', () => admin);
  });

  describe('alerts, rollout, schedule, preview, state', () => {
    it('sets alert thresholds, keeping what is not sent', async () => {
      const r = await makeRule(admin);
      await admin.call('PATCH', `/api/automation/rules/${r.id}/alerts`, { body: { failure_rate_percent: 20 } });
      const res = await admin.call('PATCH', `/api/automation/rules/${r.id}/alerts`, { body: { no_runs_hours: 6 } });
      expect(res.body.alerts).to.deep.equal({ failure_rate_percent: 20, no_runs_hours: 6 });
      expect((await admin.call('PATCH', `/api/automation/rules/${r.id}/alerts`, { body: { failure_rate_percent: 120 } })).status).to.equal(400);
      expect((await admin.call('PATCH', `/api/automation/rules/${otherRule.id}/alerts`, { body: { no_runs_hours: 1 } })).status).to.equal(404);
    });
    it('sets rollout; the same conversation always falls on the same side', async () => {
      const r = await makeRule(admin);
      expect((await admin.call('PATCH', `/api/automation/rules/${r.id}/rollout`, { body: { rollout_percent: 50 } })).body.rollout_percent).to.equal(50);
      expect((await admin.call('PATCH', `/api/automation/rules/${r.id}/rollout`, { body: { rollout_percent: 101 } })).status).to.equal(400);
      expect((await admin.call('PATCH', `/api/automation/rules/${otherRule.id}/rollout`, { body: { rollout_percent: 1 } })).status).to.equal(404);
      const sides = new Map<string, boolean>();
      for (let i = 0; i < 40; i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        const a = await admin.call('GET', `/api/automation/rules/${r.id}/state?conversation_id=${id}`);
        const b = await admin.call('GET', `/api/automation/rules/${r.id}/state?conversation_id=${id}`);
        expect(a.body.in_rollout).to.equal(b.body.in_rollout);
        sides.set(id, a.body.in_rollout);
        if (!a.body.in_rollout) expect(a.body.reasons.map((x: any) => x.reason)).to.include('rollout');
      }
      // 40 conversations at 50%: both sides are taken (a fixed answer would fail this).
      expect(new Set(sides.values()).size).to.equal(2);
    });
    it('sets schedule windows in a zone, previews the next ones there, and says when now is outside', async () => {
      const r = await makeRule(admin);
      // A one-minute window on every day, 12 hours from now in Jakarta: now is outside it.
      const { DateTime } = await import('luxon');
      const at = DateTime.now().setZone('Asia/Jakarta').plus({ hours: 12 });
      const start = at.toFormat('HH:mm');
      const end = at.plus({ minutes: 1 }).toFormat('HH:mm');
      const set = await admin.call('PATCH', `/api/automation/rules/${r.id}/schedule`, { body: { schedule: { windows: [{ days: [1, 2, 3, 4, 5, 6, 7], start, end }], time_zone: 'Asia/Jakarta' } } });
      expect(set.status, JSON.stringify(set.body)).to.equal(200);
      const preview = await admin.call('GET', `/api/automation/rules/${r.id}/schedule/preview?count=3`);
      expect(preview.status).to.equal(200);
      expect(preview.body.time_zone).to.equal('Asia/Jakarta');
      expect(preview.body.windows).to.have.length(3);
      expect(preview.body.windows[0].start).to.match(new RegExp(`T${start}:00\\.000\\+07:00$`));
      expect(Date.parse(preview.body.windows[1].start) - Date.parse(preview.body.windows[0].start)).to.equal(86_400_000);
      const state = await admin.call('GET', `/api/automation/rules/${r.id}/state`);
      expect(state.body).to.include({ would_run: false, in_window: false });
      expect(state.body.reasons.map((x: any) => x.reason)).to.deep.equal(['outside_window']);
      expect(state.body.next_window.start).to.equal(preview.body.windows[0].start);
      expect((await admin.call('PATCH', `/api/automation/rules/${r.id}/schedule`, { body: { schedule: { windows: [{ days: [8], start: '09:00', end: '17:00' }] } } })).status).to.equal(400);
      expect((await admin.call('PATCH', `/api/automation/rules/${r.id}/schedule`, { body: { schedule: { windows: [{ days: [1], start: '9am', end: '17:00' }] } } })).body.message).to.include('HH:mm');
      expect((await admin.call('PATCH', `/api/automation/rules/${otherRule.id}/schedule`, { body: { schedule: null } })).status).to.equal(404);
      expect((await admin.call('GET', `/api/automation/rules/${otherRule.id}/schedule/preview`)).status).to.equal(404);
      expect((await admin.call('GET', `/api/automation/rules/${r.id}/schedule/preview?count=0`)).status).to.equal(400);
      expect((await admin.call('GET', `/api/automation/rules/${rule.id}/schedule/preview`)).status).to.equal(422);
    });
    it('state answers 404 for another organization’s rule and 400 for a bad conversation id', async () => {
      expect((await admin.call('GET', `/api/automation/rules/${otherRule.id}/state`)).status).to.equal(404);
      expect((await admin.call('GET', `/api/automation/rules/${rule.id}/state?conversation_id=x`)).status).to.equal(400);
    });
    itChecksAccess('PATCH', () => `/api/automation/rules/${rule.id}/alerts`, 'automation.manage', () => admin, { body: { no_runs_hours: 2 } });
    itChecksAccess('PATCH', () => `/api/automation/rules/${rule.id}/rollout`, 'automation.manage', () => admin, { body: { rollout_percent: 10 } });
    itChecksAccess('PATCH', () => `/api/automation/rules/${rule.id}/schedule`, 'automation.manage', () => admin, { body: { schedule: null } });
    itChecksAccess('GET', () => `/api/automation/rules/${rule.id}/schedule/preview`, 'automation.view', () => admin);
    itChecksAccess('GET', () => `/api/automation/rules/${rule.id}/state`, 'automation.view', () => admin);
  });

  describe('POST /api/automation/rules/dry-run', () => {
    it('evaluates a stored rule against a payload: each condition with the value seen, the actions it would take, nothing recorded', async () => {
      const r = await makeRule(admin, {
        conditions: { all: [{ field: 'conversation.channel', op: 'equals', value: 'whatsapp' }], any: [{ field: 'message.text', op: 'regex', value: '(?i)refund|retur' }, { field: 'contact.tags', op: 'contains', value: 'vip' }] },
        actions: [{ type: 'add_tags', params: { tags: ['refund'] } }, { type: 'set_status', params: { status: 'pending' } }],
      });
      const res = await admin.call('POST', '/api/automation/rules/dry-run', { body: { rule_id: r.id, payload: { conversation: { channel: 'whatsapp' }, message: { text: 'Saya mau REFUND' }, contact: { tags: [] } } } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.matched).to.equal(true);
      expect(res.body.conditions.map((c: any) => [c.field, c.actual, c.result])).to.deep.equal([
        ['conversation.channel', 'whatsapp', true],
        ['message.text', 'Saya mau REFUND', true],
        ['contact.tags', [], false],
      ]);
      expect(res.body.actions.map((a: any) => a.type)).to.deep.equal(['add_tags', 'set_status']);
      expect(res.body.state.would_run).to.equal(true);
      expect(await automationRuns.count({ tenant_id: admin.tenantId, rule_id: r.id })).to.equal(0);
      const miss = await admin.call('POST', '/api/automation/rules/dry-run', { body: { rule_id: r.id, payload: { conversation: { channel: 'email' }, message: { text: 'refund' } } } });
      expect(miss.body).to.include({ matched: false });
      expect(miss.body.actions).to.deep.equal([]);
    });
    it('evaluates a rule given in the body, and validates it', async () => {
      const res = await admin.call('POST', '/api/automation/rules/dry-run', {
        body: { rule: { conditions: { all: [{ field: 'conversation.minutes_since_last_customer_message', op: 'gt', value: 30 }] }, actions: [{ type: 'send_message', params: { text: 'Masih di sana?' } }] }, event_type: 'conversation.updated', payload: { conversation: { minutes_since_last_customer_message: 45 } } },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ rule_id: null, matched: true, event_type: 'conversation.updated' });
      const bad = await admin.call('POST', '/api/automation/rules/dry-run', { body: { rule: { conditions: { all: [{ field: 'nope', op: 'equals', value: 1 }] } }, payload: {} } });
      expect(bad.status).to.equal(400);
      expect(bad.body.message).to.include('conditions.all[0]');
      expect((await admin.call('POST', '/api/automation/rules/dry-run', { body: { payload: {} } })).status).to.equal(400);
      expect((await admin.call('POST', '/api/automation/rules/dry-run', { body: { rule_id: otherRule.id, payload: {} } })).status).to.equal(404);
    });
    itChecksAccess('POST', () => '/api/automation/rules/dry-run', 'automation.manage', () => admin, { body: { rule_id: SOME_ID, payload: {} } });
  });

  describe('GET/PATCH /api/automation/control', () => {
    it('answers the defaults, then what was set, per organization', async () => {
      const before = await admin.call('GET', '/api/automation/control');
      expect(before.body).to.include({ paused: false, dry_run: false, max_chain_depth: 3 });
      const set = await admin.call('PATCH', '/api/automation/control', { body: { dry_run: true, max_actions_per_minute: 50 } });
      expect(set.status).to.equal(200);
      expect(set.body).to.include({ dry_run: true, max_actions_per_minute: 50, paused: false, updated_by: admin.userId });
      expect((await other.call('GET', '/api/automation/control')).body.dry_run).to.equal(false);
      await admin.call('PATCH', '/api/automation/control', { body: { dry_run: false, paused: true } });
      const state = await admin.call('GET', `/api/automation/rules/${rule.id}/state`);
      expect(state.body.reasons.map((x: any) => x.reason)).to.include('global_pause');
      await admin.call('PATCH', '/api/automation/control', { body: { paused: false } });
    });
    it('answers 400 for unknown or out-of-range fields', async () => {
      expect((await admin.call('PATCH', '/api/automation/control', { body: { max_chain_depth: 0 } })).status).to.equal(400);
      expect((await admin.call('PATCH', '/api/automation/control', { body: { turbo: true } })).status).to.equal(400);
      expect((await admin.call('PATCH', '/api/automation/control', { body: {} })).status).to.equal(400);
    });
    itChecksAccess('GET', () => '/api/automation/control', 'automation.view', () => admin);
    itChecksAccess('PATCH', () => '/api/automation/control', 'automation.manage', () => admin, { body: { paused: false } });
  });
});
