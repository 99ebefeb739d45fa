/**
 * The automation worker's controls on queue items of a real conversation: dry-run mode records
 * runs and changes nothing, a global pause holds items pending, the actions-per-minute budget
 * skips with a reason, identical payloads within the window are one, an item left processing by
 * a dead process is recovered and its runs are not repeated, reprocess makes a new pass; and
 * regex conditions run in linear time on hostile input.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Model } from 'mongoose';
import { queueAutomationEvent } from '../../src/events/listeners/automation.js';
import type { DomainEvent } from '../../src/events/types.js';
import { AutomationCauseModel } from '../../src/models/automation-cause.js';
import { AutomationEventModel, automationEventId, automationEvents, claimAutomationEvent } from '../../src/models/automation-event.js';
import { AutomationRuleModel } from '../../src/models/automation-rule.js';
import { AutomationRunModel, automationRuns } from '../../src/models/automation-run.js';
import { conversations } from '../../src/models/conversation.js';
import { evaluateConditions } from '../../src/services/automation-conditions.js';
import { AutomationWorker, recoverStaleAutomationEvents, reprocessAutomationEvent } from '../../src/services/automation-worker.js';
import { indexesUsed } from '../support/query-plans.js';
import { createSession, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, startConversation, until } from '../support/whatsapp.js';

let seq = 5_000_000;

/**
 * Queues a conversation.updated item for the conversation, as the listener would, with a seq past
 * the log's (the rules match only these items' `nonce`, not the real events their actions cause).
 */
async function queueFor(s: TestSession, conversationId: string, data: Record<string, unknown> = {}): Promise<string> {
  const e: DomainEvent = { id: randomUUID(), event: 'conversation.updated', seq: ++seq, tenant_id: s.tenantId, data: { id: conversationId, nonce: randomUUID(), ...data }, created_at: new Date().toISOString(), audience: { scope: 'tenant', permission: null } };
  await queueAutomationEvent(e);
  return automationEventId(s.tenantId, e.seq);
}

async function setup(actions: unknown[]): Promise<{ s: TestSession; conversationId: string; ruleId: string; worker: AutomationWorker }> {
  const s = await createSession();
  const wa = await connectWhatsapp(s);
  acceptSends(wa);
  const { conversationId } = await startConversation(s, wa);
  const rule = await s.call('POST', '/api/automation/rules', { body: { name: 'r', trigger: { events: ['conversation.updated'] }, conditions: { all: [{ field: 'payload.nonce', op: 'exists' }], any: [] }, actions } });
  expect(rule.status, JSON.stringify(rule.body)).to.equal(201);
  return { s, conversationId, ruleId: rule.body.id, worker: new AutomationWorker(`test-${randomUUID()}`) };
}

/** The item once settled: resuming wakes the server's own worker too, and whichever claims it first evaluates it. */
const settled = (s: TestSession, id: string) =>
  until(async () => {
    const item = await automationEvents.findOwned(s.tenantId, id);
    return item.state === 'done' || item.state === 'failed' ? item : null;
  }, `item ${id} settled`);

const control = (s: TestSession, body: Record<string, unknown>) => s.call('PATCH', '/api/automation/control', { body });

describe('Automation worker controls', () => {
  it('dry-run mode records the run with every action dry_run and changes nothing', async () => {
    const { s, conversationId, ruleId, worker } = await setup([{ type: 'add_tags', params: { tags: ['dry'] } }]);
    await control(s, { dry_run: true });
    const id = await queueFor(s, conversationId);
    await worker.drain(s.tenantId);
    const [run] = await automationRuns.find({ tenant_id: s.tenantId, rule_id: ruleId });
    expect(run?.dry_run).to.equal(true);
    expect(run?.actions.map((a) => a.status)).to.deep.equal(['dry_run']);
    expect((await conversations.findOwned(s.tenantId, conversationId)).tags).to.not.include('dry');
    expect((await automationEvents.findOwned(s.tenantId, id)).state).to.equal('done');
  });

  it('a global pause keeps items pending until resumed', async () => {
    const { s, conversationId, ruleId, worker } = await setup([{ type: 'add_tags', params: { tags: ['resumed'] } }]);
    await control(s, { paused: true });
    const id = await queueFor(s, conversationId);
    await worker.drain(s.tenantId);
    expect((await automationEvents.findOwned(s.tenantId, id)).state).to.equal('pending');
    expect(await automationRuns.count({ tenant_id: s.tenantId, rule_id: ruleId })).to.equal(0);
    await control(s, { paused: false });
    await worker.drain(s.tenantId);
    expect((await settled(s, id)).state).to.equal('done');
    expect((await conversations.findOwned(s.tenantId, conversationId)).tags).to.include('resumed');
  });

  it('skips actions past the organization’s actions per minute, saying why', async () => {
    const { s, conversationId, ruleId, worker } = await setup([
      { type: 'add_tags', params: { tags: ['one'] } },
      { type: 'add_tags', params: { tags: ['two'] } },
      { type: 'add_tags', params: { tags: ['three'] } },
    ]);
    await control(s, { max_actions_per_minute: 2 });
    await queueFor(s, conversationId);
    await worker.drain(s.tenantId);
    const [run] = await automationRuns.find({ tenant_id: s.tenantId, rule_id: ruleId });
    expect(run?.actions.map((a) => a.status)).to.deep.equal(['ok', 'ok', 'skipped']);
    expect(run?.actions[2]?.error).to.include('2 automation actions per minute');
    const tags = (await conversations.findOwned(s.tenantId, conversationId)).tags;
    expect(tags).to.include.members(['one', 'two']).and.not.include('three');
  });

  it('stores an identical payload within the window as a skipped duplicate of the first', async () => {
    const { s, conversationId, worker } = await setup([{ type: 'add_tags', params: { tags: ['x'] } }]);
    await control(s, { paused: true });
    const payload = { id: conversationId, nonce: 'same', status: 'open' };
    const first = await queueFor(s, conversationId, payload);
    const second = await queueFor(s, conversationId, payload);
    const [a, b] = [await automationEvents.findOwned(s.tenantId, first), await automationEvents.findOwned(s.tenantId, second)];
    expect(a.fingerprint).to.match(/^[0-9a-f]{64}$/).and.equal(b.fingerprint);
    expect(b).to.include({ state: 'skipped', duplicate_of: first });
    expect(a).to.include({ state: 'pending', duplicate_of: null });
    await control(s, { paused: false });
    await worker.drain(s.tenantId);
  });

  it('recovers an item left processing by a dead process, without repeating its claimed runs; reprocess makes a new pass', async () => {
    const { s, conversationId, ruleId, worker } = await setup([{ type: 'add_tags', params: { tags: ['once'] } }]);
    await control(s, { paused: true });
    const id = await queueFor(s, conversationId);
    expect(await claimAutomationEvent(s.tenantId, id, 'dead-process')).to.not.equal(null);
    // Nobody else can claim it while it is processing.
    expect(await claimAutomationEvent(s.tenantId, id, 'another')).to.equal(null);
    expect(await recoverStaleAutomationEvents(new Date(Date.now() + 1000))).to.be.greaterThan(0);
    const recovered = await automationEvents.findOwned(s.tenantId, id);
    expect(recovered).to.include({ state: 'pending', attempts: 1 });
    expect(recovered.last_error).to.include('dead-process');
    await control(s, { paused: false });
    await worker.drain(s.tenantId);
    const done = await settled(s, id);
    expect(done).to.include({ state: 'done', attempts: 2 });
    expect(await automationRuns.count({ tenant_id: s.tenantId, rule_id: ruleId })).to.equal(1);
    const again = await reprocessAutomationEvent(s.tenantId, id);
    expect(again).to.have.length(1);
    expect(again[0]?.rule_id).to.equal(ruleId);
    expect(await automationRuns.count({ tenant_id: s.tenantId, rule_id: ruleId })).to.equal(2);
    expect((await automationEvents.findOwned(s.tenantId, id)).reprocess_count).to.equal(1);
  });

  it('runs a regex on hostile input in linear time', () => {
    const hostile = `${'a'.repeat(100_000)}!`;
    const started = Date.now();
    const { matched } = evaluateConditions({ all: [{ field: 'message.text', op: 'regex', value: '^(a+)+$' }], any: [] }, { event: { type: 'message.created' }, conversation: null, contact: null, message: { text: hostile }, tenant: {} });
    const ms = Date.now() - started;
    expect(matched).to.equal(false);
    // A backtracking engine takes longer than the universe has on this; RE2 a few milliseconds.
    expect(ms).to.be.lessThan(1000);
  });
});

describe('Automation queries', () => {
  it('scan an index, never the collection', async () => {
    const model = <T>(m: T) => m as unknown as Model<never>;
    const t = randomUUID();
    const now = new Date();
    expect(await indexesUsed(model(AutomationEventModel), { tenant_id: t, state: 'pending' }, { created_at: 1, _id: 1 }, 100)).to.deep.equal(['tenant_id_1_state_1_created_at_1__id_1']);
    expect(await indexesUsed(model(AutomationEventModel), { tenant_id: t, conversation_id: t, event_seq: { $lt: 9 }, state: { $in: ['pending', 'processing'] } }, { event_seq: 1 }, 1)).to.deep.equal(['tenant_id_1_conversation_id_1_event_seq_1']);
    expect(await indexesUsed(model(AutomationEventModel), { tenant_id: t, fingerprint: 'f', created_at: { $gte: now }, _id: { $ne: 'x' } }, { created_at: 1 }, 1)).to.deep.equal(['tenant_id_1_fingerprint_1_created_at_-1']);
    expect(await indexesUsed(model(AutomationEventModel), { state: 'processing', updated_at: { $lt: now } }, { updated_at: 1 }, 100)).to.deep.equal(['state_1_updated_at_1']);
    expect(await indexesUsed(model(AutomationRuleModel), { tenant_id: t, deleted_at: null, 'trigger.events': 'conversation.created' }, { created_at: 1, _id: 1 }, 0)).to.deep.equal(['tenant_id_1_deleted_at_1_trigger.events_1_created_at_1__id_1']);
    expect(await indexesUsed(model(AutomationRuleModel), { tenant_id: t, deleted_at: null }, { created_at: -1, _id: -1 })).to.deep.equal(['tenant_id_1_deleted_at_1_created_at_-1__id_-1']);
    expect(await indexesUsed(model(AutomationCauseModel), { tenant_id: t, conversation_id: t, to_seq: { $gte: 5 }, from_seq: { $lt: 5 } })).to.deep.equal(['tenant_id_1_conversation_id_1_to_seq_1']);
    expect(await indexesUsed(model(AutomationRunModel), { tenant_id: t, rule_id: t }, { started_at: -1, _id: -1 })).to.deep.equal(['tenant_id_1_rule_id_1_started_at_-1__id_-1']);
  });
});
