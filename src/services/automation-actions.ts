/**
 * What automation actions do, each through the service or actor any other change uses: the
 * conversation's actor for assign, tags, status, transfer and notes; the shared send path for
 * messages and WhatsApp templates (so the 24-hour window and the channel's rules apply); the
 * outgoing-webhook request (its outbound guard and signature) for webhook calls. Every change
 * is recorded in the activity log as the rule's. Also: the checks a rule's actions pass on
 * write (the agents, divisions and webhooks they name must exist: 422 naming actions[i]).
 */
import { askConversation } from '../../actors/conversation/index.js';
import type { ChangeReply } from '../../actors/conversation/lifecycle.js';
import { FieldStateError } from '../errors.js';
import { v7 as orderedId } from 'uuid';
import { naturalId } from '../ids.js';
import type { Action, AutomationRule } from '../models/automation-rule.js';
import type { Conversation, ConversationStatus } from '../models/conversation.js';
import { conversations } from '../models/conversation.js';
import { dueAutomationSnoozes, removeAutomationSnooze, saveAutomationSnooze } from '../models/automation-snooze.js';
import { logger } from '../logger.js';
import { divisions } from '../models/division.js';
import { outgoingWebhooks } from '../models/outgoing-webhook.js';
import { users } from '../models/user.js';
import { recordActivity } from './activity-log.js';
import { requestAutoAssignment } from './auto-assignment.js';
import { applyAssignmentDecisions, assignableAgent } from './conversations.js';
import { deliveryBody, webhookSecret } from './outgoing-webhook-sender.js';
import { sendWebhookRequest } from './outgoing-webhook-request.js';
import { sendOutbound } from './outbound.js';
import { checkAgent, checkDivision } from './transfers.js';

/** The tag a conversation handed to the AI agent carries (no AI module keeps the flag yet). */
export const AI_HANDLING_TAG = 'ai-handling';

/** Where an action runs: the rule, the run, the conversation, and the action's place in the rule. */
export interface ActionTarget {
  rule: AutomationRule;
  runId: string;
  index: number;
  conversation: Conversation | null;
  /** The event the rule ran on (`data` as stored), sent along with a webhook call. */
  event: { id: string; type: string; seq: number; payload: unknown };
}

/** What an action did, for the run record. */
export type ActionResult = Record<string, unknown>;

const str = (v: unknown): string => String(v ?? '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function needConversation(t: ActionTarget): Conversation {
  if (!t.conversation) throw new Error('the event concerns no conversation');
  return t.conversation;
}

/** Sends a lifecycle change to the conversation's actor and applies what it freed up. */
async function change(t: ActionTarget, type: 'assign' | 'set_status' | 'change_tags', payload: object): Promise<ChangeReply> {
  const reply = (await askConversation(needConversation(t)._id, type, payload as never)) as ChangeReply;
  await applyAssignmentDecisions(reply.decisions);
  return reply;
}

/** The rule's user for changes that must name one (a note's author): its creator, when still an agent. */
async function ruleAuthor(rule: AutomationRule): Promise<string> {
  const creator = rule.created_by ? await users.findOwnedOrNull(rule.tenant_id, rule.created_by) : null;
  if (!creator || creator.deleted_at) throw new Error('the rule’s creator no longer exists, so a note cannot be written in their name');
  return creator._id;
}

type Runner = (t: ActionTarget, params: Record<string, unknown>) => Promise<ActionResult>;

const RUNNERS: Record<Action['type'], Runner> = {
  async assign_agent(t, p) {
    await assignableAgent(t.rule.tenant_id, str(p.agent_id));
    const r = await change(t, 'assign', { agentId: str(p.agent_id), assignedBy: null });
    return { changed: r.changed, assignee_id: str(p.agent_id) };
  },
  async assign_division(t, p) {
    const c = needConversation(t);
    if (c.division_id === p.division_id) return { changed: false, division_id: c.division_id };
    await checkDivision(t.rule.tenant_id, str(p.division_id));
    const reply = await askConversation(c._id, 'transfer', {
      transferId: orderedId(),
      toAgentId: null,
      toDivisionId: str(p.division_id),
      reason: str(p.reason) || `Automation rule “${t.rule.name}”`,
      transferredBy: await ruleAuthor(t.rule),
    });
    await applyAssignmentDecisions(reply.decisions);
    return { changed: true, division_id: str(p.division_id), transfer_id: reply.transferId };
  },
  async auto_assign(t) {
    const c = needConversation(t);
    const current = await conversations.findOwned(c.tenant_id, c._id);
    await requestAutoAssignment(c.tenant_id, c._id, current.division_id);
    return { requested: true, division_id: current.division_id };
  },
  async add_tags(t, p) {
    const r = await change(t, 'change_tags', { add: strings(p.tags) });
    return { changed: r.changed, tags: r.conversation?.tags ?? null };
  },
  async remove_tags(t, p) {
    const r = await change(t, 'change_tags', { remove: strings(p.tags) });
    return { changed: r.changed, tags: r.conversation?.tags ?? null };
  },
  async set_status(t, p) {
    const r = await change(t, 'set_status', { status: str(p.status) as ConversationStatus });
    return { changed: r.changed, status: str(p.status) };
  },
  async transfer(t, p) {
    const c = needConversation(t);
    const toDivisionId = p.division_id ? str(p.division_id) : null;
    const toAgentId = p.agent_id ? str(p.agent_id) : null;
    if (toDivisionId) await checkDivision(c.tenant_id, toDivisionId);
    if (toAgentId) await checkAgent(c.tenant_id, toAgentId, toDivisionId);
    const reply = await askConversation(c._id, 'transfer', {
      transferId: orderedId(),
      toAgentId,
      toDivisionId,
      reason: str(p.reason) || `Automation rule “${t.rule.name}”`,
      transferredBy: await ruleAuthor(t.rule),
    });
    await applyAssignmentDecisions(reply.decisions);
    return { transfer_id: reply.transferId, division_id: toDivisionId, agent_id: toAgentId };
  },
  async send_message(t, p) {
    const c = needConversation(t);
    // The run and the action's place are the idempotency key: a retried run sends nothing twice.
    const out = await sendOutbound({ tenantId: c.tenant_id, conversationId: c._id, idempotencyKey: `automation:${t.runId}:${t.index}`, sender: { type: 'system', id: null }, content: { type: 'text', text: str(p.text) } });
    return { message_id: out.message._id, status: out.message.status };
  },
  async send_template(t, p) {
    const c = needConversation(t);
    const template = { name: str(p.name), language: str(p.language), ...(Array.isArray(p.components) ? { components: p.components as Record<string, unknown>[] } : {}) };
    const out = await sendOutbound({ tenantId: c.tenant_id, conversationId: c._id, idempotencyKey: `automation:${t.runId}:${t.index}`, sender: { type: 'system', id: null }, content: { type: 'template', template } });
    return { message_id: out.message._id, status: out.message.status };
  },
  async add_note(t, p) {
    const c = needConversation(t);
    const { noteId } = await askConversation(c._id, 'note_create', { noteId: orderedId(), authorId: await ruleAuthor(t.rule), body: str(p.body), mentions: [] });
    return { note_id: noteId };
  },
  async call_webhook(t, p) {
    const hook = await outgoingWebhooks.findOwnedOrNull(t.rule.tenant_id, str(p.webhook_id));
    if (!hook) throw new Error('the outgoing webhook no longer exists');
    if (!hook.is_active) throw new Error('the outgoing webhook is inactive');
    const deliveryId = naturalId('automation-webhook-call', t.runId, String(t.index));
    const body = deliveryBody({
      id: deliveryId,
      event: 'automation.action',
      seq: null,
      tenant_id: t.rule.tenant_id,
      created_at: new Date().toISOString(),
      data: { rule: { id: t.rule._id, name: t.rule.name }, run_id: t.runId, event: { id: t.event.id, type: t.event.type, seq: t.event.seq, data: t.event.payload }, params: p.payload ?? null },
    });
    const res = await sendWebhookRequest({ url: hook.url, secret: webhookSecret(hook), body, event: 'automation.action', deliveryId });
    if (res.error || res.status_code === null || res.status_code >= 300) throw new Error(`the webhook answered ${res.status_code ?? 'nothing'}${res.error ? `: ${res.error}` : ''}`);
    return { status_code: res.status_code, latency_ms: res.latency_ms };
  },
  async hand_to_ai(t) {
    const r = await change(t, 'change_tags', { add: [AI_HANDLING_TAG] });
    return { changed: r.changed, flag: AI_HANDLING_TAG };
  },
  async hand_to_human(t) {
    const r = await change(t, 'change_tags', { remove: [AI_HANDLING_TAG] });
    const c = needConversation(t);
    await requestAutoAssignment(c.tenant_id, c._id, r.conversation?.division_id ?? c.division_id);
    return { changed: r.changed, auto_assign_requested: true };
  },
  async snooze_conversation(t, p) {
    const c = needConversation(t);
    const r = await change(t, 'set_status', { status: 'pending' });
    const until = new Date(Date.now() + Number(p.minutes ?? 60) * 60_000);
    // The automation sweep opens it again then (wakeSnoozedConversations).
    await saveAutomationSnooze(c.tenant_id, c._id, t.rule._id, until);
    return { changed: r.changed, status: 'pending', until: until.toISOString() };
  },
};

/** Takes one action; records it in the activity log as the rule's. */
export async function runAction(t: ActionTarget, action: Action): Promise<ActionResult> {
  const result = await RUNNERS[action.type](t, action.params);
  await recordActivity({
    tenantId: t.rule.tenant_id,
    actor: null,
    action: `automation.${action.type}`,
    resourceType: t.conversation ? 'conversation' : 'automation_rule',
    resourceId: t.conversation?._id ?? t.rule._id,
    details: { rule_id: t.rule._id, rule_name: t.rule.name, rule_version: t.rule.version, run_id: t.runId, event_id: t.event.id, params: action.params, result },
  });
  return result;
}

/** 422 naming actions[i] when an action names an agent, division or webhook the tenant does not have (or cannot use). */
export async function checkActionTargets(tenantId: string, actions: Action[]): Promise<void> {
  for (const [i, a] of actions.entries()) {
    const field = `actions[${i}]`;
    try {
      if (a.type === 'assign_agent') await assignableAgent(tenantId, str(a.params.agent_id));
      if ((a.type === 'assign_division' || a.type === 'transfer') && a.params.division_id) await checkDivision(tenantId, str(a.params.division_id));
      if (a.type === 'transfer' && a.params.agent_id) await checkAgent(tenantId, str(a.params.agent_id), a.params.division_id ? str(a.params.division_id) : null);
    } catch (err) {
      throw FieldStateError(field, `(${a.type}): ${(err as Error).message.replace(/^Invalid request body\.[a-z_]+: /, '')}`);
    }
    if (a.type === 'call_webhook' && !(await outgoingWebhooks.findOwnedOrNull(tenantId, str(a.params.webhook_id)))) {
      throw FieldStateError(field, '(call_webhook): no such outgoing webhook in this organization');
    }
    if (a.type === 'assign_division' && !(await divisions.findOwnedOrNull(tenantId, str(a.params.division_id)))) {
      throw FieldStateError(field, '(assign_division): no such division in this organization');
    }
  }
}

/**
 * Opens again the conversations rules snoozed whose time has come (through their actors), if
 * they are still pending: one an agent answered or closed meanwhile is left as it is.
 */
export async function wakeSnoozedConversations(now = new Date(), limit = 100): Promise<number> {
  let woken = 0;
  for (const s of await dueAutomationSnoozes(now, limit)) {
    try {
      const c = await conversations.findOwnedOrNull(s.tenant_id, s.conversation_id);
      if (c?.status === 'pending') {
        const reply = (await askConversation(c._id, 'set_status', { status: 'open' })) as ChangeReply;
        await applyAssignmentDecisions(reply.decisions);
        if (reply.changed) woken++;
      }
      await removeAutomationSnooze(s);
    } catch (err) {
      // Left in place: the next sweep tries again.
      logger.warn({ err, conversation: s.conversation_id }, 'waking a snoozed conversation failed');
    }
  }
  return woken;
}
