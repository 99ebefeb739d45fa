/**
 * The automation worker: takes a tenant's pending queue items and evaluates its rules on each.
 * Items of one conversation go one at a time in seq order (an item waits while an earlier one of
 * its conversation is unfinished, here or in another process); different conversations go in
 * parallel, at most CONCURRENCY at once. Each item is claimed by a conditional update on its
 * own `_id` (pending -> processing), so two processes never evaluate it both; a failed
 * evaluation (the database, an actor) goes back to pending with a backoff, and after
 * MAX_ATTEMPTS stays failed. An item left processing by a process that died is put back by the
 * sweep (recoverStaleAutomationEvents).
 *
 * Loop protection: the item's causation comes from the ledger (models/automation-cause.ts); a
 * rule is not evaluated on events its own actions caused, and an item at the tenant's
 * max_chain_depth is skipped with that reason (a chain A -> B -> A stops there).
 */
import { appContext } from '../context.js';
import { createHash } from 'node:crypto';
import { ConflictError, isDuplicateKey, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import { causesOfEvent } from '../models/automation-cause.js';
import { findAutomationControl, type AutomationControl } from '../models/automation-control.js';
import {
  automationEvents,
  claimAutomationEvent,
  earlierUnfinishedOfConversation,
  moveAutomationEvent,
  pendingAutomationEvents,
  settleAutomationEvent,
  staleAutomationEvents,
  tenantsWithPendingAutomation,
  type AutomationEvent,
  type Causation,
} from '../models/automation-event.js';
import { automationRules, rulesTriggeredBy, scheduledRules, SCHEDULE_EVENT, type AutomationRule } from '../models/automation-rule.js';
import { naturalId } from '../ids.js';
import type { AutomationRun } from '../models/automation-run.js';
import { wakeSnoozedConversations } from './automation-actions.js';
import { buildItemContext, tenantFields } from './automation-context.js';
import { runRulesOnItem } from './automation-evaluate.js';
import { inRollout, inScheduleWindow } from './automation-schedule.js';

/** Conversations evaluated at once per tenant and process. */
const CONCURRENCY = 8;
/** Items read per pass. */
const BATCH = 100;
/** Evaluations of an item before it stays failed. */
export const MAX_ATTEMPTS = 5;
/** Backoff before the n-th retry (ms). */
const backoffMs = (attempt: number) => Math.min(60_000, 500 * 2 ** (attempt - 1));
/** An item processing for longer than this was left by a process that stopped. */
export const STALE_PROCESSING_MS = 60_000;

/** The chain an item's event belongs to (deepest window wins, rule ids merged), and the rules whose own actions caused it. */
async function causationOf(item: AutomationEvent): Promise<{ causation: Causation; causedBy: string[] }> {
  if (!item.conversation_id) return { causation: item.causation, causedBy: [] };
  const causes = await causesOfEvent(item.tenant_id, item.conversation_id, item.event_seq);
  if (causes.length === 0) return { causation: item.causation, causedBy: [] };
  return {
    causation: { depth: Math.max(...causes.map((c) => c.depth)), rule_ids: [...new Set(causes.flatMap((c) => c.rule_ids))] },
    causedBy: causes.map((c) => c.rule_ids[c.rule_ids.length - 1] ?? ''),
  };
}

/**
 * True when the rule may run on this item now: active, not snoozed, in a window, in the rollout,
 * and not the rule whose own actions caused the event (a chain through other rules may come
 * back to it, until max_chain_depth).
 */
function eligible(rule: AutomationRule, item: AutomationEvent, causedBy: string[], zone: string, now: Date): boolean {
  if (!rule.active || (rule.snoozed_until && rule.snoozed_until > now)) return false;
  if (causedBy.includes(rule._id)) return false;
  return inScheduleWindow(rule.schedule, zone, now) && inRollout(rule, item.conversation_id);
}

/** The outcome of evaluating an item: its runs, and what the item becomes. */
interface ItemOutcome {
  runs: AutomationRun[];
  set: Partial<AutomationEvent>;
}

/** Evaluates the current rules on a claimed item (its causation refreshed from the ledger). */
/**
 * What one worker pass over a tenant's items reads once, not per item: the tenant's zone and
 * context fields (working hours now) and the rules of each event type. A pass lasts moments;
 * the next pass reads them again, so a rule changed now applies from the next pass on.
 */
export class PassReads {
  private tenant: Promise<Record<string, unknown>> | null = null;
  private readonly rules = new Map<string, Promise<AutomationRule[]>>();
  constructor(
    readonly tenantId: string,
    readonly at = new Date(),
  ) {}
  tenantFields(): Promise<Record<string, unknown>> {
    this.tenant ??= tenantFields(this.tenantId, this.at);
    return this.tenant;
  }
  rulesFor(eventType: string): Promise<AutomationRule[]> {
    let found = this.rules.get(eventType);
    if (!found) {
      found = rulesTriggeredBy(this.tenantId, eventType);
      this.rules.set(eventType, found);
    }
    return found;
  }
}

async function evaluateItem(claimed: AutomationEvent, control: AutomationControl, reads = new PassReads(claimed.tenant_id)): Promise<ItemOutcome> {
  const { causation, causedBy } = await causationOf(claimed);
  const item = { ...claimed, causation };
  const now = new Date();
  const done = (runs: AutomationRun[], skipReason: string | null): ItemOutcome => ({
    runs,
    set: {
      state: skipReason ? 'skipped' : 'done',
      skip_reason: skipReason,
      causation: item.causation,
      last_error: null,
      next_attempt_at: null,
      processed_at: new Date(),
      evaluated_rule_ids: [...new Set([...item.evaluated_rule_ids, ...runs.map((r) => r.rule_id)])],
    },
  });
  if (item.causation.depth >= control.max_chain_depth) {
    return done([], `chain depth limit: caused by rules ${item.causation.rule_ids.join(', ')} at depth ${item.causation.depth} (max_chain_depth ${control.max_chain_depth})`);
  }
  const tenant = await reads.tenantFields();
  const zone = String(tenant.timezone ?? 'UTC');
  // A schedule's item is for its one rule; an event's for every rule triggered by its type.
  const candidates = item.event_type === SCHEDULE_EVENT ? [await automationRules.findOwnedOrNull(item.tenant_id, String(item.payload.rule_id))].filter((r): r is AutomationRule => r !== null && !r.deleted_at) : await reads.rulesFor(item.event_type);
  const rules = candidates.filter((r) => eligible(r, item, causedBy, zone, now));
  if (rules.length === 0) return done([], 'no active rule applies now');
  const { ctx, conversation } = await buildItemContext(item, now, Promise.resolve(tenant));
  // Every rule sees the same context (the moment the item was taken); rules go oldest first.
  return done(await runRulesOnItem({ rules, item, ctx, control, conversation }), null);
}

/** One process's worker. */
export class AutomationWorker {
  private readonly draining = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(readonly processName: string) {}

  /** Processes the tenant's pending items now (or right after the pass under way). */
  wake(tenantId: string): void {
    if (this.stopped) return;
    if (this.draining.has(tenantId)) {
      this.again.add(tenantId);
      return;
    }
    const pass = this.drain(tenantId)
      .catch((err: unknown) => logger.error({ err, tenant: tenantId }, 'automation worker pass failed'))
      .finally(() => {
        this.draining.delete(tenantId);
        if (this.again.delete(tenantId)) this.wake(tenantId);
      });
    this.draining.set(tenantId, pass);
  }

  /** Runs passes until nothing claimable is left; resolves when the tenant's queue is idle here. */
  async drain(tenantId: string): Promise<void> {
    for (;;) {
      const control = await findAutomationControl(tenantId);
      if (control.paused || this.stopped) return;
      const now = Date.now();
      const pending = await pendingAutomationEvents(tenantId, BATCH);
      const due = pending.filter((i) => !i.next_attempt_at || i.next_attempt_at.getTime() <= now);
      const later = pending.filter((i) => i.next_attempt_at && i.next_attempt_at.getTime() > now);
      if (later.length) this.wakeAt(tenantId, Math.min(...later.map((i) => (i.next_attempt_at as Date).getTime())));
      if (due.length === 0) return;
      const groups = new Map<string, AutomationEvent[]>();
      for (const i of due) {
        const key = i.conversation_id ?? `item:${i._id}`;
        groups.set(key, [...(groups.get(key) ?? []), i]);
      }
      const queue = [...groups.values()].map((g) => g.sort((a, b) => a.event_seq - b.event_seq));
      let progressed = 0;
      const reads = new PassReads(tenantId);
      const lane = async () => {
        for (let g = queue.shift(); g; g = queue.shift()) {
          for (const [i, item] of g.entries()) {
            if (!(await this.processItem(item, control, reads, i === 0))) break;
            progressed++;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, lane));
      if (progressed === 0) {
        // Everything left is held elsewhere or waits on an earlier item: look again shortly.
        this.wakeAt(tenantId, Date.now() + 250);
        return;
      }
    }
  }

  /**
   * Claims and evaluates one item; false when it is not this process's to take now (or it went
   * back to pending for a retry, which its conversation's later items wait for). Only the
   * first item of a conversation in a pass asks whether an earlier one is unfinished: the
   * others follow it in seq order, and one claimed elsewhere meanwhile fails its claim here.
   */
  private async processItem(item: AutomationEvent, control: AutomationControl, reads: PassReads, firstOfConversation: boolean): Promise<boolean> {
    if (firstOfConversation && item.conversation_id && (await earlierUnfinishedOfConversation(item.tenant_id, item.conversation_id, item.event_seq))) return false;
    const claimed = await claimAutomationEvent(item.tenant_id, item._id, this.processName);
    if (!claimed) return false;
    let outcome: ItemOutcome;
    try {
      outcome = await evaluateItem(claimed, control, reads);
    } catch (err) {
      const message = (err as Error).message || String(err);
      const final = claimed.attempts >= MAX_ATTEMPTS;
      logger.warn({ err, item: claimed._id, attempts: claimed.attempts }, 'automation item evaluation failed');
      await settleAutomationEvent(claimed.tenant_id, claimed._id, this.processName, {
        state: final ? 'failed' : 'pending',
        last_error: message,
        next_attempt_at: final ? null : new Date(Date.now() + backoffMs(claimed.attempts)),
        processed_at: final ? new Date() : null,
      });
      // Back to pending: the conversation's later items wait for its retry.
      return final;
    }
    await settleAutomationEvent(claimed.tenant_id, claimed._id, this.processName, outcome.set);
    return true;
  }

  /** Claims an item in any settled state again and evaluates the current rules on it (a new pass of runs). */
  async reprocess(tenantId: string, eventId: string): Promise<AutomationRun[]> {
    await automationEvents.findOwned(tenantId, eventId);
    const claimed = await moveAutomationEvent(tenantId, eventId, ['done', 'failed', 'skipped', 'pending'], { state: 'processing', claimed_by: this.processName }, { reprocess_count: 1, attempts: 1 });
    if (!claimed) throw ConflictError('The automation event is being processed right now; try again when it has settled');
    const control = await findAutomationControl(tenantId);
    try {
      const outcome = await evaluateItem({ ...claimed, causation: claimed.causation }, control);
      await settleAutomationEvent(tenantId, eventId, this.processName, outcome.set);
      return outcome.runs;
    } catch (err) {
      await settleAutomationEvent(tenantId, eventId, this.processName, { state: 'failed', last_error: (err as Error).message, processed_at: new Date() });
      throw err;
    }
  }

  private wakeAt(tenantId: string, at: number): void {
    if (this.stopped || this.timers.has(tenantId)) return;
    const timer = setTimeout(() => {
      this.timers.delete(tenantId);
      this.wake(tenantId);
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.timers.set(tenantId, timer);
  }

  /** Stops taking items and waits for the passes under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.draining.values()]);
  }
}

let worker: AutomationWorker | null = null;

function currentWorker(): AutomationWorker {
  worker ??= new AutomationWorker(appContext().actors.processId);
  return worker;
}

/** Processes the tenant's pending automation items now, in this process. */
export function wakeAutomationWorker(tenantId: string): void {
  currentWorker().wake(tenantId);
}

/** Evaluates the item again with the current rules (a new pass: new runs, its actions taken again); answers the runs. */
export function reprocessAutomationEvent(tenantId: string, eventId: string): Promise<AutomationRun[]> {
  if (!eventId) throw NotFoundError('Automation event');
  return currentWorker().reprocess(tenantId, eventId);
}

/** Puts items left processing (since before `before`) back to pending; answers how many. */
export async function recoverStaleAutomationEvents(before = new Date(Date.now() - STALE_PROCESSING_MS)): Promise<number> {
  let recovered = 0;
  for (const item of await staleAutomationEvents(before, BATCH)) {
    // Conditional on the claim it still has: a process that is merely slow and settles first wins.
    const moved = await settleAutomationEvent(item.tenant_id, item._id, item.claimed_by ?? '', { state: 'pending', last_error: `recovered: left processing by ${item.claimed_by ?? 'a process'}` });
    if (moved) recovered++;
  }
  return recovered;
}

/**
 * Queues the current slot of every scheduled rule (slot = now divided by its period): the item's
 * `_id` derives from rule and slot, so every process's sweep queues it once. Answers how many it queued.
 */
export async function queueScheduledRules(now = new Date()): Promise<number> {
  let queued = 0;
  for (const rule of await scheduledRules(1000)) {
    const periodMs = (rule.trigger.schedule?.every_minutes ?? 0) * 60_000;
    if (periodMs <= 0) continue;
    const slot = Math.floor(now.getTime() / periodMs);
    const slotAt = new Date(slot * periodMs);
    const id = naturalId('automation-schedule', rule.tenant_id, rule._id, String(slot));
    const stored = await automationEvents
      .insert({
        _id: id,
        tenant_id: rule.tenant_id,
        conversation_id: null,
        // No domain event: the slot number stands in for the seq.
        event_seq: slot,
        domain_event_id: id,
        event_type: SCHEDULE_EVENT,
        payload: { rule_id: rule._id, slot_at: slotAt.toISOString(), every_minutes: rule.trigger.schedule?.every_minutes ?? null },
        fingerprint: createHash('sha256').update(id).digest('hex'),
        duplicate_of: null,
        state: 'pending',
        attempts: 0,
        last_error: null,
        skip_reason: null,
        next_attempt_at: null,
        causation: { rule_ids: [], depth: 0 },
        claimed_by: null,
        evaluated_rule_ids: [],
        reprocess_count: 0,
        processed_at: null,
      })
      .then(() => true)
      .catch((err: unknown) => {
        if (isDuplicateKey(err)) return false;
        throw err;
      });
    if (stored) {
      queued++;
      wakeAutomationWorker(rule.tenant_id);
    }
  }
  return queued;
}

/** The sweep's pass: queues scheduled rules' slots, recovers stale items, wakes every tenant with pending ones here, and opens snoozed conversations whose time has come. */
export async function sweepAutomation(): Promise<{ recovered: number; woken: number; unsnoozed: number }> {
  await queueScheduledRules();
  const recovered = await recoverStaleAutomationEvents();
  const tenants = await tenantsWithPendingAutomation(BATCH);
  for (const t of tenants) wakeAutomationWorker(t);
  return { recovered, woken: tenants.length, unsnoozed: await wakeSnoozedConversations() };
}

/** Stops this process's worker (server shutdown). */
export async function stopAutomationWorker(): Promise<void> {
  const w = worker;
  worker = null;
  await w?.stop();
}
