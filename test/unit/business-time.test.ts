import { expect } from 'chai';
import { addCountedMinutes, countedMinutesBetween, type BusinessSchedule } from '../../src/services/business-time.js';
import type { HolidayDate, ScheduleRange } from '../../src/services/working-hours-status.js';

const JKT = 'Asia/Jakarta'; // UTC+7 all year, no DST
const NY = 'America/New_York'; // DST: 2024-03-10 02:00 -> 03:00, 2024-11-03 02:00 -> 01:00

const range = (day: number, start: string, end: string): ScheduleRange => ({ day_of_week: day, start_time: start, end_time: end, is_active: true });
const weekdays = (start: string, end: string) => [1, 2, 3, 4, 5].map((d) => range(d, start, end));
const office = (zone: string, holidays: HolidayDate[] = []): BusinessSchedule => ({ zone, entries: weekdays('08:00:00', '17:00:00'), holidays });

const add = (from: string, minutes: number, schedule: BusinessSchedule | null, pauses: { start: string; end: string | null }[] = []) =>
  addCountedMinutes(
    new Date(from),
    minutes,
    schedule,
    pauses.map((p) => ({ start: Date.parse(p.start), end: p.end ? Date.parse(p.end) : Number.POSITIVE_INFINITY })),
  )?.toISOString() ?? null;

// 2024-08-26 is a Monday; 08:00 in Jakarta is 01:00Z, 17:00 is 10:00Z.
describe('business time (addCountedMinutes)', () => {
  describe('calendar clock', () => {
    it('adds plain minutes', () => {
      expect(add('2024-08-26T03:00:00Z', 90, null)).to.equal('2024-08-26T04:30:00.000Z');
    });

    it('skips paused time, and never ends under an open-ended pause', () => {
      expect(add('2024-08-26T03:00:00Z', 60, null, [{ start: '2024-08-26T03:30:00Z', end: '2024-08-26T05:00:00Z' }])).to.equal('2024-08-26T05:30:00.000Z');
      expect(add('2024-08-26T03:00:00Z', 60, null, [{ start: '2024-08-26T03:30:00Z', end: null }])).to.equal(null);
      // Reached before the pause started: the pause does not matter.
      expect(add('2024-08-26T03:00:00Z', 20, null, [{ start: '2024-08-26T03:30:00Z', end: null }])).to.equal('2024-08-26T03:20:00.000Z');
    });
  });

  describe('a Mon-Fri 08:00-17:00 office in Asia/Jakarta', () => {
    it('counts within one day', () => {
      expect(add('2024-08-26T02:00:00Z', 120, office(JKT))).to.equal('2024-08-26T04:00:00.000Z');
    });

    it('starts counting at opening when started before it', () => {
      expect(add('2024-08-26T00:00:00Z', 30, office(JKT))).to.equal('2024-08-26T01:30:00.000Z');
    });

    it('carries what is left over to the next working day', () => {
      // Monday 16:00 local + 3 h: 1 h on Monday, 2 h from Tuesday 08:00 -> Tuesday 10:00 local.
      expect(add('2024-08-26T09:00:00Z', 180, office(JKT))).to.equal('2024-08-27T03:00:00.000Z');
    });

    it('skips the weekend', () => {
      // Friday 16:30 local + 60 min: 30 on Friday, 30 on Monday from 08:00.
      expect(add('2024-08-30T09:30:00Z', 60, office(JKT))).to.equal('2024-09-02T01:30:00.000Z');
      // Started on Saturday: Monday 08:00 + 45 min.
      expect(add('2024-08-31T05:00:00Z', 45, office(JKT))).to.equal('2024-09-02T01:45:00.000Z');
    });

    it('spans several days for a long target (two full days and one hour)', () => {
      expect(add('2024-08-26T01:00:00Z', 9 * 60 * 2 + 60, office(JKT))).to.equal('2024-08-28T02:00:00.000Z');
    });

    it('skips a holiday', () => {
      expect(add('2024-08-26T09:00:00Z', 180, office(JKT, [{ date: '2024-08-27', name: 'Libur' }]))).to.equal('2024-08-28T03:00:00.000Z');
    });

    it('ends exactly at closing time when the target fills the day', () => {
      expect(add('2024-08-26T01:00:00Z', 9 * 60, office(JKT))).to.equal('2024-08-26T10:00:00.000Z');
    });

    it('skips paused working time, and the pause outside hours costs nothing', () => {
      // Paused Monday 10:00-11:00 local: 2 h from 09:00 ends at 12:00 instead of 11:00.
      expect(add('2024-08-26T02:00:00Z', 120, office(JKT), [{ start: '2024-08-26T03:00:00Z', end: '2024-08-26T04:00:00Z' }])).to.equal('2024-08-26T05:00:00.000Z');
      // Paused over the night: nothing changes.
      expect(add('2024-08-26T09:00:00Z', 180, office(JKT), [{ start: '2024-08-26T11:00:00Z', end: '2024-08-26T23:00:00Z' }])).to.equal('2024-08-27T03:00:00.000Z');
    });

    it('never ends on a schedule with no open range', () => {
      expect(add('2024-08-26T01:00:00Z', 10, { zone: JKT, entries: [], holidays: [] })).to.equal(null);
    });
  });

  describe('overnight ranges', () => {
    // Every night 22:00 -> 06:00 local in Jakarta (15:00Z -> 23:00Z).
    const nights: BusinessSchedule = { zone: JKT, entries: [0, 1, 2, 3, 4, 5, 6].map((d) => range(d, '22:00:00', '06:00:00')), holidays: [] };

    it('counts across midnight inside one night', () => {
      // 23:00 local + 3 h = 02:00 local the next day.
      expect(add('2024-08-26T16:00:00Z', 180, nights)).to.equal('2024-08-26T19:00:00.000Z');
    });

    it('started in the morning gap, begins at 22:00 and carries into the next night', () => {
      // 10:00 local: closed until 22:00; 8 h that night, then 1 h of the next.
      expect(add('2024-08-26T03:00:00Z', 9 * 60, nights)).to.equal('2024-08-27T16:00:00.000Z');
    });

    it('a night that started yesterday still counts this morning', () => {
      // 05:00 local: one open hour left of the night that began yesterday at 22:00.
      expect(add('2024-08-26T22:00:00Z', 30, nights)).to.equal('2024-08-26T22:30:00.000Z');
    });
  });

  describe('a Mon-Fri 09:00-17:00 office in America/New_York (DST)', () => {
    const ny: BusinessSchedule = { zone: NY, entries: weekdays('09:00:00', '17:00:00'), holidays: [] };

    it('uses the summer offset (UTC-4) and the winter offset (UTC-5)', () => {
      // Monday 2024-07-01 09:00 EDT = 13:00Z; + 60 min.
      expect(add('2024-07-01T13:00:00Z', 60, ny)).to.equal('2024-07-01T14:00:00.000Z');
      // Monday 2024-12-02 09:00 EST = 14:00Z.
      expect(add('2024-12-02T14:00:00Z', 60, ny)).to.equal('2024-12-02T15:00:00.000Z');
    });

    it('carries across the spring-forward weekend with the new offset', () => {
      // Friday 2024-03-08 16:00 EST (21:00Z) + 2 h: 1 h Friday, 1 h Monday 09:00 EDT (13:00Z).
      expect(add('2024-03-08T21:00:00Z', 120, ny)).to.equal('2024-03-11T14:00:00.000Z');
    });

    it('carries across the fall-back weekend with the new offset', () => {
      // Friday 2024-11-01 16:00 EDT (20:00Z) + 2 h: 1 h Friday, 1 h Monday 09:00 EST (14:00Z).
      expect(add('2024-11-01T20:00:00Z', 120, ny)).to.equal('2024-11-04T15:00:00.000Z');
    });

    it('counts real minutes through the fall-back night for a round-the-clock Sunday', () => {
      // Sunday 2024-11-03 00:00-24:00 local is 25 real hours long.
      const sunday: BusinessSchedule = { zone: NY, entries: [range(0, '00:00:00', '24:00:00')], holidays: [] };
      expect(countedMinutesBetween(new Date('2024-11-02T00:00:00Z'), new Date('2024-11-06T00:00:00Z'), sunday)).to.equal(25 * 60);
      // And 23 on the spring-forward Sunday.
      expect(countedMinutesBetween(new Date('2024-03-09T00:00:00Z'), new Date('2024-03-12T00:00:00Z'), sunday)).to.equal(23 * 60);
    });
  });

  it('countedMinutesBetween inverts addCountedMinutes', () => {
    const from = new Date('2024-08-29T08:17:00Z');
    for (const minutes of [1, 59, 61, 540, 541, 2000]) {
      const due = addCountedMinutes(from, minutes, office(JKT)) as Date;
      expect(countedMinutesBetween(from, due, office(JKT))).to.equal(minutes);
    }
  });
});
