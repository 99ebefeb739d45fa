/**
 * Body and document limits (issue 8): an e-mail attachment becomes a media document in storage,
 * named by an /api/media URL; its bytes (or their base64) are never inside the message, its
 * stored event, or the socket frame. A delivery above 4 MB is kept in storage and still processed.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { EventModel } from '../../src/models/event.js';
import { messages } from '../../src/models/message.js';
import { findWebhookEvent, RAW_INLINE_MAX_BYTES } from '../../src/models/webhook-event.js';
import { baseUrl, testServerEnv } from '../setup.js';
import { multipartForm, mailgunFields } from '../support/mailgun.js';
import { findFirst } from '../support/repos.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket, waitFor } from '../support/sockets.js';
import { until } from '../support/whatsapp.js';

/** A small but real PDF (file-type reads `%PDF-`), with random bytes so its base64 is unmistakable. */
const pdfBytes = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'), randomBytes(size), Buffer.from('\n%%EOF\n')]);

/** Every way the bytes could have leaked into text: base64, base64url, hex, and a Buffer's JSON. */
function expectNoBytes(text: string, bytes: Buffer, where: string): void {
  const probe = bytes.subarray(16, 64);
  for (const encoded of [probe.toString('base64').slice(4, 40), probe.toString('base64url').slice(4, 40), probe.toString('hex').slice(0, 40)]) {
    expect(text, `${where} carries the attachment`).not.to.include(encoded);
  }
  expect(text, where).not.to.match(/"bytes"|"type":"Buffer"|"\$binary"/);
}

async function emailTenant(): Promise<{ s: TestSession; address: string; key: string }> {
  const s = await createSession();
  const key = `key-${randomBytes(16).toString('hex')}`;
  const domain = `toko-${randomBytes(4).toString('hex')}.example`;
  expect((await s.call('PUT', '/api/integrations/email', { body: { webhook_signing_secret: key, settings: { inbound_domain: domain } } })).status).to.equal(201);
  const address = `support@${domain}`;
  expect((await s.call('POST', '/api/integration-accounts', { body: { channel: 'email', external_id: address, name: 'Support' } })).status).to.equal(201);
  return { s, address, key };
}

const postForm = (url: string, form: { body: Buffer; contentType: string }) =>
  fetch(`${url}/api/webhooks/email`, { method: 'POST', body: new Uint8Array(form.body), headers: { 'content-type': form.contentType } });

describe('POST /api/webhooks/email (attachments become media documents)', () => {
  it('stores the attachment as tenant media, downloadable with its exact bytes, and nowhere inline', async () => {
    const { s, address, key } = await emailTenant();
    const other = await createSession();
    const socket = await openSocket(baseUrl(), { token: s.token });
    try {
      const bytes = pdfBytes(48 * 1024);
      const form = multipartForm(mailgunFields(address, key, { 'attachment-count': '1' }), [
        { name: 'attachment-1', filename: 'invoice-881.pdf', contentType: 'application/pdf', data: bytes },
      ]);
      const res = await postForm(baseUrl(), form);
      expect(res.status, await res.clone().text()).to.equal(200);
      const m = await until(() => findFirst(messages, { tenant_id: s.tenantId, channel: 'email' }), 'the e-mail message');
      const media = (m.content.media as { url: string; filename: string; mimeType: string; size: number }[])[0];
      expect(media?.url).to.match(/^\/api\/media\/[0-9a-f-]{36}$/);
      expect(media).to.include({ filename: 'invoice-881.pdf', mimeType: 'application/pdf', size: bytes.length });
      expect(Object.keys(media ?? {})).not.to.include('bytes');

      const download = await fetch(`${baseUrl()}${media?.url}`, { headers: { authorization: `Bearer ${s.token}` } });
      expect(download.status).to.equal(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).to.equal(true);
      const theirs = await fetch(`${baseUrl()}${media?.url}`, { headers: { authorization: `Bearer ${other.token}` } });
      expect(theirs.status).to.equal(404);

      expectNoBytes(JSON.stringify(await messages.findOwned(s.tenantId, m._id)), bytes, 'the stored message');
      const stored = await EventModel.find({ tenant_id: s.tenantId }).lean().exec();
      expect(stored.length).to.be.greaterThan(0);
      expectNoBytes(JSON.stringify(stored), bytes, 'the events collection');
      await waitFor(() => socket.named('message.created').length > 0, 'the message.created frame');
      const frame = socket.named('message.created')[0];
      expect(frame?.data.content.media[0].url).to.equal(media?.url);
      expectNoBytes(JSON.stringify(socket.events), bytes, 'the socket frames');
    } finally {
      socket.close();
    }
  });

  describe('a delivery above 4 MB (WEBHOOK_BODY_LIMIT_KB raised to 8 MB on a second process)', () => {
    let big: ServerProcess;
    before(async function () {
      this.timeout(60000);
      big = await startServerProcess({ ...testServerEnv(), WEBHOOK_BODY_LIMIT_KB: '8192' });
    });
    after(() => big?.kill());

    it('keeps the raw body in storage, not in the delivery document, and still processes it', async () => {
      const { s, address, key } = await emailTenant();
      const bytes = pdfBytes(RAW_INLINE_MAX_BYTES + 256 * 1024);
      const form = multipartForm(mailgunFields(address, key, { 'attachment-count': '1' }), [
        { name: 'attachment-1', filename: 'scan.pdf', contentType: 'application/pdf', data: bytes },
      ]);
      expect(form.body.length).to.be.greaterThan(RAW_INLINE_MAX_BYTES);
      const res = await postForm(big.url, form);
      const body = (await res.json()) as { id: string };
      expect(res.status, JSON.stringify(body)).to.equal(200);
      const delivery = await until(async () => {
        const e = await findWebhookEvent(body.id);
        return e && e.status !== 'pending' ? e : null;
      }, 'the large delivery processed', 20000);
      expect(delivery.status).to.equal('processed');
      expect(delivery.raw ?? null).to.equal(null);
      expect(delivery.raw_storage?.key).to.equal(`webhooks/${body.id}/body`);
      const m = await until(() => findFirst(messages, { tenant_id: s.tenantId, channel: 'email' }), 'the large e-mail');
      const url = (m.content.media as { url: string }[])[0]?.url;
      const download = await fetch(`${baseUrl()}${url}`, { headers: { authorization: `Bearer ${s.token}` } });
      expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).to.equal(true);
      expectNoBytes(JSON.stringify(m), bytes, 'the stored message');
    });
  });
});
