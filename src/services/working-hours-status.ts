/**
 * Whether a weekly schedule is open at an instant, and when that next changes (ARCHITECTURE
 * invariant 11: computed, never guessed). Pure: no clock, no database, so every DST edge can be
 * tested with fixed instants.
 *
 * Model: each active range opens on its weekday at `start_time` local and closes at `end_time`
 * local, on the next day when `end_time` is before `start_time` ("24:00:00" = midnight after).
 * Ranges that touch or overlap, across midnight included, form one open period. A holiday closes
 * the ranges that start on it; an overnight range from the day before still runs into it.
 * Local times are resolved like RFC 5545: a time that occurs twice (fall back) is its first
 * occurrence, a time that does not exist (spring forward) moves forward by the gap.
 */
import { IANAZone } from 'luxon';

/** One weekly range as stored (`HH:MM:SS`). */
export interface ScheduleRange {
  day_of_week: number;
  start_time: string;
  end_time: string;
  is_active: boolean;
}

/** A closed date (`YYYY-MM-DD`, local to the tenant). */
export interface HolidayDate {
  date: string;
  name: string;
}

/** The answer of computeStatus. */
export interface WorkingHoursState {
  isOpen: boolean;
  timezone: string;
  /** Local wall-clock time, `HH:MM`. */
  localTime: string;
  /** The next open/close transition, or null when the state never changes. */
  nextChangeAt: Date | null;
  /** Today's holiday (local date), if any. */
  holiday: HolidayDate | null;
}

export const DAY_MS = 86_400_000;
const DAY_S = 86_400;
// Caps the forward search for a pathological schedule; ten years covers any real holiday list.
const MAX_HORIZON_DAYS = 3660;

/** `HH:MM:SS` (or `HH:MM`) -> seconds since midnight; "24:00:00" is 86400. */
export function timeToSeconds(time: string): number {
  const [h = 0, m = 0, s = 0] = time.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/** `HH:MM` or `HH:MM:SS` -> `HH:MM:SS`. */
export const toHms = (time: string): string => (time.length === 5 ? `${time}:00` : time);

/**
 * A range's [start, end) in seconds from its day's midnight; the end passes 86400 for a range
 * that runs past midnight. null for an empty range (start == end).
 */
export function rangeSeconds(range: Pick<ScheduleRange, 'start_time' | 'end_time'>): [number, number] | null {
  const start = timeToSeconds(range.start_time);
  const end = timeToSeconds(range.end_time);
  if (start === end) return null;
  return [start, end < start ? end + DAY_S : end];
}

/** The local calendar date of day number `n` (days since 1970-01-01). */
export const dateOf = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** 0 = Sunday ... 6 = Saturday; 1970-01-01 was a Thursday. */
const weekdayOf = (n: number): number => (((n + 4) % 7) + 7) % 7;

/** The instant of a local wall-clock time, given as milliseconds of a UTC-labelled clock. */
function wallToEpoch(zone: IANAZone, wallMs: number): number {
  // The offsets a day either side bracket any transition near this wall time.
  const before = zone.offset(wallMs - DAY_MS) * 60_000;
  const after = zone.offset(wallMs + DAY_MS) * 60_000;
  const valid = [wallMs - before, wallMs - after].filter((t) => zone.offset(t) * 60_000 === wallMs - t);
  if (valid.length > 0) return Math.min(...valid);
  // In a spring-forward gap: read it with the offset before the jump, i.e. move it forward.
  return wallMs - before;
}

interface Interval {
  start: number;
  end: number;
}

/** The active ranges of a schedule by weekday (0 = Sunday), as rangeSeconds spans. */
export function rangesByWeekday(entries: readonly ScheduleRange[]): [number, number][][] {
  const byWeekday: [number, number][][] = [[], [], [], [], [], [], []];
  for (const e of entries) {
    const secs = e.is_active ? rangeSeconds(e) : null;
    if (secs) byWeekday[e.day_of_week]?.push(secs);
  }
  return byWeekday;
}

/** The ranges starting on local day `n` (days since 1970-01-01) as instants, earliest first. */
export function dayIntervals(tz: IANAZone, byWeekday: readonly [number, number][][], n: number): Interval[] {
  return (byWeekday[weekdayOf(n)] ?? [])
    .map(([s, e]) => ({ start: wallToEpoch(tz, n * DAY_MS + s * 1000), end: wallToEpoch(tz, n * DAY_MS + e * 1000) }))
    .filter((iv) => iv.end > iv.start)
    .sort((a, b) => a.start - b.start);
}

/** Computes open/closed now and the next transition for a schedule in a zone. */
export function computeStatus(
  now: Date,
  zone: string,
  entries: readonly ScheduleRange[],
  holidays: readonly HolidayDate[],
): WorkingHoursState {
  const tz = IANAZone.create(zone);
  if (!tz.isValid) throw new Error(`invalid time zone ${zone}`);
  const t = now.getTime();
  const wall = t + tz.offset(t) * 60_000;
  const today = Math.floor(wall / DAY_MS);
  const localTime = new Date(wall).toISOString().slice(11, 16);
  const closedOn = new Map(holidays.map((h) => [h.date, h.name]));
  const todayName = closedOn.get(dateOf(today));
  const base = { timezone: tz.name, localTime, holiday: todayName === undefined ? null : { date: dateOf(today), name: todayName } };

  const byWeekday = rangesByWeekday(entries);
  if (byWeekday.every((d) => d.length === 0)) return { ...base, isOpen: false, nextChangeAt: null };

  // Every H holidays can hide at most H weeks of openings, and a 24/7 schedule changes only at
  // a holiday, so searching past both bounds finds the next change if there is one.
  const lastHoliday = Math.max(today, ...holidays.map((h) => Math.floor(Date.parse(h.date) / DAY_MS)).filter(Number.isFinite));
  const horizon = today + Math.min(MAX_HORIZON_DAYS, Math.max(7 * (holidays.length + 2), lastHoliday - today + 2));

  let block: Interval | null = null;
  // Yesterday first: its overnight ranges may still be open now.
  for (let n = today - 1; n <= horizon; n++) {
    if (closedOn.has(dateOf(n))) continue;
    for (const iv of dayIntervals(tz, byWeekday, n)) {
      if (block && iv.start <= block.end) {
        block.end = Math.max(block.end, iv.end);
        continue;
      }
      // `block` is complete: nothing later can join it.
      if (block && block.start <= t && t < block.end) return { ...base, isOpen: true, nextChangeAt: new Date(block.end) };
      if (iv.start > t) return { ...base, isOpen: false, nextChangeAt: new Date(iv.start) };
      block = { ...iv };
    }
  }
  if (block && block.start <= t && t < block.end) {
    // Open up to the edge of the search: open for as far as the schedule reaches.
    const reachesHorizon = block.end >= wallToEpoch(tz, (horizon + 1) * DAY_MS);
    return { ...base, isOpen: true, nextChangeAt: reachesHorizon ? null : new Date(block.end) };
  }
  return { ...base, isOpen: false, nextChangeAt: null };
}
