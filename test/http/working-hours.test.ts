import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { newId } from '../../src/ids.js';
import { activityLogs } from '../../src/models/activity-log.js';
import { divisions } from '../../src/models/division.js';
import { setTenantStatus } from '../../src/services/tenants.js';
import { api } from '../support/http.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';

const MALFORMED_ID = 'not-a-uuid';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];

interface Entry {
  id: string;
  division_id: string | null;
  day_of_week: number;
  start_time: string;
  end_time: string;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

/** A division of the session's tenant (the Divisions API is another group's; these routes only need the row). */
async function makeDivision(s: TestSession, name = `Sales ${newId().slice(0, 6)}`) {
  return divisions.insert({ _id: newId(), tenant_id: s.tenantId, name, description: '', is_active: true });
}

const day = (day_of_week: number, start_time: string, end_time: string, is_active = true) => ({ day_of_week, start_time, end_time, is_active });
const compact = (list: Entry[]) => list.map((e) => `${e.day_of_week} ${e.start_time}-${e.end_time}${e.is_active ? '' : ' off'}`);
const aroundTheClock = ALL_DAYS.map((d) => day(d, '00:00', '24:00'));
const closedAllWeek = ALL_DAYS.map((d) => day(d, '08:00', '17:00', false));
const DEFAULT_WEEK = [1, 2, 3, 4, 5].map((d) => `${d} 08:00:00-17:00:00`);

async function actions(s: TestSession, action: string) {
  return activityLogs.find({ tenant_id: s.tenantId, action });
}

/** 400 answers for bodies every upsert route refuses. */
const BAD_UPSERTS: [string, unknown][] = [
  ['an empty days list', { days: [] }],
  ['no days', {}],
  ['days that is not a list', { days: { day_of_week: 1 } }],
  ['an unknown top-level field', { days: [day(1, '08:00', '17:00')], division_id: newId() }],
  ['an unknown entry field', { days: [{ ...day(1, '08:00', '17:00'), timezone: 'UTC' }] }],
  ['day_of_week 7', { days: [day(7, '08:00', '17:00')] }],
  ['day_of_week -1', { days: [day(-1, '08:00', '17:00')] }],
  ['a fractional day_of_week', { days: [day(1.5, '08:00', '17:00')] }],
  ['day_of_week as a string', { days: [{ ...day(1, '08:00', '17:00'), day_of_week: '1' }] }],
  ['a one-digit hour', { days: [day(1, '8:00', '17:00')] }],
  ['hour 25', { days: [day(1, '25:00', '26:00')] }],
  ['24:00 as a start', { days: [day(1, '24:00', '06:00')] }],
  ['an end after 24:00', { days: [day(1, '08:00', '24:01')] }],
  ['minute 60', { days: [day(1, '08:60', '17:00')] }],
  ['a time with a zone', { days: [day(1, '08:00Z', '17:00')] }],
  ['is_active as a string', { days: [{ ...day(1, '08:00', '17:00'), is_active: 'yes' }] }],
  ['start equal to end', { days: [day(1, '08:00', '08:00')] }],
  ['overlapping ranges on one day', { days: [day(1, '08:00', '12:00'), day(1, '11:00', '17:00')] }],
  ['an overnight range overlapping a later one', { days: [day(1, '22:00', '06:00'), day(1, '23:00', '23:30')] }],
  ['the same range twice', { days: [day(1, '08:00', '12:00'), day(1, '08:00', '12:00')] }],
];

function itRefusesBadUpserts(path: () => string, session: () => TestSession) {
  for (const [what, body] of BAD_UPSERTS) {
    it(`answers 400 for ${what}`, async () => {
      const res = await session().call('PUT', path(), { body });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
      expect(res.body.details).to.be.an('array').that.is.not.empty;
    });
  }
  it('says why start equal to end is refused, and writes nothing', async () => {
    const before = await session().call('PUT', path(), { body: { days: [day(2, '09:00', '10:00')] } });
    const res = await session().call('PUT', path(), { body: { days: [day(2, '08:00', '08:00')] } });
    expect(res.body.message).to.match(/start_time and end_time must differ/);
    const after = await session().call('PUT', path(), { body: { days: [day(2, '09:00', '10:00')] } });
    expect(compact(after.body)).to.deep.equal(compact(before.body));
  });
}

describe('GET /api/working-hours', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/working-hours', 'settings.manage', () => s);

  it('answers the default Mon-Fri 08:00-17:00 global schedule in the documented shape', async () => {
    const res = await s.call('GET', '/api/working-hours');
    expect(res.status).to.equal(200);
    expect(compact(res.body)).to.deep.equal(DEFAULT_WEEK);
    const first = res.body[0] as Entry;
    expect(Object.keys(first).sort()).to.deep.equal(
      ['created_at', 'day_of_week', 'division_id', 'end_time', 'id', 'is_active', 'start_time', 'updated_at'].sort(),
    );
    expect(first.id).to.match(UUID);
    expect(first.division_id).to.equal(null);
    expect(first.created_at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it("never shows another tenant's hours", async () => {
    const other = await createSession();
    await other.call('PUT', '/api/working-hours', { body: { days: [day(6, '10:00', '14:00')] } });
    const res = await s.call('GET', '/api/working-hours');
    expect(compact(res.body)).to.deep.equal(DEFAULT_WEEK);
  });
});

describe('PUT /api/working-hours', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('PUT', () => '/api/working-hours', 'settings.manage', () => s, { body: { days: [day(1, '08:00', '17:00')] } });

  it('replaces the named days, keeps the others and answers the whole schedule', async () => {
    const res = await s.call('PUT', '/api/working-hours', {
      body: { days: [day(6, '09:00', '13:00'), day(1, '09:00', '12:00'), day(1, '13:00:00', '18:00:00')] },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(compact(res.body)).to.deep.equal([
      '1 09:00:00-12:00:00',
      '1 13:00:00-18:00:00',
      '2 08:00:00-17:00:00',
      '3 08:00:00-17:00:00',
      '4 08:00:00-17:00:00',
      '5 08:00:00-17:00:00',
      '6 09:00:00-13:00:00',
    ]);
    expect((res.body as Entry[]).every((e) => e.division_id === null)).to.equal(true);
    const again = await s.call('GET', '/api/working-hours');
    expect(again.body).to.deep.equal(res.body);
  });

  it('stores overnight ranges, 24:00 and closed days as given', async () => {
    const res = await s.call('PUT', '/api/working-hours', {
      body: { days: [day(5, '22:00', '06:00'), day(0, '18:00', '24:00'), day(3, '08:00', '17:00', false)] },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const list = compact(res.body);
    expect(list).to.include.members(['5 22:00:00-06:00:00', '0 18:00:00-24:00:00', '3 08:00:00-17:00:00 off']);
    expect(list.filter((e) => e.startsWith('5 '))).to.deep.equal(['5 22:00:00-06:00:00']);
  });

  it('defaults is_active to true', async () => {
    const res = await s.call('PUT', '/api/working-hours', { body: { days: [{ day_of_week: 4, start_time: '07:00', end_time: '15:00' }] } });
    expect(compact(res.body)).to.include('4 07:00:00-15:00:00');
  });

  it('keeps ids and created_at; updated_at moves only when a range changes', async () => {
    const first = await s.call('PUT', '/api/working-hours', { body: { days: [day(2, '08:00', '17:00')] } });
    const before = (first.body as Entry[]).find((e) => e.day_of_week === 2) as Entry;
    await sleep(15);
    const same = await s.call('PUT', '/api/working-hours', { body: { days: [day(2, '08:00', '17:00')] } });
    expect((same.body as Entry[]).find((e) => e.day_of_week === 2)).to.deep.equal(before);
    await sleep(15);
    const changed = await s.call('PUT', '/api/working-hours', { body: { days: [day(2, '08:00', '16:00')] } });
    const after = (changed.body as Entry[]).find((e) => e.day_of_week === 2) as Entry;
    expect(after.id).to.equal(before.id);
    expect(after.created_at).to.equal(before.created_at);
    expect(Date.parse(after.updated_at)).to.be.greaterThan(Date.parse(before.updated_at));
    expect(after.end_time).to.equal('16:00:00');
  });

  it('records the change in the activity log', async () => {
    const logged = await actions(s, 'working_hours.updated');
    expect(logged.length).to.be.greaterThan(0);
    expect(logged[0]?.resource_type).to.equal('working_hours');
    expect(logged[0]?.actor_id).to.equal(s.userId);
  });

  it("does not touch another tenant's hours", async () => {
    const other = await createSession();
    await s.call('PUT', '/api/working-hours', { body: { days: [day(0, '10:00', '11:00')] } });
    const res = await other.call('GET', '/api/working-hours');
    expect(compact(res.body)).to.deep.equal(DEFAULT_WEEK);
  });

  it('keeps every day when many PUTs for different days arrive at once', async () => {
    const fresh = await createSession();
    const division = await makeDivision(fresh);
    for (let round = 0; round < 3; round++) {
      const hour = (d: number) => String(d + round + 1).padStart(2, '0');
      const wanted = ALL_DAYS.map((d) => day(d, `${hour(d)}:15`, `${hour(d + 10)}:45`));
      const results = await Promise.all([
        ...wanted.map((w) => fresh.call('PUT', '/api/working-hours', { body: { days: [w] } })),
        ...wanted.map((w) => fresh.call('PUT', `/api/working-hours/divisions/${division._id}`, { body: { days: [w] } })),
      ]);
      for (const r of results) expect(r.status, JSON.stringify(r.body)).to.equal(200);
      const expected = wanted.map((w) => `${w.day_of_week} ${w.start_time}:00-${w.end_time}:00`);
      const global = await fresh.call('GET', '/api/working-hours');
      expect(compact(global.body), `round ${round}`).to.deep.equal(expected);
      const div = await fresh.call('GET', `/api/working-hours/divisions/${division._id}`);
      expect(div.body.is_override).to.equal(true);
      expect(compact(div.body.working_hours), `round ${round}`).to.deep.equal(expected);
    }
  });
  // Last: the "writes nothing" check changes a day the tests above read.
  itRefusesBadUpserts(() => '/api/working-hours', () => s);
});

describe('GET /api/working-hours/divisions/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let divisionId: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    divisionId = (await makeDivision(s))._id;
  });
  itChecksAccess('GET', () => `/api/working-hours/divisions/${divisionId}`, 'divisions.view', () => s);

  it('answers the global hours with is_override false when the division has no override', async () => {
    const res = await s.call('GET', `/api/working-hours/divisions/${divisionId}`);
    expect(res.status).to.equal(200);
    expect(res.body.is_override).to.equal(false);
    expect(compact(res.body.working_hours)).to.deep.equal(DEFAULT_WEEK);
    expect(res.body.working_hours[0].division_id).to.equal(null);
  });

  it('answers the override with is_override true once there is one', async () => {
    await s.call('PUT', `/api/working-hours/divisions/${divisionId}`, { body: { days: [day(6, '09:00', '12:00')] } });
    const viewer = await userWithPermissions(s, ['divisions.view']);
    const res = await viewer.call('GET', `/api/working-hours/divisions/${divisionId}`);
    expect(res.status).to.equal(200);
    expect(res.body.is_override).to.equal(true);
    expect(compact(res.body.working_hours)).to.deep.equal([...DEFAULT_WEEK, '6 09:00:00-12:00:00']);
    expect(res.body.working_hours.every((e: Entry) => e.division_id === divisionId)).to.equal(true);
  });

  it('answers 404 for an unknown division and for a malformed id 400', async () => {
    expect((await s.call('GET', `/api/working-hours/divisions/${newId()}`)).status).to.equal(404);
    const bad = await s.call('GET', `/api/working-hours/divisions/${MALFORMED_ID}`);
    expect(bad.status).to.equal(400);
    expect(bad.body.details[0].field).to.equal('id');
  });

  it("answers 404 for another tenant's division, without its hours", async () => {
    const res = await other.call('GET', `/api/working-hours/divisions/${divisionId}`);
    expect(res.status).to.equal(404);
    expect(res.body).to.not.have.property('working_hours');
  });
});

describe('PUT /api/working-hours/divisions/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  let divisionId: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    divisionId = (await makeDivision(s))._id;
  });
  itChecksAccess('PUT', () => `/api/working-hours/divisions/${divisionId}`, 'divisions.manage', () => s, {
    body: { days: [day(1, '08:00', '17:00')] },
  });

  it('creates the override from the global hours, changing only the named days', async () => {
    const res = await s.call('PUT', `/api/working-hours/divisions/${divisionId}`, {
      body: { days: [day(1, '10:00', '19:00'), day(0, '22:00', '02:00')] },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(compact(res.body)).to.deep.equal([
      '0 22:00:00-02:00:00',
      '1 10:00:00-19:00:00',
      ...DEFAULT_WEEK.slice(1),
    ]);
    expect(res.body.every((e: Entry) => e.division_id === divisionId)).to.equal(true);
    const global = await s.call('GET', '/api/working-hours');
    expect(compact(global.body)).to.deep.equal(DEFAULT_WEEK);
    expect(new Set([...global.body, ...res.body].map((e: Entry) => e.id)).size).to.equal(global.body.length + res.body.length);
  });

  it('is allowed with divisions.manage alone, and logged', async () => {
    const manager = await userWithPermissions(s, ['divisions.manage']);
    const res = await manager.call('PUT', `/api/working-hours/divisions/${divisionId}`, { body: { days: [day(6, '09:00', '12:00')] } });
    expect(res.status).to.equal(200);
    const logged = await actions(s, 'working_hours.override_updated');
    expect(logged.map((l) => l.resource_id)).to.include(divisionId);
  });

  it('answers 404 for an unknown division and 400 for a malformed id', async () => {
    const body = { days: [day(1, '08:00', '17:00')] };
    expect((await s.call('PUT', `/api/working-hours/divisions/${newId()}`, { body })).status).to.equal(404);
    expect((await s.call('PUT', `/api/working-hours/divisions/${MALFORMED_ID}`, { body })).status).to.equal(400);
  });

  it("answers 404 for another tenant's division and writes nothing", async () => {
    const theirs = await makeDivision(other);
    const res = await s.call('PUT', `/api/working-hours/divisions/${theirs._id}`, { body: { days: [day(1, '01:00', '02:00')] } });
    expect(res.status).to.equal(404);
    const check = await other.call('GET', `/api/working-hours/divisions/${theirs._id}`);
    expect(check.body.is_override).to.equal(false);
  });
  itRefusesBadUpserts(() => `/api/working-hours/divisions/${divisionId}`, () => s);
});

describe('DELETE /api/working-hours/divisions/{id}', () => {
  let s: TestSession;
  let other: TestSession;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
  });
  itChecksAccess('DELETE', () => `/api/working-hours/divisions/${newId()}`, 'divisions.manage', () => s);

  it('removes the override so the division follows the global hours again', async () => {
    const d = await makeDivision(s);
    await s.call('PUT', `/api/working-hours/divisions/${d._id}`, { body: { days: [day(6, '09:00', '12:00')] } });
    const res = await s.call('DELETE', `/api/working-hours/divisions/${d._id}`);
    expect(res.status).to.equal(200);
    expect(res.body.message).to.be.a('string').and.match(/removed/);
    const after = await s.call('GET', `/api/working-hours/divisions/${d._id}`);
    expect(after.body.is_override).to.equal(false);
    expect(compact(after.body.working_hours)).to.deep.equal(DEFAULT_WEEK);
    const logged = await actions(s, 'working_hours.override_deleted');
    expect(logged.map((l) => l.resource_id)).to.include(d._id);
  });

  it('answers 404 when the division has no override, or is unknown; 400 for a malformed id', async () => {
    const d = await makeDivision(s);
    const none = await s.call('DELETE', `/api/working-hours/divisions/${d._id}`);
    expect(none.status).to.equal(404);
    expect(none.body.message).to.match(/override/i);
    expect((await s.call('DELETE', `/api/working-hours/divisions/${newId()}`)).status).to.equal(404);
    expect((await s.call('DELETE', `/api/working-hours/divisions/${MALFORMED_ID}`)).status).to.equal(400);
  });

  it("answers 404 for another tenant's division and leaves its override", async () => {
    const theirs = await makeDivision(other);
    await other.call('PUT', `/api/working-hours/divisions/${theirs._id}`, { body: { days: [day(6, '09:00', '12:00')] } });
    const res = await s.call('DELETE', `/api/working-hours/divisions/${theirs._id}`);
    expect(res.status).to.equal(404);
    const check = await other.call('GET', `/api/working-hours/divisions/${theirs._id}`);
    expect(check.body.is_override).to.equal(true);
  });
});

describe('GET /api/settings/timezone', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/settings/timezone', 'settings.manage', () => s);

  it("answers the tenant's zone as a setting", async () => {
    const res = await s.call('GET', '/api/settings/timezone');
    expect(res.status).to.equal(200);
    expect(res.body).to.have.all.keys('key', 'value', 'updated_at');
    expect(res.body.key).to.equal('timezone');
    expect(res.body.value).to.equal('Asia/Jakarta');
    expect(Date.parse(res.body.updated_at)).to.be.a('number').and.not.NaN;
  });

  it("answers each tenant its own zone", async () => {
    const other = await createSession({ timezone: 'Europe/Berlin' });
    expect((await other.call('GET', '/api/settings/timezone')).body.value).to.equal('Europe/Berlin');
    expect((await s.call('GET', '/api/settings/timezone')).body.value).to.equal('Asia/Jakarta');
  });
});

describe('PUT /api/settings/timezone', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('PUT', () => '/api/settings/timezone', 'settings.manage', () => s, { body: { timezone: 'Asia/Makassar' } });

  it('changes the zone, stores its canonical spelling and logs it', async () => {
    const before = await s.call('GET', '/api/settings/timezone');
    await sleep(5);
    const res = await s.call('PUT', '/api/settings/timezone', { body: { timezone: 'america/new_york' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ key: 'timezone', value: 'America/New_York' });
    expect(Date.parse(res.body.updated_at)).to.be.greaterThan(Date.parse(before.body.updated_at));
    expect((await s.call('GET', '/api/settings/timezone')).body).to.deep.equal(res.body);
    expect((await s.call('GET', '/api/auth/me')).body.tenant.timezone).to.equal('America/New_York');
    expect(await actions(s, 'settings.timezone_updated')).to.have.length.greaterThan(0);
  });

  it('leaves updated_at alone when the zone does not change', async () => {
    const first = await s.call('PUT', '/api/settings/timezone', { body: { timezone: 'Asia/Makassar' } });
    await sleep(5);
    const again = await s.call('PUT', '/api/settings/timezone', { body: { timezone: 'Asia/Makassar' } });
    expect(again.body).to.deep.equal(first.body);
  });

  for (const [what, body] of [
    ['an unknown zone', { timezone: 'Mars/Olympus_Mons' }],
    ['an offset instead of a zone', { timezone: '+07:00' }],
    ['an empty zone', { timezone: '' }],
    ['a number', { timezone: 7 }],
    ['no zone', {}],
    ['an unknown field', { timezone: 'Asia/Jakarta', key: 'timezone' }],
  ] as const) {
    it(`answers 400 for ${what}`, async () => {
      const res = await s.call('PUT', '/api/settings/timezone', { body });
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    });
  }

  it("does not change another tenant's zone", async () => {
    const other = await createSession();
    await s.call('PUT', '/api/settings/timezone', { body: { timezone: 'Europe/London' } });
    expect((await other.call('GET', '/api/settings/timezone')).body.value).to.equal('Asia/Jakarta');
  });
});

describe('GET and PUT /api/working-hours/holidays', () => {
  let s: TestSession;
  before(async () => {
    s = await createSession();
  });
  itChecksAccess('GET', () => '/api/working-hours/holidays', 'settings.manage', () => s);
  itChecksAccess('PUT', () => '/api/working-hours/holidays', 'settings.manage', () => s, { body: { holidays: [] } });

  it('starts empty', async () => {
    const res = await s.call('GET', '/api/working-hours/holidays');
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ holidays: [] });
  });

  it('replaces the list, ordered by date, keeping ids and created_at of dates that stay', async () => {
    const first = await s.call('PUT', '/api/working-hours/holidays', {
      body: { holidays: [{ date: '2025-12-25', name: 'Natal' }, { date: '2025-08-17', name: 'Hari Kemerdekaan' }] },
    });
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body.holidays.map((h: { date: string }) => h.date)).to.deep.equal(['2025-08-17', '2025-12-25']);
    expect(first.body.holidays[0]).to.have.all.keys('id', 'date', 'name', 'created_at', 'updated_at');
    await sleep(10);
    const second = await s.call('PUT', '/api/working-hours/holidays', {
      body: { holidays: [{ date: '2025-08-17', name: 'HUT RI' }, { date: '2026-01-01', name: 'Tahun Baru' }] },
    });
    expect(second.body.holidays.map((h: { date: string; name: string }) => `${h.date} ${h.name}`)).to.deep.equal([
      '2025-08-17 HUT RI',
      '2026-01-01 Tahun Baru',
    ]);
    expect(second.body.holidays[0].id).to.equal(first.body.holidays[0].id);
    expect(second.body.holidays[0].created_at).to.equal(first.body.holidays[0].created_at);
    expect(Date.parse(second.body.holidays[0].updated_at)).to.be.greaterThan(Date.parse(first.body.holidays[0].updated_at));
    expect((await s.call('GET', '/api/working-hours/holidays')).body).to.deep.equal(second.body);
    expect(await actions(s, 'working_hours.holidays_updated')).to.have.length.greaterThan(0);
  });

  it('keeps the working hours when holidays change', async () => {
    expect(compact((await s.call('GET', '/api/working-hours')).body)).to.deep.equal(DEFAULT_WEEK);
  });

  for (const [what, body] of [
    ['a duplicate date', { holidays: [{ date: '2025-12-25', name: 'A' }, { date: '2025-12-25', name: 'B' }] }],
    ['an impossible date', { holidays: [{ date: '2025-02-30', name: 'A' }] }],
    ['a date with a time', { holidays: [{ date: '2025-12-25T00:00:00Z', name: 'A' }] }],
    ['a date out of range', { holidays: [{ date: '1899-12-25', name: 'A' }] }],
    ['a blank name', { holidays: [{ date: '2025-12-25', name: '   ' }] }],
    ['an unknown field', { holidays: [{ date: '2025-12-25', name: 'A', recurring: true }] }],
    ['no list', {}],
  ] as const) {
    it(`answers 400 for ${what}`, async () => {
      const res = await s.call('PUT', '/api/working-hours/holidays', { body });
      expect(res.status).to.equal(400);
      expect(res.body.code).to.equal('validation_error');
    });
  }

  it("keeps each tenant's holidays apart", async () => {
    const other = await createSession();
    expect((await other.call('GET', '/api/working-hours/holidays')).body).to.deep.equal({ holidays: [] });
  });
});

describe('GET /api/working-hours/status', () => {
  let s: TestSession;
  let other: TestSession;
  let divisionId: string;
  before(async () => {
    [s, other] = await Promise.all([createSession(), createSession()]);
    // Fixed answers whatever the wall clock says: the tenant is open around the clock, the
    // division (with an override) is closed all week.
    await s.call('PUT', '/api/working-hours', { body: { days: aroundTheClock } });
    divisionId = (await makeDivision(s))._id;
    await s.call('PUT', `/api/working-hours/divisions/${divisionId}`, { body: { days: closedAllWeek } });
    await other.call('PUT', '/api/working-hours', { body: { days: closedAllWeek } });
  });

  const localNow = (zone: string) => [0, 1].map((m) => DateTime.now().setZone(zone).minus({ minutes: m }).toFormat('HH:mm'));

  it('answers by slug without credentials, in the documented shape', async () => {
    const res = await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.have.all.keys('is_working_hours', 'timezone', 'current_time', 'next_change_at', 'holiday');
    expect(res.body).to.include({ is_working_hours: true, timezone: 'Asia/Jakarta', next_change_at: null, holiday: null });
    expect(localNow('Asia/Jakarta')).to.include(res.body.current_time);
  });

  it('answers by tenant id, and by the slug in any case', async () => {
    const byId = await api('GET', `/api/working-hours/status?tenant=${s.tenantId}`);
    expect(byId.status).to.equal(200);
    expect(byId.body.is_working_hours).to.equal(true);
    const upper = await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug.toUpperCase()}`);
    expect(upper.body.is_working_hours).to.equal(true);
  });

  it("answers for the caller's tenant when credentials are sent", async () => {
    const mine = await s.call('GET', '/api/working-hours/status');
    expect(mine.status).to.equal(200);
    expect(mine.body.is_working_hours).to.equal(true);
    const theirs = await other.call('GET', '/api/working-hours/status');
    expect(theirs.body).to.include({ is_working_hours: false, next_change_at: null });
    // The caller's own organization wins over ?tenant=.
    const both = await other.call('GET', `/api/working-hours/status?tenant=${s.tenantSlug}`);
    expect(both.body.is_working_hours).to.equal(false);
  });

  it('ignores a bad token and uses ?tenant=', async () => {
    const res = await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}`, { token: 'not-a-token' });
    expect(res.status).to.equal(200);
    expect(res.body.is_working_hours).to.equal(true);
  });

  it("uses a division's override, and the global hours for a division without one", async () => {
    const closed = await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}&division_id=${divisionId}`);
    expect(closed.status).to.equal(200);
    expect(closed.body).to.include({ is_working_hours: false, next_change_at: null });
    const plain = await makeDivision(s);
    const open = await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}&division_id=${plain._id}`);
    expect(open.body.is_working_hours).to.equal(true);
  });

  it('follows the time zone', async () => {
    const tz = await createSession({ timezone: 'America/New_York' });
    const res = await api('GET', `/api/working-hours/status?tenant=${tz.tenantSlug}`);
    expect(res.body.timezone).to.equal('America/New_York');
    expect(localNow('America/New_York')).to.include(res.body.current_time);
  });

  it('is closed on a holiday until the next opening, and names it', async () => {
    const h = await createSession({ timezone: 'Pacific/Auckland' });
    await h.call('PUT', '/api/working-hours', { body: { days: aroundTheClock } });
    const today = DateTime.now().setZone('Pacific/Auckland');
    await h.call('PUT', '/api/working-hours/holidays', { body: { holidays: [{ date: today.toISODate(), name: 'Waitangi Day' }] } });
    const res = await api('GET', `/api/working-hours/status?tenant=${h.tenantId}`);
    expect(res.body.is_working_hours).to.equal(false);
    expect(res.body.holiday).to.deep.equal({ date: today.toISODate(), name: 'Waitangi Day' });
    expect(res.body.next_change_at).to.equal(today.startOf('day').plus({ days: 1 }).toUTC().toISO());
  });

  it('answers 400 with neither credentials nor tenant', async () => {
    const res = await api('GET', '/api/working-hours/status');
    expect(res.status).to.equal(400);
    expect(res.body.details[0].field).to.equal('tenant');
  });

  it('answers 400 for a malformed division_id or an unknown query field', async () => {
    expect((await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}&division_id=${MALFORMED_ID}`)).status).to.equal(400);
    expect((await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}&zone=UTC`)).status).to.equal(400);
  });

  it('answers 404 for an unknown tenant or division', async () => {
    expect((await api('GET', '/api/working-hours/status?tenant=no-such-tenant-slug')).status).to.equal(404);
    expect((await api('GET', `/api/working-hours/status?tenant=${newId()}`)).status).to.equal(404);
    expect((await api('GET', `/api/working-hours/status?tenant=${s.tenantSlug}&division_id=${newId()}`)).status).to.equal(404);
  });

  it("answers 404 for another tenant's division, never its hours", async () => {
    const res = await other.call('GET', `/api/working-hours/status?division_id=${divisionId}`);
    expect(res.status).to.equal(404);
    const anon = await api('GET', `/api/working-hours/status?tenant=${other.tenantSlug}&division_id=${divisionId}`);
    expect(anon.status).to.equal(404);
  });

  it('answers 404 for a suspended tenant', async () => {
    const gone = await createSession();
    await setTenantStatus({ tenantId: gone.tenantId, status: 'suspended' });
    expect((await api('GET', `/api/working-hours/status?tenant=${gone.tenantSlug}`)).status).to.equal(404);
  });
});
