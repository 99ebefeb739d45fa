/**
 * The automation engine end to end: real WhatsApp webhooks into the fake Graph API, the durable
 * listener queueing items, the worker running rules through the conversation actor and the
 * shared send path, and what an agent's socket sees live. Also: a rule loop stopped at the
 * chain depth limit with the reason recorded, and two workers (separate process names) draining
 * the same queue without running any item twice.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { queueAutomationEvent } from '../../src/events/listeners/automation.js';
import type { DomainEvent } from '../../src/events/types.js';
import { automationEvents } from '../../src/models/automation-event.js';
import { automationRuns } from '../../src/models/automation-run.js';
import { conversations } from '../../src/models/conversation.js';
import { messages } from '../../src/models/message.js';
import { AutomationWorker } from '../../src/services/automation-worker.js';
import { baseUrl } from '../setup.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket, waitFor } from '../support/sockets.js';
import { acceptSends, connectWhatsapp, startConversation, until } from '../support/whatsapp.js';

async function createRule(s: TestSession, body: Record<string, unknown>): Promise<any> {
  const res = await s.call('POST', '/api/automation/rules', { body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}

/** True once the tenant's queue has nothing pending or processing. */
const queueSettled = async (tenantId: string) =>
  (await automationEvents.count({ tenant_id: tenantId, state: { $in: ['pending', 'processing'] } })) === 0;

describe('Automation engine', () => {
  describe('the night-shift rule', () => {
    it('replies to a new WhatsApp conversation outside working hours and moves it to the Night division, live on an agent’s socket', async () => {
      const admin = await createSession();
      const wa = await connectWhatsapp(admin);
      const sends = acceptSends(wa);
      const night = await admin.call('POST', '/api/divisions', { body: { name: 'Night' } });
      expect(night.status, JSON.stringify(night.body)).to.equal(201);
      // No working hours set: the organization is closed all week, so "now" is outside them.
      const hours = await admin.call('GET', '/api/working-hours/status');
      expect(hours.body.is_working_hours, JSON.stringify(hours.body)).to.equal(false);
      const rule = await createRule(admin, {
        name: 'Night shift',
        trigger: { events: ['conversation.created'] },
        conditions: { all: [{ field: 'conversation.channel', op: 'equals', value: 'whatsapp' }, { field: 'tenant.within_working_hours', op: 'equals', value: false }], any: [] },
        actions: [
          { type: 'send_message', params: { text: 'Terima kasih! Tim malam kami akan segera membalas.' } },
          { type: 'assign_division', params: { division_id: night.body.id } },
        ],
      });
      const socket = await openSocket(baseUrl(), { token: admin.token });
      try {
        const { conversationId } = await startConversation(admin, wa, { text: 'Halo, pesanan saya belum sampai' });
        const moved = await until(async () => {
          const c = await conversations.findOwned(admin.tenantId, conversationId);
          return c.division_id === night.body.id ? c : null;
        }, 'the conversation in the Night division');
        expect(moved.division_id).to.equal(night.body.id);
        const run = await until(async () => (await automationRuns.find({ tenant_id: admin.tenantId, rule_id: rule.id })).find((r) => r.finished_at), 'the run');
        expect(run.matched).to.equal(true);
        expect(run.conditions.map((c) => [c.field, c.actual, c.result])).to.deep.equal([
          ['conversation.channel', 'whatsapp', true],
          ['tenant.within_working_hours', false, true],
        ]);
        expect(run.actions.map((a) => [a.type, a.status, a.error])).to.deep.equal([
          ['send_message', 'ok', null],
          ['assign_division', 'ok', null],
        ]);
        const reply = await until(
          async () => (await messages.find({ tenant_id: admin.tenantId, conversation_id: conversationId, direction: 'outbound' }))[0],
          'the night-shift reply',
        );
        expect(reply.text).to.equal('Terima kasih! Tim malam kami akan segera membalas.');
        expect(reply.sender_type).to.equal('system');
        await until(async () => sends.length > 0, 'the reply at the Graph API');
        await waitFor(() => socket.named('conversation.transferred').some((e) => e.data.id === conversationId && e.data.division_id === night.body.id), 'conversation.transferred on the socket');
        await waitFor(() => socket.named('message.created').some((e) => e.data.id === reply._id), 'the reply on the socket');
        // The message.created of the same new conversation triggers nothing (no rule on it) and is not queued.
        const items = await automationEvents.find({ tenant_id: admin.tenantId });
        expect(items.map((i) => i.event_type)).to.include('conversation.created');
        expect(items.filter((i) => i.event_type === 'conversation.created').every((i) => i.state === 'done')).to.equal(true);
        // Attributed to the rule in the activity log.
        const log = await admin.call('GET', '/api/activity-logs?limit=100');
        const entries = (log.body.data as any[]).filter((e) => e.action === 'automation.assign_division');
        expect(entries.length, JSON.stringify(log.body).slice(0, 500)).to.equal(1);
      } finally {
        socket.close();
      }
    });

    it('does nothing during working hours', async () => {
      const admin = await createSession();
      const wa = await connectWhatsapp(admin);
      acceptSends(wa);
      const put = await admin.call('PUT', '/api/working-hours', { body: { days: [0, 1, 2, 3, 4, 5, 6].map((day_of_week) => ({ day_of_week, start_time: '00:00', end_time: '24:00' })) } });
      expect(put.status, JSON.stringify(put.body)).to.equal(200);
      expect((await admin.call('GET', '/api/working-hours/status')).body.is_working_hours).to.equal(true);
      const rule = await createRule(admin, {
        name: 'Night shift',
        trigger: { events: ['conversation.created'] },
        conditions: { all: [{ field: 'tenant.within_working_hours', op: 'equals', value: false }], any: [] },
        actions: [{ type: 'add_tags', params: { tags: ['night'] } }],
      });
      const { conversationId } = await startConversation(admin, wa);
      const run = await until(async () => (await automationRuns.find({ tenant_id: admin.tenantId, rule_id: rule.id }))[0]?.finished_at && (await automationRuns.find({ tenant_id: admin.tenantId, rule_id: rule.id }))[0], 'the run');
      expect(run.matched).to.equal(false);
      expect((await conversations.findOwned(admin.tenantId, conversationId)).tags).to.not.include('night');
    });
  });

  describe('loop protection', () => {
    it('stops two rules that undo each other at max_chain_depth, with the reason on the event', async () => {
      const admin = await createSession();
      const wa = await connectWhatsapp(admin);
      acceptSends(wa);
      expect((await admin.call('PATCH', '/api/automation/control', { body: { max_chain_depth: 3 } })).status).to.equal(200);
      const { conversationId } = await startConversation(admin, wa);
      const ping = await createRule(admin, { name: 'ping', trigger: { events: ['conversation.updated'] }, actions: [{ type: 'add_tags', params: { tags: ['ping'] } }, { type: 'remove_tags', params: { tags: ['pong'] } }] });
      const pong = await createRule(admin, { name: 'pong', trigger: { events: ['conversation.updated'] }, actions: [{ type: 'add_tags', params: { tags: ['pong'] } }, { type: 'remove_tags', params: { tags: ['ping'] } }] });
      // An agent's change starts it.
      expect((await admin.call('PATCH', `/api/conversations/${conversationId}/tags`, { body: { add: ['start'] } })).status).to.equal(200);
      const stopped = await until(
        async () => (await automationEvents.find({ tenant_id: admin.tenantId, state: 'skipped' })).find((i) => (i.skip_reason ?? '').startsWith('chain depth limit')),
        'an event stopped at the depth limit',
        20_000,
      );
      expect(stopped.causation.depth).to.equal(3);
      expect(stopped.skip_reason).to.include('max_chain_depth 3');
      await until(() => queueSettled(admin.tenantId), 'the queue to settle', 20_000);
      const items = await automationEvents.find({ tenant_id: admin.tenantId, conversation_id: conversationId });
      expect(Math.max(...items.map((i) => i.causation.depth))).to.equal(3);
      // Nothing past the limit was evaluated, and no rule ran on the events its own actions caused.
      const runs = await automationRuns.find({ tenant_id: admin.tenantId });
      const byId = new Map(items.map((i) => [i._id, i]));
      for (const r of runs) {
        const item = byId.get(r.event_id);
        expect(item, 'run of a known item').to.not.equal(undefined);
        expect(item?.causation.depth).to.be.lessThan(3);
      }
      expect(runs.some((r) => r.rule_id === ping.id) && runs.some((r) => r.rule_id === pong.id)).to.equal(true);
      // Quiet afterwards: the chain does not continue.
      const count = await automationRuns.count({ tenant_id: admin.tenantId });
      await new Promise((r) => setTimeout(r, 1500));
      expect(await automationRuns.count({ tenant_id: admin.tenantId })).to.equal(count);
    });
  });

  describe('two workers', () => {
    it('never run an item twice', async () => {
      const admin = await createSession();
      // Paused while the items go in, so the server's own worker (woken by its sweep) stays out.
      await admin.call('PATCH', '/api/automation/control', { body: { paused: true } });
      const rule = await createRule(admin, {
        name: 'contacts',
        trigger: { events: ['contact.updated'] },
        conditions: { all: [{ field: 'payload.name', op: 'equals', value: 'nobody here' }], any: [] },
        actions: [{ type: 'add_tags', params: { tags: ['x'] } }],
      });
      const n = 120;
      for (let i = 0; i < n; i++) {
        const e: DomainEvent = { id: randomUUID(), event: 'contact.updated', seq: 1_000_000 + i, tenant_id: admin.tenantId, data: { id: randomUUID(), name: `Contact ${i}` }, created_at: new Date().toISOString(), audience: { scope: 'tenant', permission: null } };
        expect(await queueAutomationEvent(e)).to.equal(true);
        // The same event again (at-least-once delivery) is queued once.
        if (i === 0) expect(await queueAutomationEvent(e)).to.equal(false);
      }
      const a = new AutomationWorker('test-worker-a');
      const b = new AutomationWorker('test-worker-b');
      await admin.call('PATCH', '/api/automation/control', { body: { paused: false } });
      await Promise.all([a.drain(admin.tenantId), b.drain(admin.tenantId), a.drain(admin.tenantId), b.drain(admin.tenantId)]);
      await until(() => queueSettled(admin.tenantId), 'the queue to settle', 20_000);
      const items = await automationEvents.find({ tenant_id: admin.tenantId });
      expect(items).to.have.length(n);
      expect(items.every((i) => i.state === 'done' && i.attempts === 1), JSON.stringify(items.filter((i) => i.attempts !== 1).slice(0, 2))).to.equal(true);
      const claimers = new Set(items.map((i) => i.claimed_by));
      expect(claimers.has('test-worker-a') || claimers.has('test-worker-b')).to.equal(true);
      const runs = await automationRuns.find({ tenant_id: admin.tenantId, rule_id: rule.id });
      expect(runs).to.have.length(n);
      expect(new Set(runs.map((r) => r.event_id)).size).to.equal(n);
      expect(runs.every((r) => r.matched === false && r.finished_at !== null)).to.equal(true);
      await Promise.all([a.stop(), b.stop()]);
    });
  });
});
