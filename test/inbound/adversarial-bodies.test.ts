/**
 * Cheap before verified (issue 8): multi-megabyte bodies built to make a parser or a regex
 * work quadratically or blow its stack, unsigned and signed with a tenant's own secret. While
 * each is uploaded and handled, the server answers GET /api/health within 100 ms: the probe
 * starts with the upload and keeps going until the delivery is answered and processed.
 * The server is its own process (WEBHOOK_BODY_LIMIT_KB 8192 for e-mail, Meta's default 3 MB),
 * so the bodies and the clock of this test process never share its event loop.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as pause } from 'node:timers/promises';
import { expect } from 'chai';
import { signMetaBody } from '../../channels/meta-signature.js';
import { signMailgunFields } from '../../channels/email/verify.js';
import { findWebhookEvent } from '../../src/models/webhook-event.js';
import { testServerEnv } from '../setup.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession } from '../support/session.js';
import { connectWhatsapp, digits, until, type WhatsappAccount } from '../support/whatsapp.js';

const MB = 1024 * 1024;
const CHUNK = 128 * 1024;

/** Uploads `body` in chunks, yielding between them, so the server receives it while probes run. */
function upload(url: string, body: Buffer, headers: Record<string, string>): Promise<Response> {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await pause();
      if (at >= body.length) return controller.close();
      controller.enqueue(new Uint8Array(body.subarray(at, at + CHUNK)));
      at += CHUNK;
    },
  });
  return fetch(url, { method: 'POST', body: stream, headers: { ...headers, 'content-length': String(body.length) }, duplex: 'half' } as RequestInit);
}

/** Runs `work` while GET /api/health is asked over and over; answers its result and every probe's latency (ms). */
async function probing<T>(server: ServerProcess, work: () => Promise<T>): Promise<{ result: T; latencies: number[] }> {
  const latencies: number[] = [];
  let done = false;
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      const res = await fetch(`${server.url}/api/health`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
    }
  })();
  try {
    return { result: await work(), latencies };
  } finally {
    done = true;
    await prober;
  }
}

/** The WhatsApp text webhook for `wa`, with `junk` as an extra field no parser reads. */
const metaBody = (wa: WhatsappAccount, junk: string) =>
  Buffer.from(
    `{"object":"whatsapp_business_account","entry":[{"id":"${digits(15)}","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",` +
      `"metadata":{"display_phone_number":"15550783881","phone_number_id":"${wa.phoneNumberId}"},"junk":${junk},` +
      `"contacts":[{"profile":{"name":"Eve"},"wa_id":"6281${digits(8)}"}],"messages":[{"from":"6281${digits(8)}","id":"wamid.${randomBytes(8).toString('hex')}","timestamp":"${Math.floor(Date.now() / 1000)}","type":"text","text":{"body":"hi"}}]}}]}]}`,
  );

// Just under META_WEBHOOK_BODY_LIMIT_KB's default (3 MB), as large as Meta's bodies may be.
const META_JUNK: [string, () => string][] = [
  ['2.5 MB of backslashes in one string', () => `"${'\\\\'.repeat(1.25 * MB)}"`],
  ['2.5 MB of escaped quotes after backslash runs', () => `"${'\\\\\\"'.repeat(0.6 * MB)}"`],
  ['2.5 MB of short strings and numbers', () => `[${'"\\u00e9",1e5,'.repeat(0.18 * MB)}0]`],
];

describe('POST /api/webhooks/* with multi-megabyte adversarial bodies', () => {
  let server: ServerProcess;
  let wa: WhatsappAccount;
  let address: string;
  const mailKey = `key-${randomBytes(16).toString('hex')}`;
  before(async function () {
    this.timeout(60000);
    server = await startServerProcess({ ...testServerEnv(), WEBHOOK_BODY_LIMIT_KB: '8192' });
    const s = await createSession();
    wa = await connectWhatsapp(s);
    const domain = `toko-${randomBytes(4).toString('hex')}.example`;
    expect((await s.call('PUT', '/api/integrations/email', { body: { webhook_signing_secret: mailKey, settings: { inbound_domain: domain } } })).status).to.equal(201);
    address = `support@${domain}`;
    expect((await s.call('POST', '/api/integration-accounts', { body: { channel: 'email', external_id: address, name: 'Support' } })).status).to.equal(201);
  });
  after(() => server?.kill());

  /** Posts, waits for the answer and (when accepted) for processing, probing all along; checks the bound. */
  async function attack(path: string, body: Buffer, headers: Record<string, string>, expected: number) {
    const { result, latencies } = await probing(server, async () => {
      const res = await upload(`${server.url}${path}`, body, headers);
      const answer = (await res.json()) as { id?: string; message?: string };
      if (res.status === 200 && answer.id) {
        await until(async () => {
          const e = await findWebhookEvent(answer.id as string);
          return e && e.status !== 'pending' ? e : null;
        }, 'the delivery processed', 20000);
      }
      return { status: res.status, answer };
    });
    expect(result.status, JSON.stringify(result.answer)).to.equal(expected);
    expect(JSON.stringify(result.answer)).not.to.match(/\n\s+at /);
    expect(latencies.length, 'probes made during the attack').to.be.at.least(1);
    expect(Math.max(...latencies), `health latencies ${latencies.map((l) => l.toFixed(0)).join(',')} ms`).to.be.below(100);
    return result.answer;
  }

  for (const [what, junk] of META_JUNK) {
    it(`answers other requests within 100 ms during ${what}, unsigned (401)`, async () => {
      const body = metaBody(wa, junk());
      await attack('/api/webhooks/meta', body, { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, 401);
    });
    it(`answers other requests within 100 ms during ${what}, signed by the tenant (200, processed)`, async () => {
      const body = metaBody(wa, junk());
      await attack('/api/webhooks/meta', body, { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(body, wa.appSecret) }, 200);
    });
  }

  for (const signed of [false, true]) {
    it(`refuses 2.5 MB of nested arrays before verifying, ${signed ? 'signed' : 'unsigned'} (400), answering others within 100 ms`, async () => {
      const body = metaBody(wa, `${'['.repeat(1.25 * MB)}${']'.repeat(1.25 * MB)}`);
      const signature = signed ? signMetaBody(body, wa.appSecret) : `sha256=${'0'.repeat(64)}`;
      const answer = await attack('/api/webhooks/meta', body, { 'content-type': 'application/json', 'x-hub-signature-256': signature }, 400);
      expect(answer.message).to.match(/nests deeper than 64 levels/);
    });
  }

  it('refuses a 6 MB Meta body unread (413), answering others within 100 ms', async () => {
    const body = metaBody(wa, `"${'x'.repeat(6 * MB)}"`);
    await attack('/api/webhooks/meta', body, { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(body, wa.appSecret) }, 413);
  });

  it('answers other requests within 100 ms during a 6 MB form of 400,000 fields (400)', async () => {
    const body = Buffer.from(`${'x=1&'.repeat(400_000)}recipient=${encodeURIComponent(address)}&${'y'.repeat(4 * MB)}`);
    await attack('/api/webhooks/email', body, { 'content-type': 'application/x-www-form-urlencoded' }, 400);
  });

  it('answers other requests within 100 ms during a 6 MB recipient built to backtrack (a@a@…(, 400)', async () => {
    const body = Buffer.from(new URLSearchParams({ recipient: `${'a@'.repeat(1.4 * MB)}(`, ...signMailgunFields(mailKey, randomBytes(25).toString('hex')) }).toString());
    await attack('/api/webhooks/email', body, { 'content-type': 'application/x-www-form-urlencoded' }, 400);
  });

  for (const signed of [false, true]) {
    it(`answers other requests within 100 ms during 5 MB References and In-Reply-To built to backtrack, ${signed ? 'signed (200, processed)' : 'unsigned (401)'}`, async () => {
      const token = randomBytes(25).toString('hex');
      const fields = {
        recipient: address,
        from: 'Eve <eve@client.example>',
        subject: 'x',
        'body-plain': 'x',
        References: `${'a@'.repeat(1.25 * MB)}(`,
        'In-Reply-To': `${'<a@b'.repeat(0.3 * MB)}`,
        ...(signed ? signMailgunFields(mailKey, token) : { timestamp: String(Math.floor(Date.now() / 1000)), token, signature: '0'.repeat(64) }),
      };
      await attack('/api/webhooks/email', Buffer.from(new URLSearchParams(fields).toString()), { 'content-type': 'application/x-www-form-urlencoded' }, signed ? 200 : 401);
    });
  }
});
