/**
 * Money arithmetic for billing, in integer minor units only: every product and quotient is taken
 * in BigInt and rounded half up once, so no amount ever passes through a float (149,900 x 17 / 31
 * is 82,203, exactly, whatever the operands). Periods are calendar periods in the tenant's zone.
 */
import { DateTime } from 'luxon';

/** `amount x num / den`, rounded half up (away from zero for negative amounts); all integers. */
export function mulDivHalfUp(amount: number, num: number, den: number): number {
  for (const [name, v] of [['amount', amount], ['num', num], ['den', den]] as const) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer, got ${v}`);
  }
  if (den <= 0) throw new RangeError(`den must be positive, got ${den}`);
  const sign = amount < 0 !== num < 0 ? -1n : 1n;
  const product = BigInt(Math.abs(amount)) * BigInt(Math.abs(num));
  const rounded = (product * 2n + BigInt(den)) / (2n * BigInt(den));
  return Number(sign * rounded);
}

/** The share of a period's price for `days` of its `periodDays`. */
export const prorate = (priceMinor: number, days: number, periodDays: number): number => mulDivHalfUp(priceMinor, days, periodDays);

/** Tax at `bps` basis points (1,100 = 11%) of an amount. */
export const taxOf = (amountMinor: number, bps: number): number => mulDivHalfUp(amountMinor, bps, 10_000);

/** Sums minor-unit amounts, refusing anything that is not a safe integer. */
export function sumMinor(amounts: readonly number[]): number {
  let total = 0n;
  for (const a of amounts) {
    if (!Number.isSafeInteger(a)) throw new RangeError(`amount must be an integer of minor units, got ${a}`);
    total += BigInt(a);
  }
  return Number(total);
}

/** A billing interval. */
export type BillingInterval = 'monthly' | 'yearly';

/** The period starting at `start` (in `zone`): one calendar month or year later (Jan 31 + 1 month = Feb 28/29). */
export function periodFrom(start: Date, interval: BillingInterval, zone: string): { start: Date; end: Date } {
  const from = DateTime.fromJSDate(start, { zone });
  return { start, end: from.plus(interval === 'monthly' ? { months: 1 } : { years: 1 }).toJSDate() };
}

/** The start of the tenant's local day holding `at`. */
export const startOfLocalDay = (at: Date, zone: string): Date => DateTime.fromJSDate(at, { zone }).startOf('day').toJSDate();

/** Whole local days from `from` to `to` (calendar days in `zone`, so a 23- or 25-hour DST day counts once). */
export function localDaysBetween(from: Date, to: Date, zone: string): number {
  const a = DateTime.fromJSDate(from, { zone }).startOf('day');
  const b = DateTime.fromJSDate(to, { zone }).startOf('day');
  return Math.max(0, Math.round(b.diff(a, 'days').days));
}
