/**
 * Business-time arithmetic for SLA clocks (ARCHITECTURE invariant 11): "the instant at which
 * `minutes` of counted time have passed since `from`", where counted time is either every
 * minute (a calendar clock) or only the minutes a weekly schedule is open in the tenant's zone,
 * and in both cases not the minutes the clock was paused. Pure: no clock, no database.
 *
 * The schedule model is working-hours-status.ts's (the same code resolves local times): each
 * active range opens on its weekday at `start_time` local and closes at `end_time` local, the
 * next day when `end_time` is before `start_time`; a holiday closes the ranges that start on it;
 * a time that occurs twice (fall back) is its first occurrence, one that does not exist (spring
 * forward) moves forward by the gap. A fall-back hour inside an open range is therefore counted
 * once per real minute, since counting works on instants, never on wall-clock labels.
 */
import { IANAZone } from 'luxon';
import { dateOf, DAY_MS, dayIntervals, rangesByWeekday, type HolidayDate, type ScheduleRange } from './working-hours-status.js';

/** A half-open span of instants, in epoch milliseconds; `end` may be Infinity. */
export interface Span {
  start: number;
  end: number;
}

/** When counted time is only the open minutes of a schedule. */
export interface BusinessSchedule {
  /** IANA zone the ranges are local to. */
  zone: string;
  entries: readonly ScheduleRange[];
  holidays: readonly HolidayDate[];
}

// How far a search for open time goes: ten years covers any holiday list (as computeStatus).
const MAX_HORIZON_DAYS = 3660;

/**
 * The schedule's open periods that end after `from`, in order, touching and overlapping ranges
 * (across midnight included) merged into one, the first clipped to start at `from`.
 */
export function* openSpans(schedule: BusinessSchedule, from: number): Generator<Span> {
  const tz = IANAZone.create(schedule.zone);
  if (!tz.isValid) throw new Error(`invalid time zone ${schedule.zone}`);
  const byWeekday = rangesByWeekday(schedule.entries);
  if (byWeekday.every((d) => d.length === 0)) return;
  const closed = new Set(schedule.holidays.map((h) => h.date));
  const first = Math.floor((from + tz.offset(from) * 60_000) / DAY_MS) - 1;
  let block: Span | null = null;
  // Yesterday first: its overnight ranges may still be open at `from`.
  for (let n = first; n <= first + MAX_HORIZON_DAYS; n++) {
    if (closed.has(dateOf(n))) continue;
    for (const iv of dayIntervals(tz, byWeekday, n)) {
      if (block && iv.start <= block.end) {
        block.end = Math.max(block.end, iv.end);
        continue;
      }
      // `block` is complete: nothing later can join it.
      if (block && block.end > from) yield { start: Math.max(block.start, from), end: block.end };
      block = { ...iv };
    }
  }
  if (block && block.end > from) yield { start: Math.max(block.start, from), end: block.end };
}

/** Every instant from `from` on: the calendar clock. */
function* always(from: number): Generator<Span> {
  yield { start: from, end: Number.POSITIVE_INFINITY };
}

/** `spans` without the parts covered by `pauses` (sorted or not; an open pause ends at Infinity). */
export function* withoutPauses(spans: Iterable<Span>, pauses: readonly Span[]): Generator<Span> {
  const cuts = [...pauses].filter((p) => p.end > p.start).sort((a, b) => a.start - b.start);
  for (const span of spans) {
    let start = span.start;
    for (const cut of cuts) {
      if (cut.end <= start) continue;
      if (cut.start >= span.end) break;
      if (cut.start > start) yield { start, end: cut.start };
      start = Math.max(start, cut.end);
      if (start >= span.end) break;
    }
    if (start < span.end) yield { start, end: span.end };
    // A pause that never ends swallows everything after it.
    if (cuts.some((c) => c.end === Number.POSITIVE_INFINITY && c.start <= span.end)) return;
  }
}

/**
 * The instant at which `minutes` of counted time have passed since `from`: every minute when
 * `schedule` is null, else only the schedule's open minutes; minutes inside `pauses` never
 * count. null when that never happens (a schedule with no open range, an open-ended pause).
 */
export function addCountedMinutes(from: Date, minutes: number, schedule: BusinessSchedule | null, pauses: readonly Span[] = []): Date | null {
  let left = minutes * 60_000;
  const start = from.getTime();
  for (const span of withoutPauses(schedule ? openSpans(schedule, start) : always(start), pauses)) {
    const length = span.end - span.start;
    if (left <= length) return new Date(span.start + left);
    left -= length;
  }
  return null;
}

/** Counted minutes between two instants (the inverse of addCountedMinutes), for reports and tests. */
export function countedMinutesBetween(from: Date, to: Date, schedule: BusinessSchedule | null, pauses: readonly Span[] = []): number {
  const end = to.getTime();
  let total = 0;
  for (const span of withoutPauses(schedule ? openSpans(schedule, from.getTime()) : always(from.getTime()), pauses)) {
    if (span.start >= end) break;
    total += Math.min(span.end, end) - span.start;
  }
  return total / 60_000;
}
