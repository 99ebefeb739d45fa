/**
 * CSAT over real HTTP: surveys sent through the conversation (WhatsApp, against the local fake
 * Graph API, whose request carries the rating link), the customer's public submission, the
 * automatic survey on resolve, and analytics checked against numbers computed here from
 * fixtures.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { DateTime } from 'luxon';
import { newId } from '../../src/ids.js';
import { activityLogs } from '../../src/models/activity-log.js';
import { CsatSurveyModel } from '../../src/models/csat.js';
import { EventModel } from '../../src/models/event.js';
import { findCursor } from '../../src/models/listener-cursor.js';
import { updateCsatSettings } from '../../src/services/csat.js';
import { fakeGraph } from '../setup.js';
import type { RecordedRequest } from '../support/fake-graph.js';
import { api } from '../support/http.js';
import { itChecksAccess } from '../support/access.js';
import { createSession, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, until, type WhatsappAccount } from '../support/whatsapp.js';

/** Makes the fake Graph API accept sends on this number; answers the texts sent. */
function acceptSends(wa: WhatsappAccount): string[] {
  const texts: string[] = [];
  fakeGraph().on('POST', `/v21.0/${wa.phoneNumberId}/messages`, (req: RecordedRequest) => {
    const body = req.json as { to?: string; text?: { body?: string } };
    texts.push(body.text?.body ?? '');
    return { body: { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: `wamid.${randomBytes(12).toString('base64url')}` }] } };
  });
  return texts;
}

/** The token in a survey message's link. */
const tokenIn = (text: string) => /[?&]token=([A-Za-z0-9_-]{43})/.exec(text)?.[1] ?? null;

const submit = (token: string, body: unknown) => api('PATCH', `/api/csat/${token}`, { body });

describe('CSAT', function () {
  this.timeout(30000);
  let s: TestSession;
  let wa: WhatsappAccount;
  let sent: string[];
  let other: TestSession;
  let otherConversation: string;

  before(async () => {
    s = await createSession();
    wa = await connectWhatsapp(s);
    other = await createSession();
    otherConversation = (await startConversation(other, await connectWhatsapp(other))).conversationId;
  });
  beforeEach(() => {
    sent = acceptSends(wa);
  });

  /** A survey made over HTTP for a new conversation, and its token from the message sent. */
  async function surveyed() {
    const c = await startConversation(s, wa);
    const before = sent.length;
    const res = await s.call('POST', `/api/conversations/${c.conversationId}/csat`);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const text = sent.slice(before).find((t) => tokenIn(t) !== null) ?? '';
    return { c, survey: res.body, token: tokenIn(text) as string };
  }

  describe('POST /api/conversations/{id}/csat', () => {
    it('creates the survey and sends the customer a rating link, once per conversation', async () => {
      const { c, survey, token } = await surveyed();
      expect(survey).to.deep.include({ conversation_id: c.conversationId, trigger: 'manual', status: 'sent', rating: null, send_error: null });
      expect(survey.message_id).to.be.a('string');
      expect(token).to.have.length(43);
      expect(JSON.stringify(survey)).to.not.include(token);
      expect((await s.call('POST', `/api/conversations/${c.conversationId}/csat`)).status).to.equal(409);
      const stored = await CsatSurveyModel.findById(survey.id).lean().exec();
      // Stored hashed: the token itself is nowhere in the document.
      expect(JSON.stringify(stored)).to.not.include(token);
    });

    it('keeps the survey as not sent, with the reason, outside WhatsApp’s 24-hour window', async () => {
      const c = await startConversation(s, wa, { at: Math.floor(Date.now() / 1000) - 26 * 3600 });
      const before = sent.length;
      const res = await s.call('POST', `/api/conversations/${c.conversationId}/csat`);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.status).to.equal('not_sent');
      expect(res.body.send_error.code).to.equal('state_not_allowed');
      expect(res.body.send_error.message).to.match(/24-hour/);
      expect(sent.length).to.equal(before);
    });

    it('answers 400 for a bad id and 404 for another tenant’s conversation', async () => {
      expect((await s.call('POST', '/api/conversations/nope/csat')).status).to.equal(400);
      expect((await s.call('POST', `/api/conversations/${otherConversation}/csat`)).status).to.equal(404);
    });

    itChecksAccess('POST', () => `/api/conversations/${otherConversation}/csat`, 'csat.manage', () => s);
  });

  describe('GET /api/conversations/{id}/csat', () => {
    it('answers the survey, and 404 for a conversation without one', async () => {
      const { c, survey } = await surveyed();
      const res = await s.call('GET', `/api/conversations/${c.conversationId}/csat`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal(survey);
      const bare = await startConversation(s, wa);
      expect((await s.call('GET', `/api/conversations/${bare.conversationId}/csat`)).status).to.equal(404);
    });

    it('answers 400 for a bad id and 404 for another tenant’s conversation', async () => {
      expect((await s.call('GET', '/api/conversations/nope/csat')).status).to.equal(400);
      expect((await s.call('GET', `/api/conversations/${otherConversation}/csat`)).status).to.equal(404);
    });

    itChecksAccess('GET', () => `/api/conversations/${otherConversation}/csat`, 'conversations.view', () => s);
  });

  describe('PATCH /api/csat/{token}', () => {
    it('records the rating once, without credentials, answering only the submission; reuse is 409', async () => {
      const { c, survey, token } = await surveyed();
      const res = await submit(token, { rating: 4, comment: '  Cepat dan ramah 👍 ' });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(Object.keys(res.body).sort()).to.deep.equal(['comment', 'rating', 'submitted_at']);
      expect(res.body).to.deep.include({ rating: 4, comment: 'Cepat dan ramah 👍' });
      const again = await submit(token, { rating: 1 });
      expect(again.status).to.equal(409);
      const got = (await s.call('GET', `/api/conversations/${c.conversationId}/csat`)).body;
      expect(got).to.deep.include({ id: survey.id, status: 'completed', rating: 4, comment: 'Cepat dan ramah 👍' });
      const events = await EventModel.find({ tenant_id: s.tenantId, event: 'csat.submitted' }).lean().exec();
      expect(events.filter((e) => (e.data as { id: string }).id === survey.id)).to.have.length(1);
    });

    it('two submissions at once: one wins, the other is 409', async () => {
      const { token } = await surveyed();
      const statuses = (await Promise.all([submit(token, { rating: 5 }), submit(token, { rating: 2 })])).map((r) => r.status).sort();
      expect(statuses).to.deep.equal([200, 409]);
    });

    it('answers 410 for an expired link', async () => {
      const { survey, token } = await surveyed();
      // The clock passes CSAT_TOKEN_TTL_HOURS: the stored expiry is moved into the past.
      await CsatSurveyModel.updateOne({ _id: survey.id }, { $set: { expires_at: new Date(Date.now() - 1000) } }).exec();
      const res = await submit(token, { rating: 5 });
      expect(res.status).to.equal(410);
      expect(res.body.code).to.equal('expired');
    });

    it('answers 404 for an unknown token and 400 for bad input', async () => {
      const { token } = await surveyed();
      expect((await submit(randomBytes(32).toString('base64url'), { rating: 5 })).status).to.equal(404);
      expect((await submit('short', { rating: 5 })).status).to.equal(400);
      for (const body of [{}, { rating: 0 }, { rating: 6 }, { rating: 4.5 }, { rating: 3, comment: 'x'.repeat(1001) }, { rating: 3, extra: true }]) {
        expect((await submit(token, body)).status, JSON.stringify(body)).to.equal(400);
      }
      // Still unused after the refusals.
      expect((await submit(token, { rating: 3 })).status).to.equal(200);
    });
  });

  describe('automatic survey on resolve', () => {
    it('is created and sent once when the tenant asks for it, even after a reopen and a second resolve', async () => {
      const t = await createSession();
      const twa = await connectWhatsapp(t);
      const texts = acceptSends(twa);
      await updateCsatSettings(t.tenantId, { autoSendOnResolve: true });
      const c = await startConversation(t, twa);
      const resolve = async (status: string) => expect((await t.call('PATCH', `/api/conversations/${c.conversationId}/status`, { body: { status } })).status).to.equal(200);
      await resolve('resolved');
      const survey = await until(async () => {
        const res = await t.call('GET', `/api/conversations/${c.conversationId}/csat`);
        return res.status === 200 && res.body.status === 'sent' ? res.body : null;
      }, 'the survey sent');
      expect(survey.trigger).to.equal('resolved');
      await resolve('open');
      await resolve('resolved');
      const marker = await startConversation(t, twa);
      await t.call('PATCH', `/api/conversations/${marker.conversationId}/status`, { body: { status: 'resolved' } });
      // The marker's survey comes after the second resolve in seq order: once it exists, that resolve was handled.
      await until(async () => (await t.call('GET', `/api/conversations/${marker.conversationId}/csat`)).body.status === 'sent', 'the marker survey sent');
      expect(await CsatSurveyModel.countDocuments({ tenant_id: t.tenantId, conversation_id: c.conversationId }).exec()).to.equal(1);
      expect(texts.filter((x) => tokenIn(x) !== null)).to.have.length(2);
    });

    it('is not created when the setting is off (the default)', async () => {
      const c = await startConversation(s, wa);
      await s.call('PATCH', `/api/conversations/${c.conversationId}/status`, { body: { status: 'resolved' } });
      const events = await EventModel.find({ tenant_id: s.tenantId, event: 'conversation.updated' }).lean().exec();
      const resolution = events.find((e) => (e.data as { id: string; status: string }).id === c.conversationId && (e.data as { status: string }).status === 'resolved');
      const seq = (resolution as { seq: number }).seq;
      // The CSAT listener has handled the resolution once its cursor is past it.
      await until(async () => ((await findCursor('csat', s.tenantId))?.seq ?? 0) >= seq, 'the CSAT listener past the resolution', 15_000);
      expect((await s.call('GET', `/api/conversations/${c.conversationId}/csat`)).status).to.equal(404);
    });
  });

  describe('GET /api/settings/csat', () => {
    it('answers the defaults for a new organization', async () => {
      const fresh = await createSession();
      const res = await fresh.call('GET', '/api/settings/csat');
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.deep.equal({ key: 'csat', value: { auto_send_on_resolve: false }, updated_at: null });
    });

    itChecksAccess('GET', () => '/api/settings/csat', 'settings.manage', () => s);
  });

  describe('PUT /api/settings/csat', () => {
    /** Turns the automatic survey on or off for `t`, over HTTP. */
    async function setAutoSend(t: TestSession, on: boolean) {
      const res = await t.call('PUT', '/api/settings/csat', { body: { auto_send_on_resolve: on } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body;
    }

    /** Resolves a conversation of `t` and answers the seq of the resolution's event. */
    async function resolvedAt(t: TestSession, conversationId: string): Promise<number> {
      expect((await t.call('PATCH', `/api/conversations/${conversationId}/status`, { body: { status: 'resolved' } })).status).to.equal(200);
      const events = await EventModel.find({ tenant_id: t.tenantId, event: 'conversation.updated' }).lean().exec();
      const resolved = events.filter((e) => (e.data as { id: string; status: string }).id === conversationId && (e.data as { status: string }).status === 'resolved');
      expect(resolved).to.have.length(1);
      return (resolved[0] as { seq: number }).seq;
    }

    it('changes the setting, answers it as GET does and logs it', async () => {
      const t = await createSession();
      const on = await setAutoSend(t, true);
      expect(on).to.deep.include({ key: 'csat', value: { auto_send_on_resolve: true } });
      expect(Date.parse(on.updated_at)).to.be.a('number').and.not.NaN;
      expect((await t.call('GET', '/api/settings/csat')).body).to.deep.equal(on);
      const off = await setAutoSend(t, false);
      expect(off.value).to.deep.equal({ auto_send_on_resolve: false });
      expect((await t.call('GET', '/api/settings/csat')).body).to.deep.equal(off);
      expect(await activityLogs.find({ tenant_id: t.tenantId, action: 'settings.csat_updated' })).to.have.length(2);
    });

    for (const [what, body] of [
      ['no field', {}],
      ['a string', { auto_send_on_resolve: 'yes' }],
      ['a number', { auto_send_on_resolve: 1 }],
      ['null', { auto_send_on_resolve: null }],
      ['an unknown field', { auto_send_on_resolve: true, delay_minutes: 5 }],
    ] as const) {
      it(`answers 400 for ${what}, naming the field, and changes nothing`, async () => {
        const t = await createSession();
        const res = await t.call('PUT', '/api/settings/csat', { body });
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.code).to.equal('validation_error');
        expect(JSON.stringify(res.body.details)).to.match(/auto_send_on_resolve|delay_minutes/);
        expect((await t.call('GET', '/api/settings/csat')).body.value).to.deep.equal({ auto_send_on_resolve: false });
      });
    }

    it("does not change another organization's setting", async () => {
      const [a, b] = await Promise.all([createSession(), createSession()]);
      await setAutoSend(a, true);
      expect((await b.call('GET', '/api/settings/csat')).body).to.deep.equal({ key: 'csat', value: { auto_send_on_resolve: false }, updated_at: null });
      await setAutoSend(b, false);
      expect((await a.call('GET', '/api/settings/csat')).body.value).to.deep.equal({ auto_send_on_resolve: true });
    });

    it('on: resolving a conversation sends the survey; off: resolving sends none', async () => {
      const [onTenant, offTenant] = await Promise.all([createSession(), createSession()]);
      const [onWa, offWa] = await Promise.all([connectWhatsapp(onTenant), connectWhatsapp(offTenant)]);
      const onTexts = acceptSends(onWa);
      const offTexts = acceptSends(offWa);
      await setAutoSend(onTenant, true);
      // Turned on, then off again: the PUT that turns it off is what holds.
      await setAutoSend(offTenant, true);
      await setAutoSend(offTenant, false);

      const onConv = await startConversation(onTenant, onWa);
      await resolvedAt(onTenant, onConv.conversationId);
      const survey = await until(async () => {
        const res = await onTenant.call('GET', `/api/conversations/${onConv.conversationId}/csat`);
        return res.status === 200 && res.body.status === 'sent' ? res.body : null;
      }, 'the survey sent on resolve');
      expect(survey.trigger).to.equal('resolved');
      expect(onTexts.filter((x) => tokenIn(x) !== null)).to.have.length(1);

      const offConv = await startConversation(offTenant, offWa);
      const seq = await resolvedAt(offTenant, offConv.conversationId);
      // The CSAT listener has handled the resolution once its cursor is past it.
      await until(async () => ((await findCursor('csat', offTenant.tenantId))?.seq ?? 0) >= seq, 'the CSAT listener past the resolution', 15_000);
      expect((await offTenant.call('GET', `/api/conversations/${offConv.conversationId}/csat`)).status).to.equal(404);
      expect(await CsatSurveyModel.countDocuments({ tenant_id: offTenant.tenantId }).exec()).to.equal(0);
      expect(offTexts.filter((x) => tokenIn(x) !== null)).to.have.length(0);
    });

    itChecksAccess('PUT', () => '/api/settings/csat', 'settings.manage', () => s, { body: { auto_send_on_resolve: true } });
  });

  describe('GET /api/csat/analytics', () => {
    let a: TestSession;
    const agents = [randomUUID(), randomUUID()];
    const divisionsIds = [randomUUID(), null];
    /** Fixtures: created_at, agent, division, rating (null: unanswered), sent. */
    let fixtures: { at: Date; agent: string | null; division: string | null; rating: number | null; sent: boolean }[];

    before(async () => {
      a = await createSession();
      expect((await a.call('PUT', '/api/settings/timezone', { body: { timezone: 'Asia/Jakarta' } })).status).to.equal(200);
      // Around the Jakarta midnights of 2024-08-10/11/12 (17:00Z): a UTC day would split them differently.
      const times = ['2024-08-09T16:59:00Z', '2024-08-09T17:00:00Z', '2024-08-10T03:00:00Z', '2024-08-10T16:30:00Z', '2024-08-10T17:30:00Z', '2024-08-10T18:00:00Z', '2024-08-11T10:00:00Z', '2024-08-11T16:59:59Z', '2024-08-11T17:00:00Z'];
      fixtures = [];
      for (let i = 0; i < 40; i++) {
        fixtures.push({
          at: new Date(Date.parse(times[i % times.length] as string) + Math.floor(i / times.length) * 1000),
          agent: i % 5 === 0 ? null : (agents[i % 2] as string),
          division: divisionsIds[i % 3 === 0 ? 1 : 0] as string | null,
          rating: i % 4 === 3 ? null : (i % 5) + 1,
          sent: i % 7 !== 6,
        });
      }
      await CsatSurveyModel.insertMany(
        fixtures.map((f) => ({
          _id: newId(),
          tenant_id: a.tenantId,
          conversation_id: newId(),
          contact_id: newId(),
          channel: 'whatsapp',
          agent_id: f.agent,
          division_id: f.division,
          trigger: 'manual',
          created_by: null,
          status: !f.sent ? 'not_sent' : f.rating === null ? 'sent' : 'completed',
          token_hash: randomBytes(32).toString('hex'),
          token_nonce: 'fixture',
          expires_at: new Date(f.at.getTime() + 86_400_000),
          message_id: null,
          send_error: null,
          rating: f.rating,
          comment: null,
          responded_at: f.rating === null ? null : f.at,
          created_at: f.at,
          updated_at: f.at,
        })),
      );
    });

    /** The numbers computed here, from the fixtures, for Jakarta days [from, to]. */
    function expected(from: string, to: string, keep: (f: (typeof fixtures)[number]) => boolean = () => true) {
      const inRange = fixtures.filter((f) => {
        const day = DateTime.fromJSDate(f.at, { zone: 'Asia/Jakarta' }).toISODate() as string;
        return day >= from && day <= to && keep(f);
      });
      const summary = (fs: typeof fixtures) => {
        const rated = fs.filter((f) => f.rating !== null);
        const sentCount = fs.filter((f) => f.sent).length;
        return {
          surveys: fs.length,
          sent: sentCount,
          responses: rated.length,
          response_rate: sentCount ? Math.round((rated.length / sentCount) * 10000) / 10000 : null,
          average_rating: rated.length ? Math.round((rated.reduce((x, f) => x + (f.rating as number), 0) / rated.length) * 100) / 100 : null,
        };
      };
      const distribution = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } as Record<string, number>;
      for (const f of inRange) if (f.rating !== null) distribution[String(f.rating)] = (distribution[String(f.rating)] ?? 0) + 1;
      const per = (key: 'agent' | 'division') => {
        const ids = [...new Set(inRange.map((f) => f[key]))];
        return Object.fromEntries(ids.map((id) => [String(id), summary(inRange.filter((f) => f[key] === id))]));
      };
      return { ...summary(inRange), distribution, byAgent: per('agent'), byDivision: per('division') };
    }

    const keyed = (rows: any[], key: string) => Object.fromEntries(rows.map(({ [key]: id, ...rest }) => [String(id), rest]));

    for (const [from, to] of [
      ['2024-08-10', '2024-08-10'],
      ['2024-08-11', '2024-08-11'],
      ['2024-08-09', '2024-08-12'],
    ] as const) {
      it(`matches an independent count for Jakarta days ${from}..${to}`, async () => {
        const res = await a.call('GET', `/api/csat/analytics?from=${from}&to=${to}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        const want = expected(from, to);
        expect(res.body).to.deep.include({ timezone: 'Asia/Jakarta', from, to, surveys: want.surveys, sent: want.sent, responses: want.responses, response_rate: want.response_rate, average_rating: want.average_rating });
        expect(res.body.distribution).to.deep.equal(want.distribution);
        expect(keyed(res.body.by_agent, 'agent_id')).to.deep.equal(want.byAgent);
        expect(keyed(res.body.by_division, 'division_id')).to.deep.equal(want.byDivision);
      });
    }

    it('one Jakarta day is not the UTC day', async () => {
      const jakarta = (await a.call('GET', '/api/csat/analytics?from=2024-08-10&to=2024-08-10')).body.surveys;
      const utcDay = fixtures.filter((f) => f.at.toISOString().startsWith('2024-08-10')).length;
      expect(jakarta).to.equal(expected('2024-08-10', '2024-08-10').surveys);
      expect(jakarta).to.not.equal(utcDay);
    });

    it('filters by agent and by division', async () => {
      const agent = agents[0] as string;
      const byAgent = (await a.call('GET', `/api/csat/analytics?from=2024-08-09&to=2024-08-12&agent_id=${agent}`)).body;
      expect(byAgent.responses).to.equal(expected('2024-08-09', '2024-08-12', (f) => f.agent === agent).responses);
      const division = divisionsIds[0] as string;
      const byDivision = (await a.call('GET', `/api/csat/analytics?from=2024-08-09&to=2024-08-12&division_id=${division}`)).body;
      expect(byDivision.average_rating).to.equal(expected('2024-08-09', '2024-08-12', (f) => f.division === division).average_rating);
    });

    it('answers 400 for bad dates, 422 for a reversed or too long range, and nothing of another tenant', async () => {
      expect((await a.call('GET', '/api/csat/analytics?from=2024-13-01&to=2024-12-01')).status).to.equal(400);
      expect((await a.call('GET', '/api/csat/analytics?to=2024-12-01')).status).to.equal(400);
      expect((await a.call('GET', '/api/csat/analytics?from=2024-08-12&to=2024-08-10')).status).to.equal(422);
      expect((await a.call('GET', '/api/csat/analytics?from=2022-01-01&to=2024-08-10')).status).to.equal(422);
      expect((await other.call('GET', '/api/csat/analytics?from=2024-08-09&to=2024-08-12')).body.surveys).to.equal(0);
    });

    itChecksAccess('GET', () => '/api/csat/analytics?from=2024-08-09&to=2024-08-12', 'analytics.view', () => s);
  });
});
