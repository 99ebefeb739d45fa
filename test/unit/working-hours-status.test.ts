import { expect } from 'chai';
import { computeStatus, rangeSeconds, type HolidayDate, type ScheduleRange } from '../../src/services/working-hours-status.js';

const JKT = 'Asia/Jakarta'; // UTC+7 all year
const NY = 'America/New_York'; // DST: 2024-03-10 02:00 -> 03:00, 2024-11-03 02:00 -> 01:00

const range = (day: number, start: string, end: string, is_active = true): ScheduleRange => ({
  day_of_week: day,
  start_time: start,
  end_time: end,
  is_active,
});
const weekdays = (start: string, end: string) => [1, 2, 3, 4, 5].map((d) => range(d, start, end));
const OFFICE = weekdays('08:00:00', '17:00:00');

function status(now: string, zone: string, entries: ScheduleRange[], holidays: HolidayDate[] = []) {
  const s = computeStatus(new Date(now), zone, entries, holidays);
  return { open: s.isOpen, next: s.nextChangeAt?.toISOString() ?? null, time: s.localTime, holiday: s.holiday, zone: s.timezone };
}

// 2024-08-26 is a Monday; 08:00 in Jakarta is 01:00Z.
describe('computeStatus', () => {
  describe('a Mon-Fri 08:00-17:00 office in Asia/Jakarta', () => {
    it('is open inside the range and closes at 17:00 local', () => {
      expect(status('2024-08-28T03:00:00Z', JKT, OFFICE)).to.deep.equal({
        open: true,
        next: '2024-08-28T10:00:00.000Z',
        time: '10:00',
        holiday: null,
        zone: JKT,
      });
    });

    it('is closed before opening and opens at 08:00 the same day', () => {
      expect(status('2024-08-28T00:00:00Z', JKT, OFFICE)).to.include({ open: false, next: '2024-08-28T01:00:00.000Z', time: '07:00' });
    });

    it('is open at exactly the opening minute and closed at exactly the closing minute', () => {
      expect(status('2024-08-26T01:00:00Z', JKT, OFFICE)).to.include({ open: true, next: '2024-08-26T10:00:00.000Z' });
      expect(status('2024-08-26T10:00:00Z', JKT, OFFICE)).to.include({ open: false, next: '2024-08-27T01:00:00.000Z' });
    });

    it('after Friday 17:00 the next change is Monday 08:00', () => {
      expect(status('2024-08-30T10:00:00Z', JKT, OFFICE)).to.include({ open: false, next: '2024-09-02T01:00:00.000Z', time: '17:00' });
    });

    it('is closed all weekend until Monday 08:00', () => {
      expect(status('2024-08-31T05:00:00Z', JKT, OFFICE)).to.include({ open: false, next: '2024-09-02T01:00:00.000Z' });
      expect(status('2024-09-01T16:59:00Z', JKT, OFFICE)).to.include({ open: false, next: '2024-09-02T01:00:00.000Z', time: '23:59' });
    });

    it('ignores inactive ranges (a closed day)', () => {
      const entries = [...OFFICE.filter((e) => e.day_of_week !== 3), range(3, '08:00:00', '17:00:00', false)];
      expect(status('2024-08-28T03:00:00Z', JKT, entries)).to.include({ open: false, next: '2024-08-29T01:00:00.000Z' });
    });
  });

  describe('split shifts', () => {
    const split = [range(3, '08:00:00', '12:00:00'), range(3, '13:00:00', '17:00:00')];

    it('closes at the end of the morning shift', () => {
      expect(status('2024-08-28T04:00:00Z', JKT, split)).to.include({ open: true, next: '2024-08-28T05:00:00.000Z' });
    });

    it('is closed in the lunch gap and reopens at 13:00', () => {
      expect(status('2024-08-28T05:30:00Z', JKT, split)).to.include({ open: false, next: '2024-08-28T06:00:00.000Z', time: '12:30' });
    });

    it('treats touching ranges as one open period', () => {
      const touching = [range(3, '08:00:00', '12:00:00'), range(3, '12:00:00', '17:00:00')];
      expect(status('2024-08-28T04:00:00Z', JKT, touching)).to.include({ open: true, next: '2024-08-28T10:00:00.000Z' });
    });
  });

  describe('overnight ranges', () => {
    const friNight = [range(5, '22:00:00', '06:00:00')]; // Friday 22:00 -> Saturday 06:00

    it('is open before midnight and closes the next morning', () => {
      expect(status('2024-08-30T16:00:00Z', JKT, friNight)).to.include({ open: true, next: '2024-08-30T23:00:00.000Z', time: '23:00' });
    });

    it('is still open after midnight (the range started yesterday)', () => {
      expect(status('2024-08-30T19:00:00Z', JKT, friNight)).to.include({ open: true, next: '2024-08-30T23:00:00.000Z', time: '02:00' });
    });

    it('after it closes, the next opening is a week later', () => {
      expect(status('2024-08-31T00:00:00Z', JKT, friNight)).to.include({ open: false, next: '2024-09-06T15:00:00.000Z' });
    });

    it('merges Mon 22:00-24:00 and Tue 00:00-06:00 into one open period', () => {
      const entries = [range(1, '22:00:00', '24:00:00'), range(2, '00:00:00', '06:00:00')];
      expect(status('2024-08-26T16:00:00Z', JKT, entries)).to.include({ open: true, next: '2024-08-26T23:00:00.000Z', time: '23:00' });
      expect(status('2024-08-26T14:00:00Z', JKT, entries)).to.include({ open: false, next: '2024-08-26T15:00:00.000Z' });
    });

    it('merges an overnight range with an overlapping range of the next day', () => {
      const entries = [range(1, '22:00:00', '06:00:00'), range(2, '05:00:00', '09:00:00')];
      expect(status('2024-08-26T22:00:00Z', JKT, entries)).to.include({ open: true, next: '2024-08-27T02:00:00.000Z' });
    });

    it('a schedule open around the clock never changes', () => {
      const always = [0, 1, 2, 3, 4, 5, 6].map((d) => range(d, '00:00:00', '24:00:00'));
      expect(status('2024-08-28T03:00:00Z', JKT, always)).to.include({ open: true, next: null });
    });
  });

  describe('holidays', () => {
    const wednesday = { date: '2024-08-28', name: 'Hari Libur' };

    it('closes the ranges that start on the holiday and reports it', () => {
      expect(status('2024-08-28T03:00:00Z', JKT, OFFICE, [wednesday])).to.deep.include({
        open: false,
        next: '2024-08-29T01:00:00.000Z',
        holiday: wednesday,
      });
    });

    it('skips the holiday when looking for the next opening', () => {
      expect(status('2024-08-27T11:00:00Z', JKT, OFFICE, [wednesday])).to.deep.include({
        open: false,
        next: '2024-08-29T01:00:00.000Z',
        holiday: null,
      });
    });

    it('does not cut short an overnight range from the day before', () => {
      const entries = [range(2, '22:00:00', '06:00:00')];
      expect(status('2024-08-27T20:00:00Z', JKT, entries, [wednesday])).to.include({ open: true, next: '2024-08-27T23:00:00.000Z' });
    });

    it('ends a round-the-clock schedule at the holiday', () => {
      const always = [0, 1, 2, 3, 4, 5, 6].map((d) => range(d, '00:00:00', '24:00:00'));
      const far = { date: '2025-12-25', name: 'Natal' };
      expect(status('2024-08-28T03:00:00Z', JKT, always, [far])).to.include({ open: true, next: '2025-12-24T17:00:00.000Z' });
      expect(status('2025-12-25T03:00:00Z', JKT, always, [far])).to.include({ open: false, next: '2025-12-25T17:00:00.000Z' });
    });

    it('finds the opening after several holidays in a row', () => {
      const mondays = [range(1, '09:00:00', '10:00:00')];
      const holidays = ['2024-09-02', '2024-09-09', '2024-09-16'].map((date) => ({ date, name: 'Cuti' }));
      expect(status('2024-08-27T03:00:00Z', JKT, mondays, holidays)).to.include({ open: false, next: '2024-09-23T02:00:00.000Z' });
    });
  });

  describe('daylight saving time in America/New_York', () => {
    it('spring forward: Friday evening -> Monday 08:00 EDT (12:00Z, not 13:00Z)', () => {
      expect(status('2024-03-08T22:30:00Z', NY, OFFICE)).to.include({ open: false, next: '2024-03-11T12:00:00.000Z', time: '17:30' });
      expect(status('2024-03-11T12:00:00Z', NY, OFFICE)).to.include({ open: true, next: '2024-03-11T21:00:00.000Z', time: '08:00' });
    });

    it('spring forward: an overnight range across the jump lasts one hour less', () => {
      const satNight = [range(6, '22:00:00', '06:00:00')]; // opens 03:00Z, closes 06:00 EDT = 10:00Z
      expect(status('2024-03-10T05:00:00Z', NY, satNight)).to.include({ open: true, next: '2024-03-10T10:00:00.000Z', time: '00:00' });
      expect(status('2024-03-10T07:30:00Z', NY, satNight)).to.include({ open: true, next: '2024-03-10T10:00:00.000Z', time: '03:30' });
    });

    it('spring forward: a range starting in the skipped hour opens when the clock reaches it', () => {
      const sunday = [range(0, '02:30:00', '04:00:00')]; // 02:30 does not exist on 2024-03-10 -> 03:30 EDT
      expect(status('2024-03-10T07:00:00Z', NY, sunday)).to.include({ open: false, next: '2024-03-10T07:30:00.000Z', time: '03:00' });
    });

    it('fall back: Friday evening -> Monday 08:00 EST (13:00Z)', () => {
      expect(status('2024-11-01T21:30:00Z', NY, OFFICE)).to.include({ open: false, next: '2024-11-04T13:00:00.000Z', time: '17:30' });
    });

    it('fall back: an overnight range across the repeated hour lasts one hour more', () => {
      const satNight = [range(6, '22:00:00', '06:00:00')]; // opens 02:00Z, closes 06:00 EST = 11:00Z
      expect(status('2024-11-03T02:00:00Z', NY, satNight)).to.include({ open: true, next: '2024-11-03T11:00:00.000Z', time: '22:00' });
      // 01:30 for the second time (EST)
      expect(status('2024-11-03T06:30:00Z', NY, satNight)).to.include({ open: true, next: '2024-11-03T11:00:00.000Z', time: '01:30' });
    });

    it('fall back: a time that occurs twice means its first occurrence', () => {
      const sunday = [range(0, '01:30:00', '03:00:00')]; // 01:30 EDT = 05:30Z
      expect(status('2024-11-03T05:00:00Z', NY, sunday)).to.include({ open: false, next: '2024-11-03T05:30:00.000Z', time: '01:00' });
    });
  });

  describe('a schedule with no active range', () => {
    it('is closed with no next change', () => {
      const closed = OFFICE.map((e) => ({ ...e, is_active: false }));
      expect(status('2024-08-28T03:00:00Z', JKT, closed)).to.include({ open: false, next: null, time: '10:00' });
      expect(status('2024-08-28T03:00:00Z', JKT, [])).to.include({ open: false, next: null });
    });
  });

  describe('rangeSeconds', () => {
    it('reads same-day, overnight, end-of-day and empty ranges', () => {
      expect(rangeSeconds({ start_time: '08:00:00', end_time: '17:00:00' })).to.deep.equal([28800, 61200]);
      expect(rangeSeconds({ start_time: '22:00:00', end_time: '06:00:00' })).to.deep.equal([79200, 108000]);
      expect(rangeSeconds({ start_time: '22:00:00', end_time: '24:00:00' })).to.deep.equal([79200, 86400]);
      expect(rangeSeconds({ start_time: '08:00:00', end_time: '08:00:00' })).to.equal(null);
    });
  });
});
