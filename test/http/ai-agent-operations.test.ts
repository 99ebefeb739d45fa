/**
 * AI agent operations over real HTTP: assignments, handoff rules, orchestration rules,
 * evaluations and usage, each endpoint's success, 400, 401, 403 and 404 (another tenant's AI
 * agent, or a child of another AI agent), and `/api/ai-agents/usage/summary` answered as the
 * summary, never as an AI agent id.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { addUsage } from '../../src/models/ai-usage.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, type TestSession } from '../support/session.js';
import { createAiAgent } from '../ai-conversations/support.js';

type Kind = 'assignments' | 'handoff-rules' | 'orchestration-rules';

describe('AI agent operations', () => {
  let s: TestSession;
  let other: TestSession;
  let agentId: string;
  let secondAgentId: string;
  let foreignAgentId: string;
  let divisionId: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    agentId = await createAiAgent(s, 'Asisten Toko');
    secondAgentId = await createAiAgent(s, 'Asisten Retur');
    foreignAgentId = await createAiAgent(other, 'Asisten Lain');
    const division = await s.call('POST', '/api/divisions', { body: { name: 'Customer Service' } });
    expect(division.status, JSON.stringify(division.body)).to.equal(201);
    divisionId = division.body.id;
  });

  const validBody = (kind: Kind): Record<string, unknown> =>
    kind === 'assignments'
      ? { channels: ['whatsapp'], division_ids: [divisionId], hours: 'working_hours', priority: 5 }
      : kind === 'handoff-rules'
        ? { name: 'Minta manusia', trigger: 'human_request', to_division_id: divisionId, handoff_message: 'Sebentar ya kak, kami sambungkan ke CS kami.' }
        : { name: 'Retur ke asisten retur', intents: ['refund'], target_ai_agent_id: secondAgentId };

  const create = async (kind: Kind, body = validBody(kind), id = agentId) => {
    const res = await s.call('POST', `/api/ai-agents/${id}/${kind}`, { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  };

  for (const kind of ['assignments', 'handoff-rules', 'orchestration-rules'] as const) {
    describe(`GET /api/ai-agents/{id}/${kind}`, () => {
      itChecksAccess('GET', () => `/api/ai-agents/${agentId}/${kind}`, 'ai_agents.view', () => s);
      it('lists the agent’s own, highest priority first', async () => {
        const low = await create(kind, { ...validBody(kind), priority: 1 });
        const high = await create(kind, { ...validBody(kind), priority: 9 });
        const res = await s.call('GET', `/api/ai-agents/${agentId}/${kind}`);
        expect(res.status).to.equal(200);
        const ids = (res.body as { id: string }[]).map((x) => x.id);
        expect(ids.indexOf(high.id)).to.be.lessThan(ids.indexOf(low.id));
        const second = await s.call('GET', `/api/ai-agents/${secondAgentId}/${kind}`);
        expect(second.body.map((x: { id: string }) => x.id)).to.not.include(high.id);
      });
      it('answers 400 for an id that is not a UUID, 404 for another tenant’s AI agent or an unknown one', async () => {
        expect((await s.call('GET', `/api/ai-agents/not-a-uuid/${kind}`)).status).to.equal(400);
        expect((await s.call('GET', `/api/ai-agents/${foreignAgentId}/${kind}`)).status).to.equal(404);
        expect((await s.call('GET', `/api/ai-agents/${randomUUID()}/${kind}`)).status).to.equal(404);
      });
    });

    describe(`POST /api/ai-agents/{id}/${kind}`, () => {
      itChecksAccess('POST', () => `/api/ai-agents/${agentId}/${kind}`, 'ai_agents.manage', () => s, { body: {} });
      it('creates one and answers it', async () => {
        const body = validBody(kind);
        const created = await create(kind, body);
        expect(created).to.include({ ai_agent_id: agentId, is_active: true });
        for (const [k, v] of Object.entries(body)) expect(created[k], k).to.deep.equal(v);
      });
      it('answers 400 naming the field for a bad body', async () => {
        const res = await s.call('POST', `/api/ai-agents/${agentId}/${kind}`, { body: { ...validBody(kind), priority: 'high' } });
        expect(res.status).to.equal(400);
        expect(res.body.details[0].field).to.equal('priority');
      });
      it('answers 404 for another tenant’s AI agent', async () => {
        expect((await s.call('POST', `/api/ai-agents/${foreignAgentId}/${kind}`, { body: validBody(kind) })).status).to.equal(404);
      });
    });

    const childPath = (id: string, childId: string) => `/api/ai-agents/${id}/${kind}/${childId}`;
    describe(`PUT /api/ai-agents/{id}/${kind}/{childId}`, () => {
      itChecksAccess('PUT', () => childPath(agentId, randomUUID()), 'ai_agents.manage', () => s, { body: { priority: 1 } });
      it('changes the fields given, keeping the others', async () => {
        const created = await create(kind);
        const res = await s.call('PUT', childPath(agentId, created.id), { body: { priority: 42, is_active: false } });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ id: created.id, priority: 42, is_active: false });
        const { priority: _p, is_active: _a, updated_at: _u, ...unchanged } = created;
        expect(res.body).to.deep.include(unchanged);
      });
      it('answers 400 for an empty or bad body', async () => {
        const created = await create(kind);
        expect((await s.call('PUT', childPath(agentId, created.id), { body: {} })).status).to.equal(400);
        expect((await s.call('PUT', childPath(agentId, created.id), { body: { unknown_field: 1 } })).status).to.equal(400);
      });
      it('answers 404 for another agent’s child, another tenant’s agent, an unknown id', async () => {
        const created = await create(kind);
        expect((await s.call('PUT', childPath(secondAgentId, created.id), { body: { priority: 1 } })).status).to.equal(404);
        expect((await other.call('PUT', childPath(agentId, created.id), { body: { priority: 1 } })).status).to.equal(404);
        expect((await s.call('PUT', childPath(agentId, randomUUID()), { body: { priority: 1 } })).status).to.equal(404);
      });
    });

    describe(`DELETE /api/ai-agents/{id}/${kind}/{childId}`, () => {
      itChecksAccess('DELETE', () => childPath(agentId, randomUUID()), 'ai_agents.manage', () => s);
      it('deletes it; a second delete is 404', async () => {
        const created = await create(kind);
        expect((await s.call('DELETE', childPath(agentId, created.id))).status).to.equal(200);
        expect((await s.call('DELETE', childPath(agentId, created.id))).status).to.equal(404);
        const list = await s.call('GET', `/api/ai-agents/${agentId}/${kind}`);
        expect(list.body.map((x: { id: string }) => x.id)).to.not.include(created.id);
      });
      it('answers 400 for a bad id and 404 for another tenant’s', async () => {
        const created = await create(kind);
        expect((await s.call('DELETE', childPath(agentId, 'nope'))).status).to.equal(400);
        expect((await other.call('DELETE', childPath(agentId, created.id))).status).to.equal(404);
        expect((await s.call('GET', `/api/ai-agents/${agentId}/${kind}`)).body.map((x: { id: string }) => x.id)).to.include(created.id);
      });
    });
  }

  describe('what the rules point at', () => {
    it('assignments: accounts and divisions must be the organization’s', async () => {
      const foreignDivision = await other.call('POST', '/api/divisions', { body: { name: 'Sales' } });
      const res = await s.call('POST', `/api/ai-agents/${agentId}/assignments`, { body: { division_ids: [foreignDivision.body.id] } });
      expect(res.status).to.equal(400);
      expect(res.body.details[0]).to.include({ field: 'division_ids' });
      const accounts = await s.call('POST', `/api/ai-agents/${agentId}/assignments`, { body: { account_ids: [randomUUID()] } });
      expect(accounts.status).to.equal(400);
      expect(accounts.body.details[0]).to.include({ field: 'account_ids' });
    });

    it('handoff rules: a target is required and checked like a transfer’s; a keyword rule needs keywords', async () => {
      const path = `/api/ai-agents/${agentId}/handoff-rules`;
      const noTarget = await s.call('POST', path, { body: { name: 'x', trigger: 'human_request' } });
      expect(noTarget.status).to.equal(400);
      expect(noTarget.body.details[0].field).to.equal('to_division_id');
      const unknownAgent = await s.call('POST', path, { body: { name: 'x', trigger: 'human_request', to_agent_id: randomUUID() } });
      expect(unknownAgent.status).to.equal(400);
      expect(unknownAgent.body.details[0].field).to.equal('to_agent_id');
      const noKeywords = await s.call('POST', path, { body: { name: 'x', trigger: 'keyword', to_division_id: divisionId } });
      expect(noKeywords.status).to.equal(400);
      expect(noKeywords.body.details[0].field).to.equal('keywords');
      const rule = await create('handoff-rules', { name: 'Refund', trigger: 'keyword', keywords: ['refund', ' uang kembali '], to_division_id: divisionId });
      expect(rule.keywords).to.deep.equal(['refund', 'uang kembali']);
      expect((await s.call('PUT', `${path}/${rule.id}`, { body: { keywords: [] } })).status).to.equal(400);
      const badTrigger = await s.call('POST', path, { body: { name: 'x', trigger: 'moon_phase', to_division_id: divisionId } });
      expect(badTrigger.status).to.equal(400);
      expect(badTrigger.body.details[0].field).to.equal('trigger');
    });

    it('orchestration rules: another live AI agent of the organization, and at least one condition', async () => {
      const path = `/api/ai-agents/${agentId}/orchestration-rules`;
      const self = await s.call('POST', path, { body: { name: 'x', keywords: ['a'], target_ai_agent_id: agentId } });
      expect(self.status).to.equal(400);
      expect(self.body.details[0].field).to.equal('target_ai_agent_id');
      const foreign = await s.call('POST', path, { body: { name: 'x', keywords: ['a'], target_ai_agent_id: foreignAgentId } });
      expect(foreign.status).to.equal(400);
      const none = await s.call('POST', path, { body: { name: 'x', target_ai_agent_id: secondAgentId } });
      expect(none.status).to.equal(400);
      expect(none.body.details[0].field).to.equal('keywords');
      const badIntent = await s.call('POST', path, { body: { name: 'x', intents: ['astrology'], target_ai_agent_id: secondAgentId } });
      expect(badIntent.status).to.equal(400);
    });
  });

  describe('usage', () => {
    const day = (offset: number) => DateTime.now().setZone('Asia/Jakarta').plus({ days: offset }).toISODate() as string;
    before(async () => {
      // Counted the way the AI-replies listener counts: once per event seq.
      await addUsage(s.tenantId, agentId, day(-1), 1, { replies: 3, tokens_in: 120, tokens_out: 40 });
      await addUsage(s.tenantId, agentId, day(0), 2, { replies: 1, handoffs: 1 });
      await addUsage(s.tenantId, agentId, day(0), 2, { replies: 100 });
      await addUsage(s.tenantId, secondAgentId, day(0), 3, { no_answers: 2 });
      await addUsage(other.tenantId, foreignAgentId, day(0), 1, { replies: 50 });
      const tz = await s.call('PUT', '/api/settings/timezone', { body: { timezone: 'Asia/Jakarta' } });
      expect(tz.status, JSON.stringify(tz.body)).to.equal(200);
    });

    describe('GET /api/ai-agents/{id}/usage', () => {
      itChecksAccess('GET', () => `/api/ai-agents/${agentId}/usage`, 'ai_agents.view', () => s);
      it('lists every day of the range in the tenant’s zone, zeros included, with totals; a replayed seq counts once', async () => {
        const res = await s.call('GET', `/api/ai-agents/${agentId}/usage?from=${day(-2)}&to=${day(0)}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ ai_agent_id: agentId, timezone: 'Asia/Jakarta', from: day(-2), to: day(0) });
        expect(res.body.days.map((d: { date: string }) => d.date)).to.deep.equal([day(-2), day(-1), day(0)]);
        expect(res.body.days[0]).to.include({ replies: 0, handoffs: 0 });
        expect(res.body.days[1]).to.include({ replies: 3, tokens_in: 120, tokens_out: 40 });
        expect(res.body.totals).to.deep.equal({ replies: 4, handoffs: 1, no_answers: 0, tokens_in: 120, tokens_out: 40 });
        const defaults = await s.call('GET', `/api/ai-agents/${agentId}/usage`);
        expect(defaults.body.days).to.have.length(30);
        expect(defaults.body.to).to.equal(day(0));
      });
      it('answers 400 for a bad date, a reversed or too long range', async () => {
        expect((await s.call('GET', `/api/ai-agents/${agentId}/usage?from=yesterday`)).status).to.equal(400);
        expect((await s.call('GET', `/api/ai-agents/${agentId}/usage?from=${day(0)}&to=${day(-3)}`)).status).to.equal(400);
        expect((await s.call('GET', `/api/ai-agents/${agentId}/usage?from=2020-01-01&to=${day(0)}`)).status).to.equal(400);
        expect((await s.call('GET', `/api/ai-agents/${agentId}/usage?bogus=1`)).status).to.equal(400);
      });
      it('answers 404 for another tenant’s AI agent', async () => {
        expect((await s.call('GET', `/api/ai-agents/${foreignAgentId}/usage`)).status).to.equal(404);
      });
    });

    describe('GET /api/ai-agents/usage/summary', () => {
      itChecksAccess('GET', () => '/api/ai-agents/usage/summary', 'ai_agents.view', () => s);
      it('answers the tenant’s totals per agent, busiest first, and nothing of other tenants', async () => {
        const res = await s.call('GET', `/api/ai-agents/usage/summary?from=${day(-6)}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body.totals).to.deep.equal({ replies: 4, handoffs: 1, no_answers: 2, tokens_in: 120, tokens_out: 40 });
        expect(res.body.agents.map((a: { ai_agent_id: string }) => a.ai_agent_id)).to.deep.equal([agentId, secondAgentId]);
        expect(res.body.agents[0]).to.include({ name: 'Asisten Toko', replies: 4 });
        const foreign = await other.call('GET', '/api/ai-agents/usage/summary');
        expect(foreign.body.totals.replies).to.equal(50);
      });
      it('answers 400 for a bad range', async () => {
        expect((await s.call('GET', '/api/ai-agents/usage/summary?to=31-12-2026')).status).to.equal(400);
      });
    });
  });
});
