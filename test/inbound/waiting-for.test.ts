/**
 * A delivery ignored for an account not yet connected is kept and processed once when Meta
 * retries it after the account is connected (issue 8), instead of being dropped as a duplicate.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { naturalId } from '../../src/ids.js';
import { messages } from '../../src/models/message.js';
import { findWebhookEvent } from '../../src/models/webhook-event.js';
import { testServerEnv } from '../setup.js';
import { ownerToken } from '../support/meta-owner.js';
import { createSession } from '../support/session.js';
import { digits, postSigned, textWebhook, until } from '../support/whatsapp.js';

describe('POST /api/webhooks/meta (a delivery for a number connected later)', () => {
  it('keeps it, and processes Meta’s retry exactly once after the number is connected, even when two retries race', async () => {
    const platformSecret = testServerEnv().META_APP_SECRET ?? '';
    const phoneNumberId = digits(15);
    const wamid = `wamid.${randomBytes(12).toString('base64url')}`;
    const raw = textWebhook(phoneNumberId, `628${digits(10)}`, wamid, 'Halo, ada orang?');

    // Nobody has connected the number yet: acknowledged (Meta must not retry forever), ignored.
    const first = await postSigned(raw, platformSecret);
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    const ignored = await until(async () => {
      const e = await findWebhookEvent(first.body.id);
      return e && e.status === 'ignored' ? e : null;
    }, 'the delivery ignored');
    expect(ignored.waiting_for).to.deep.equal([phoneNumberId]);

    // The organization connects it.
    const s = await createSession();
    expect((await s.call('PUT', '/api/integrations/whatsapp', { body: {} })).status).to.equal(201);
    const account = await s.call('POST', '/api/integration-accounts', {
      body: { channel: 'whatsapp', external_id: phoneNumberId, name: 'Late line', access_token: ownerToken(phoneNumberId) },
    });
    expect(account.status, JSON.stringify(account.body)).to.equal(201);

    // Meta retries the identical body, twice at once.
    const retries = await Promise.all([postSigned(raw, platformSecret), postSigned(raw, platformSecret)]);
    expect(retries.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(retries.map((r) => r.body.id)).to.deep.equal([first.body.id, first.body.id]);
    expect(retries.map((r) => r.body.duplicate).sort()).to.deep.equal([false, true]);

    const messageId = naturalId('message', s.tenantId, 'whatsapp', wamid);
    const m = await until(() => messages.findOwnedOrNull(s.tenantId, messageId), 'the message, once the retry is processed');
    expect(m.text).to.equal('Halo, ada orang?');
    const done = await until(async () => {
      const e = await findWebhookEvent(first.body.id);
      return e && e.status === 'processed' ? e : null;
    }, 'the delivery processed');
    expect(done.waiting_for).to.deep.equal([]);
    expect(done.tenant_id).to.equal(s.tenantId);

    // A later retry is a duplicate again, and there is still one message.
    const late = await postSigned(raw, platformSecret);
    expect(late.body.duplicate).to.equal(true);
    expect(await messages.find({ tenant_id: s.tenantId })).to.have.length(1);
  });
});
