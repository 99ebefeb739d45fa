/**
 * Automation actions through the worker on a real WhatsApp conversation: assign, tags, private
 * note, transfer, status, WhatsApp template at the fake Graph API, an outgoing webhook call
 * (signed, at a local receiver), hand to the AI and back, snooze; each in the activity log as
 * the rule's. And the 24-hour window: a free-form reply long after the customer's last message
 * fails, with the window's reason on the run.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { automationEvents } from '../../src/models/automation-event.js';
import { automationRuns, type AutomationRun } from '../../src/models/automation-run.js';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { notes } from '../../src/models/note.js';
import { AI_HANDLING_TAG, wakeSnoozedConversations } from '../../src/services/automation-actions.js';
import { queueScheduledRules } from '../../src/services/automation-worker.js';
import { fakeGraph } from '../setup.js';
import { createAgent, createSession, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, startConversation, until } from '../support/whatsapp.js';

/**
 * Starts the rule with a real change (an agent tags the conversation: conversation.updated through
 * the listener and the server's worker); answers the rule's run on it.
 */
async function runOn(s: TestSession, conversationId: string, ruleId: string): Promise<AutomationRun> {
  expect((await s.call('PATCH', `/api/conversations/${conversationId}/tags`, { body: { add: ['go'] } })).status).to.equal(200);
  return until(async () => (await automationRuns.find({ tenant_id: s.tenantId, rule_id: ruleId })).find((r) => r.finished_at && r.matched), 'the run', 15_000);
}

/** A local HTTP receiver for outgoing-webhook calls; records each request. */
async function startReceiver() {
  const received: { headers: http.IncomingHttpHeaders; raw: string }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  return { received, receiver, hookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` };
}

async function rule(s: TestSession, actions: unknown[]): Promise<string> {
  const res = await s.call('POST', '/api/automation/rules', { body: { name: `r-${randomUUID().slice(0, 6)}`, trigger: { events: ['conversation.updated'] }, conditions: { all: [{ field: 'conversation.tags', op: 'contains', value: 'go' }], any: [] }, actions } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id;
}

describe('Automation actions', () => {
  it('assign, tags, note, transfer, template, webhook, AI hand-offs and snooze, each attributed to the rule', async () => {
    const s = await createSession();
    const wa = await connectWhatsapp(s);
    acceptSends(wa);
    const agent = await createAgent(s, 'Sari');
    const vip = await s.call('POST', '/api/divisions', { body: { name: 'VIP' } });
    expect(vip.status).to.equal(201);
    const { received, receiver, hookUrl } = await startReceiver();
    try {
      const hook = await s.call('POST', '/api/outgoing-webhooks', { body: { name: 'supervisor', url: hookUrl, events: ['csat.submitted'] } });
      expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
      const { conversationId } = await startConversation(s, wa);
      const ruleId = await rule(s, [
        { type: 'assign_agent', params: { agent_id: agent.id } },
        { type: 'add_tags', params: { tags: ['vip', 'temp'] } },
        { type: 'remove_tags', params: { tags: ['temp'] } },
        { type: 'add_note', params: { body: 'VIP customer: answer within 5 minutes' } },
        { type: 'transfer', params: { division_id: vip.body.id, reason: 'VIP routing' } },
        { type: 'send_template', params: { name: 'order_update', language: 'en_US' } },
        { type: 'call_webhook', params: { webhook_id: hook.body.id, payload: { severity: 'high' } } },
        { type: 'hand_to_ai', params: {} },
        { type: 'hand_to_human', params: {} },
        { type: 'snooze_conversation', params: { minutes: 30 } },
      ]);
      const run = await runOn(s, conversationId, ruleId);
      expect(run.actions.map((a) => [a.type, a.status, a.error])).to.deep.equal([
        ['assign_agent', 'ok', null],
        ['add_tags', 'ok', null],
        ['remove_tags', 'ok', null],
        ['add_note', 'ok', null],
        ['transfer', 'ok', null],
        ['send_template', 'ok', null],
        ['call_webhook', 'ok', null],
        ['hand_to_ai', 'ok', null],
        ['hand_to_human', 'ok', null],
        ['snooze_conversation', 'ok', null],
      ]);
      const c = await conversations.findOwned(s.tenantId, conversationId);
      expect(c.division_id).to.equal(vip.body.id);
      expect(c.tags).to.include('vip').and.not.include.members(['temp', AI_HANDLING_TAG]);
      expect(c.status).to.equal('pending');
      const [note] = await notes.find({ tenant_id: s.tenantId, conversation_id: conversationId });
      expect(note?.body).to.equal('VIP customer: answer within 5 minutes');
      const template = (await messages.find({ tenant_id: s.tenantId, conversation_id: conversationId, direction: 'outbound' })).find((m) => m.type === 'template');
      expect(template, 'the template message').to.not.equal(undefined);
      expect(fakeGraph().requests.some((r) => r.path === `/v21.0/${wa.phoneNumberId}/messages` && (r.json as any)?.template?.name === 'order_update')).to.equal(true);
      const call = received.find((r) => r.headers['x-omnistream-event'] === 'automation.action');
      expect(call, 'the webhook call').to.not.equal(undefined);
      const body = JSON.parse(call?.raw ?? '{}');
      expect(body.data.rule.id).to.equal(ruleId);
      expect(body.data.params).to.deep.equal({ severity: 'high' });
      expect(String(call?.headers['x-omnistream-signature'])).to.match(/^t=\d+,v1=[0-9a-f]{64}$/);
      const log = await s.call('GET', '/api/activity-logs?limit=100');
      const ours = (log.body.data as any[]).filter((e) => String(e.action).startsWith('automation.'));
      expect(ours.map((e) => e.action)).to.have.length(10);
      expect(ours.every((e) => e.details?.changes?.rule_id === ruleId && e.actor?.type === 'system')).to.equal(true);
      // The rule ran once: the events its own actions caused do not start it again.
      await until(async () => (await automationEvents.count({ tenant_id: s.tenantId, state: { $in: ['pending', 'processing'] } })) === 0, 'the queue to settle', 15_000);
      expect(await automationRuns.count({ tenant_id: s.tenantId, rule_id: ruleId, matched: true })).to.equal(1);
      // Snoozed for 30 minutes: the sweep opens it again once they are over, not before.
      expect(await wakeSnoozedConversations(new Date(Date.now() + 29 * 60_000))).to.equal(0);
      expect(await wakeSnoozedConversations(new Date(Date.now() + 31 * 60_000))).to.be.greaterThan(0);
      expect((await conversations.findOwned(s.tenantId, conversationId)).status).to.equal('open');
    } finally {
      receiver.close();
    }
  });

  it('a free-form reply outside the 24-hour window fails with the window’s reason', async () => {
    const s = await createSession();
    const wa = await connectWhatsapp(s);
    acceptSends(wa);
    const { conversationId } = await startConversation(s, wa, { at: Math.floor(Date.now() / 1000) - 25 * 3600 });
    const ruleId = await rule(s, [{ type: 'send_message', params: { text: 'Halo lagi' } }, { type: 'add_tags', params: { tags: ['followed-up'] } }]);
    const run = await runOn(s, conversationId, ruleId);
    expect(run.actions.map((a) => [a.type, a.status])).to.deep.equal([
      ['send_message', 'failed'],
      ['add_tags', 'ok'],
    ]);
    expect(run.actions[0]?.error).to.match(/24/);
    expect(run.error).to.include('send_message');
  });

  it('a scheduled rule is queued once per slot and evaluated with no event', async () => {
    const s = await createSession();
    const { received, receiver, hookUrl } = await startReceiver();
    try {
      const hook = await s.call('POST', '/api/outgoing-webhooks', { body: { name: 'report', url: hookUrl, events: ['csat.submitted'] } });
      const res = await s.call('POST', '/api/automation/rules', {
        body: { name: 'hourly', trigger: { events: [], schedule: { every_minutes: 60 } }, conditions: { all: [{ field: 'tenant.within_working_hours', op: 'equals', value: false }], any: [] }, actions: [{ type: 'call_webhook', params: { webhook_id: hook.body.id } }] },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      const now = new Date();
      await queueScheduledRules(now);
      // The same slot again (another process's sweep) queues nothing.
      await queueScheduledRules(now);
      const run = await until(async () => (await automationRuns.find({ tenant_id: s.tenantId, rule_id: res.body.id })).find((r) => r.finished_at), 'the scheduled run', 15_000);
      expect(run.event_type).to.equal('automation.schedule');
      expect(run.actions.map((a) => [a.type, a.status])).to.deep.equal([['call_webhook', 'ok']]);
      expect(received.filter((r) => r.headers['x-omnistream-event'] === 'automation.action')).to.have.length(1);
      expect(await automationEvents.count({ tenant_id: s.tenantId, event_type: 'automation.schedule' })).to.equal(1);
    } finally {
      receiver.close();
    }
  });
});
