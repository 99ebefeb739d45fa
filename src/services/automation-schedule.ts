/**
 * When a rule may run: its weekly windows in the tenant's (or the rule's own) time zone, the
 * next windows for the preview, the rollout bucket of a conversation, and the effective state
 * that explains why a rule would or would not run now.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { AutomationControl } from '../models/automation-control.js';
import type { AutomationRule, RuleSchedule, ScheduleWindow } from '../models/automation-rule.js';

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** The zone a schedule runs in. */
export const scheduleZone = (schedule: RuleSchedule | null, tenantZone: string): string => schedule?.time_zone || tenantZone;

/** The window occurrences starting on the local day of `day` (an overnight window ends the next day). */
function occurrencesOn(day: DateTime, windows: ScheduleWindow[]): { start: DateTime; end: DateTime }[] {
  return windows
    .filter((w) => w.days.includes(day.weekday))
    .map((w) => {
      const start = day.startOf('day').plus({ minutes: minutesOf(w.start) });
      const endMinutes = minutesOf(w.end);
      const end = endMinutes > minutesOf(w.start) ? day.startOf('day').plus({ minutes: endMinutes }) : day.startOf('day').plus({ days: 1, minutes: endMinutes });
      return { start, end };
    });
}

/** True when `now` falls in one of the windows (always true without a schedule). */
export function inScheduleWindow(schedule: RuleSchedule | null, tenantZone: string, now: Date): boolean {
  if (!schedule || schedule.windows.length === 0) return true;
  const local = DateTime.fromJSDate(now, { zone: scheduleZone(schedule, tenantZone) });
  // Yesterday's overnight windows may still be open.
  return [local.minus({ days: 1 }), local].some((day) => occurrencesOn(day, schedule.windows).some((o) => o.start <= local && local < o.end));
}

/** The next `count` windows (the current one first if open), in the schedule's zone. */
export function nextScheduleWindows(schedule: RuleSchedule, tenantZone: string, from: Date, count: number): { start: string; end: string }[] {
  const zone = scheduleZone(schedule, tenantZone);
  const local = DateTime.fromJSDate(from, { zone });
  const found: { start: DateTime; end: DateTime }[] = [];
  for (let d = -1; d < 8 * Math.max(1, count) && found.length < count; d++) {
    for (const o of occurrencesOn(local.plus({ days: d }), schedule.windows).sort((a, b) => a.start.toMillis() - b.start.toMillis())) {
      if (o.end > local && found.length < count) found.push(o);
    }
  }
  return found.map((o) => ({ start: o.start.toISO() as string, end: o.end.toISO() as string }));
}

/** The conversation's rollout bucket for a rule, 0-99: the same conversation always lands in the same one. */
export function rolloutBucket(ruleId: string, conversationId: string): number {
  return createHash('sha256').update(`${ruleId}:${conversationId}`).digest().readUInt32BE(0) % 100;
}

/** True when the rule's rollout covers the conversation (events without one run only at 100%). */
export const inRollout = (rule: Pick<AutomationRule, '_id' | 'rollout_percent'>, conversationId: string | null): boolean =>
  rule.rollout_percent >= 100 || (conversationId !== null && rolloutBucket(rule._id, conversationId) < rule.rollout_percent);

/** Why a rule would not run now; an empty list means it would. */
export type BlockReason = 'disabled' | 'snoozed' | 'outside_window' | 'rollout' | 'global_pause';

/** A rule's effective state now. */
export interface EffectiveState {
  would_run: boolean;
  reasons: { reason: BlockReason; message: string }[];
  dry_run: boolean;
  in_window: boolean;
  next_window: { start: string; end: string } | null;
  /** For a given conversation: whether the rollout covers it; null when none was given. */
  in_rollout: boolean | null;
}

/** Explains whether the rule would run now (for one conversation when given). */
export function effectiveState(rule: AutomationRule, control: AutomationControl, tenantZone: string, now: Date, conversationId: string | null): EffectiveState {
  const reasons: EffectiveState['reasons'] = [];
  if (control.paused) reasons.push({ reason: 'global_pause', message: 'automation is paused for the organization (PATCH /api/automation/control)' });
  if (!rule.active) reasons.push({ reason: 'disabled', message: 'the rule is disabled' });
  if (rule.snoozed_until && rule.snoozed_until > now) reasons.push({ reason: 'snoozed', message: `the rule is snoozed until ${rule.snoozed_until.toISOString()}` });
  const inWindow = inScheduleWindow(rule.schedule, tenantZone, now);
  if (!inWindow) reasons.push({ reason: 'outside_window', message: `now is outside the rule's schedule windows (${scheduleZone(rule.schedule, tenantZone)})` });
  const covered = conversationId === null ? null : inRollout(rule, conversationId);
  if (covered === false || (conversationId === null && rule.rollout_percent === 0)) {
    reasons.push({ reason: 'rollout', message: `the rule runs for ${rule.rollout_percent}% of conversations${covered === false ? ', and this conversation is outside them' : ''}` });
  }
  const next = rule.schedule && rule.schedule.windows.length ? (nextScheduleWindows(rule.schedule, tenantZone, now, 1)[0] ?? null) : null;
  return { would_run: reasons.length === 0, reasons, dry_run: control.dry_run, in_window: inWindow, next_window: next, in_rollout: covered };
}
