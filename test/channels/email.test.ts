/**
 * E-mail channel: Mailgun route POSTs (parsed fields and raw MIME) verified and parsed from raw
 * bytes, and SMTP sends against a real local SMTP server (smtp-server) that captures what it got:
 * with STARTTLS or implicit TLS under a test certificate, or without TLS, to show where the SMTP
 * host may lead (outbound guard) and that credentials only travel over verified TLS.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import iconv from 'iconv-lite';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { emailAdapter, readMailgunRecipients, signMailgunFields, verifyMailgunSignature } from '../../channels/email/index.js';
import { ChannelSendError } from '../../channels/types.js';
import type { ChannelCredentials, InboundMessage, OutboundMessage, WebhookHeaders } from '../../channels/types.js';
import type { LookupAll, OutboundPolicy } from '../../src/net/outbound-guard.js';

const KEY = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/email/${name}`, import.meta.url));
const parsedFixture = JSON.parse(fixture('mailgun-parsed.json').toString('utf8')) as { fields: Record<string, string> };
const PIXEL = fixture('pixel.png');
const CAFE = 'Café – “quotes” €';

type Field = [name: string, value: string | Buffer, options?: { filename?: string; contentType?: string }];
interface Post {
  body: Buffer;
  headers: WebhookHeaders;
}

/** Percent-encodes bytes the way Mailgun (and Python's urlencode) do: `+` for space. */
function percentEncode(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9*\-._]/.test(ch) ? ch : byte === 0x20 ? '+' : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function urlencoded(fields: Field[], contentType = 'application/x-www-form-urlencoded'): Post {
  const body = fields.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&');
  return { body: Buffer.from(body, 'latin1'), headers: { 'content-type': contentType } };
}

function multipart(fields: Field[]): Post {
  const boundary = `----mg-${randomUUID()}`;
  const chunks: Buffer[] = [Buffer.from('preamble, ignored\r\n')];
  for (const [name, value, options] of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"`;
    if (options?.filename) head += `; filename="${options.filename}"`;
    head += '\r\n';
    if (options?.contentType) head += `Content-Type: ${options.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), typeof value === 'string' ? Buffer.from(value, 'utf8') : value, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Fields with a fresh token, timestamp and signature, as Mailgun would sign them now. */
function signed(fields: Field[], token = randomUUID().replace(/-/g, '') + 'a1b2c3d4e5f6g7h8i9'): Field[] {
  const signature = signMailgunFields(KEY, token);
  const rest = fields.filter(([name]) => !['timestamp', 'token', 'signature'].includes(name));
  return [...rest, ['timestamp', signature.timestamp], ['token', signature.token], ['signature', signature.signature]];
}

const parsedFields = (): Field[] => Object.entries(parsedFixture.fields).map(([k, v]): Field => [k, v]);

async function parseOne(post: Post): Promise<InboundMessage> {
  const events = await emailAdapter.parse(post.body, post.headers);
  expect(events).to.have.length(1);
  const event = events[0];
  if (event?.kind !== 'message') throw new Error('expected one message event');
  return event;
}

describe('channels/email verify (Mailgun signature)', () => {
  it('accepts a known Mailgun signature (key, timestamp, token from Action Mailbox tests) at its own time', () => {
    const fields = { timestamp: '1539112500', token: '7VwW7k6Ak7zcTwoSoNm7aTtbk1g67MKAnsYLfUB7PdszbgR5Xi', signature: 'ef24c5225322217bb065b80bb54eb4f9206d764e3e16abab07f0a64d1cf477cc' };
    expect(verifyMailgunSignature(fields, 'tbsy84uSV1Kt3ZJZELY2TmShPRs91E3yL4tzf96297vBCkDWgL', 1539112500_000)).to.deep.equal({ ok: true });
    const now = verifyMailgunSignature(fields, 'tbsy84uSV1Kt3ZJZELY2TmShPRs91E3yL4tzf96297vBCkDWgL');
    expect(now).to.deep.include({ ok: false });
  });

  it('accepts a freshly signed url-encoded and multipart POST', () => {
    expect(emailAdapter.verify(urlencoded(signed(parsedFields())).body, urlencoded([]).headers, KEY)).to.deep.equal({ ok: true });
    const post = multipart(signed([...parsedFields(), ['attachment-count', '1'], ['attachment-1', PIXEL, { filename: 'pixel.png', contentType: 'image/png' }]]));
    expect(emailAdapter.verify(post.body, post.headers, KEY)).to.deep.equal({ ok: true });
  });

  it('rejects a wrong key, a tampered token, a missing or non-hex signature', () => {
    const fields = signed(parsedFields());
    const post = urlencoded(fields);
    expect(emailAdapter.verify(post.body, post.headers, 'another-key')).to.deep.include({ ok: false });
    const tampered = fields.map(([k, v]): Field => [k, k === 'token' ? `${String(v)}x` : v]);
    expect(emailAdapter.verify(urlencoded(tampered).body, post.headers, KEY)).to.deep.include({ ok: false });
    const missing = urlencoded(fields.filter(([k]) => k !== 'signature'));
    expect(emailAdapter.verify(missing.body, missing.headers, KEY)).to.deep.equal({ ok: false, reason: 'missing timestamp, token or signature field' });
    const notHex = urlencoded(fields.map(([k, v]): Field => [k, k === 'signature' ? 'zz' + String(v).slice(2) : v]));
    expect(emailAdapter.verify(notHex.body, notHex.headers, KEY)).to.deep.equal({ ok: false, reason: 'signature is not a hex HMAC-SHA256' });
  });

  it('rejects timestamps more than 15 minutes off either way, accepts 14 minutes', () => {
    const at = (offsetSeconds: number): boolean => {
      const s = signMailgunFields(KEY, 'tok'.repeat(17), Math.floor(Date.now() / 1000) + offsetSeconds);
      return verifyMailgunSignature(s, KEY).ok;
    };
    expect(at(-16 * 60)).to.equal(false);
    expect(at(16 * 60)).to.equal(false);
    expect(at(-14 * 60)).to.equal(true);
  });

  it('rejects without a key, a repeated token, and bodies that are not forms, without throwing', () => {
    const post = urlencoded(signed(parsedFields()));
    expect(emailAdapter.verify(post.body, post.headers, '')).to.deep.equal({ ok: false, reason: 'no Mailgun signing key configured' });
    const repeated = urlencoded([...signed(parsedFields()), ['token', 'second']]);
    expect(emailAdapter.verify(repeated.body, repeated.headers, KEY)).to.deep.include({ ok: false });
    expect(emailAdapter.verify(Buffer.from('{"token":"x"}'), { 'content-type': 'application/json' }, KEY).ok).to.equal(false);
    expect(emailAdapter.verify(post.body, {}, KEY).ok).to.equal(false);
    const cut = multipart(signed(parsedFields()));
    expect(emailAdapter.verify(cut.body.subarray(0, cut.body.length - 30), cut.headers, KEY)).to.deep.include({ ok: false });
  });
});

describe('channels/email parse (Mailgun fully parsed fields)', () => {
  it('maps a url-encoded route POST: account, provider id, threading, sender, bodies', async () => {
    const message = await parseOne(urlencoded(parsedFields()));
    expect(message).to.deep.include({
      kind: 'message',
      channel: 'email',
      accountExternalId: 'support@acme.example',
      externalId: '4166ec05b27b5d3c024252ad43df47865128c8fcde47dfea6b',
      timestamp: '2013-04-26T16:50:30.000Z',
      type: 'email',
      text: `Hi Alice,\n\nThis is Bob. ${CAFE} are fine.\n\nI also attached a file.`,
    });
    expect(message.sender).to.deep.equal({ externalId: 'bob@client.example', email: 'bob@client.example', name: 'Bob' });
    expect(message.email).to.deep.equal({
      messageId: '517ACC75.5010709@client.example',
      inReplyTo: '517AC78C.1111111@acme.example',
      references: ['517AC78B.5060404@acme.example', '517AC78C.1111111@acme.example'],
      subject: 'Re: Sample POST request',
      from: 'bob@client.example',
      to: ['support@acme.example'],
      cc: ['carol@client.example', 'dave@client.example'],
      text: parsedFixture.fields['body-plain'],
      html: parsedFixture.fields['body-html'],
    });
    // The provider's id is not the RFC Message-ID.
    expect(message.externalId).to.not.equal(message.email?.messageId);
    expect(message.media).to.equal(undefined);
  });

  it('reads attachment-N files of a multipart POST as media with exact bytes', async () => {
    const notes = iconv.encode(`Notes: ${CAFE}\n`, 'windows-1252');
    const message = await parseOne(multipart([
      ...parsedFields(),
      ['attachment-count', '2'],
      ['attachment-2', notes, { filename: 'notes.txt', contentType: 'text/plain; charset=windows-1252' }],
      ['attachment-1', PIXEL, { filename: 'pixel.png', contentType: 'image/png' }],
      ['content-id-map', '{"<part1.04060802@client.example>": "attachment-1"}'],
    ]));
    expect(message.media).to.deep.equal([
      { bytes: PIXEL, mimeType: 'image/png', filename: 'pixel.png', size: PIXEL.length },
      { bytes: notes, mimeType: 'text/plain', filename: 'notes.txt', size: notes.length },
    ]);
  });

  it('decodes a multipart part that declares charset=windows-1252 instead of mangling it', async () => {
    const cp1252 = (text: string): Buffer => iconv.encode(text, 'windows-1252');
    const fields = parsedFields().filter(([k]) => !['body-plain', 'stripped-text', 'subject'].includes(k));
    const message = await parseOne(multipart([
      ...fields,
      ['subject', cp1252(`Re: ${CAFE}`), { contentType: 'text/plain; charset=windows-1252' }],
      ['body-plain', cp1252(`${CAFE}\n`), { contentType: 'text/plain; charset="Windows-1252"' }],
    ]));
    expect(message.email?.subject).to.equal(`Re: ${CAFE}`);
    expect(message.email?.text).to.equal(`${CAFE}\n`);
    expect(message.text).to.equal(`${CAFE}\n`);
    expect(message.text).to.not.match(/[\u0080-\u009f\ufffd]/);
  });

  it('decodes url-encoded values in the charset the request declares', async () => {
    const fields = parsedFields().filter(([k]) => !['body-plain', 'stripped-text'].includes(k));
    const post = urlencoded([...fields, ['body-plain', iconv.encode('Ça coûte 5 £.', 'iso-8859-1')]], 'application/x-www-form-urlencoded; charset=ISO-8859-1');
    expect((await parseOne(post)).text).to.equal('Ça coûte 5 £.');
  });

  it('falls back to the provider id when the message has no Message-ID, and to the envelope sender without From', async () => {
    const fields = parsedFields().filter(([k]) => !['Message-Id', 'message-headers', 'from', 'In-Reply-To', 'References', 'To'].includes(k));
    const message = await parseOne(urlencoded(fields));
    expect(message.email?.messageId).to.equal('4166ec05b27b5d3c024252ad43df47865128c8fcde47dfea6b');
    expect(message.email?.references).to.deep.equal([]);
    expect(message.email).to.not.have.property('inReplyTo');
    expect(message.sender).to.deep.equal({ externalId: 'bob@client.example', email: 'bob@client.example' });
  });

  it('reads store() notifications, whose attachments stay on Mailgun as URLs', async () => {
    const list = [{ url: 'https://storage.eu.mailgun.net/v3/domains/acme.example/messages/AgEFx/attachments/0', 'content-type': 'application/pdf', name: 'invoice.pdf', size: 48213 }];
    const message = await parseOne(urlencoded([...parsedFields(), ['attachments', JSON.stringify(list)]]));
    expect(message.media).to.deep.equal([{ url: list[0]?.url, mimeType: 'application/pdf', filename: 'invoice.pdf', size: 48213 }]);
  });

  it('reads the receiving addresses alone, to pick the signing key before verify, and one message per address', async () => {
    const post = urlencoded([...parsedFields().filter(([k]) => k !== 'recipient'), ['recipient', 'Support@Acme.Example, sales@acme.example']]);
    expect(readMailgunRecipients(post.body, post.headers)).to.deep.equal(['support@acme.example', 'sales@acme.example']);
    const events = await emailAdapter.parse(post.body, post.headers);
    expect(events.map((e) => [e.accountExternalId, e.kind === 'message' ? e.externalId : null])).to.deep.equal([
      ['support@acme.example', '4166ec05b27b5d3c024252ad43df47865128c8fcde47dfea6b'],
      ['sales@acme.example', '4166ec05b27b5d3c024252ad43df47865128c8fcde47dfea6b'],
    ]);
    const none = urlencoded(parsedFields().filter(([k]) => k !== 'recipient'));
    expect(() => readMailgunRecipients(none.body, none.headers)).to.throw(/recipient/);
  });

  it('throws a clear Error on malformed bodies', async () => {
    const without = (name: string): Post => urlencoded(parsedFields().filter(([k]) => k !== name));
    const cases: [Post, RegExp][] = [
      [{ body: Buffer.from('{}'), headers: { 'content-type': 'application/json' } }, /must be a form/],
      [{ body: Buffer.from('a=b'), headers: {} }, /without a Content-Type/],
      [{ body: Buffer.from('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb'), headers: { 'content-type': 'multipart/form-data; boundary=x' } }, /not closed/],
      [{ body: Buffer.from('a=b'), headers: { 'content-type': 'multipart/form-data' } }, /boundary/],
      [without('recipient'), /recipient/],
      [without('token'), /token/],
      [urlencoded([...parsedFields().filter(([k]) => k !== 'message-headers'), ['message-headers', '{not json']]), /message-headers/],
      [urlencoded([...parsedFields(), ['attachment-count', '2'], ['attachment-1', 'x']]), /attachment-count is 2 but 1/],
      [urlencoded(parsedFields().filter(([k]) => !['from', 'sender', 'message-headers'].includes(k))), /From or sender/],
      [urlencoded([...parsedFields(), ['body-mime', '   ']]), /body-mime is empty/],
    ];
    for (const [post, message] of cases) {
      let error: unknown;
      try {
        await emailAdapter.parse(post.body, post.headers);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).to.be.instanceOf(Error);
      expect((error as Error).message).to.match(message);
    }
  });
});

describe('channels/email parse (raw MIME in body-mime)', () => {
  const mimeFields = (raw: Buffer, recipient: string): Field[] => [
    ['recipient', recipient],
    ['sender', 'bounce@client.example'],
    ['from', 'Someone Else <else@client.example>'],
    ['subject', 'ignored when the MIME has one'],
    ['body-mime', raw],
    ['timestamp', '1705309923'],
    ['token', 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0'],
    ['signature', '0'.repeat(64)],
  ];

  it('decodes a windows-1252 multipart message: bodies, encoded words, threading, attachment', async () => {
    const raw = fixture('reply-windows-1252.eml');
    const message = await parseOne(multipart(mimeFields(raw, 'support@acme.example')));
    expect(message).to.deep.include({ accountExternalId: 'support@acme.example', externalId: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0', timestamp: '2024-01-15T09:12:03.000Z', type: 'email' });
    expect(message.sender).to.deep.equal({ externalId: 'rene.lefevre@client.example', email: 'rene.lefevre@client.example', name: 'René Lefèvre' });
    const email = message.email;
    expect(email).to.deep.include({
      messageId: 'CAF=reply.42@mail.client.example',
      inReplyTo: '7d2f6a1e-5b0c-4c1e-9d8e-1f2a3b4c5d6e@acme.example',
      subject: 'Re: Commande n°42 – “abîmée”',
      from: 'rene.lefevre@client.example',
    });
    expect(email?.references).to.deep.equal(['first.41@mail.client.example', '7d2f6a1e-5b0c-4c1e-9d8e-1f2a3b4c5d6e@acme.example']);
    expect(email?.to).to.deep.equal(['support@acme.example']);
    expect(email?.cc).to.deep.equal(['francoise@client.example']);
    expect(email?.text).to.equal(`Bonjour,\n\n${CAFE} — la commande n°42 est arrivée abîmée.\n\nRené\n`);
    expect(message.text).to.equal(email?.text);
    expect(email?.html).to.equal(`<p>${CAFE}</p><p>La commande n°42 est arrivée abîmée.</p>`);
    expect(`${email?.text}${email?.html}${email?.subject}`).to.not.match(/[\u0080-\u009f\ufffd]/);
    expect(message.media).to.deep.equal([{ bytes: PIXEL, mimeType: 'image/png', filename: 'photo colis.png', size: PIXEL.length }]);
  });

  it('keeps 8-bit MIME bytes exact when body-mime arrives url-encoded', async () => {
    const message = await parseOne(urlencoded(mimeFields(fixture('reply-windows-1252.eml'), 'support@acme.example')));
    expect(message.email?.text).to.equal(`Bonjour,\n\n${CAFE} — la commande n°42 est arrivée abîmée.\n\nRené\n`);
  });

  it('decodes an ISO-8859-1 quoted-printable message and a base64 encoded-word subject', async () => {
    const message = await parseOne(urlencoded(mimeFields(fixture('plain-iso-8859-1.eml'), 'Hilfe@Acme.Example')));
    expect(message.accountExternalId).to.equal('hilfe@acme.example');
    expect(message.text).to.equal('Grüße aus Köln, ça va très bien. Prix: 5 £ ½ tarif.\n');
    expect(message.email).to.deep.include({ subject: 'Frage zur Rücksendung', messageId: '20240116080000.latin1@kunde.example', references: [] });
    expect(message.sender).to.deep.equal({ externalId: 'juergen@kunde.example', email: 'juergen@kunde.example', name: 'Jürgen' });
  });
});

/** The test certificates (test/fixtures/tls): `smtp` is trusted through the policy's CA, `stranger` by nobody. */
const tlsFixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));
const TRUSTED = { key: tlsFixture('smtp-key.pem'), cert: tlsFixture('smtp-cert.pem') };
const STRANGER = { key: tlsFixture('stranger-key.pem'), cert: tlsFixture('stranger-cert.pem') };

/** The local servers' network allowed, their certificate trusted: what test/setup.ts configures for the server. */
const LOCAL_POLICY: OutboundPolicy = { allowedNetworks: ['127.0.0.1/32'], ca: TRUSTED.cert.toString('utf8') };

/** A real SMTP server on 127.0.0.1 that records connections, logins and each message. */
interface SmtpCapture {
  port: number;
  connections: number;
  /** Every AUTH the server received, and whether the session was under TLS then. */
  auths: { username: string; secure: boolean; servername: string | false | null | undefined }[];
  messages: { from: string; to: string[]; raw: Buffer; secure: boolean }[];
  close(): Promise<void>;
}

interface SmtpOptions {
  rejectRcpt?: { code: number; text: string };
  /**
   * starttls: offers STARTTLS (default); none: no TLS at all; hidden: does not advertise STARTTLS;
   * implicit: TLS from the first byte (port 465 style).
   */
  tls?: 'starttls' | 'none' | 'hidden' | 'implicit';
  /** The certificate it presents (default the trusted one). */
  identity?: { key: Buffer; cert: Buffer };
}

async function startSmtp(options: SmtpOptions = {}): Promise<SmtpCapture> {
  const capture: SmtpCapture = { port: 0, connections: 0, auths: [], messages: [], close: async () => undefined };
  const tls = options.tls ?? 'starttls';
  const server = new SMTPServer({
    logger: false,
    ...(tls === 'none' ? { disabledCommands: ['STARTTLS'] } : { ...(options.identity ?? TRUSTED) }),
    ...(tls === 'hidden' ? { hideSTARTTLS: true } : {}),
    ...(tls === 'implicit' ? { secure: true } : {}),
    // This server would take a password in plain text: refusing to send one is the client's job.
    allowInsecureAuth: true,
    // Relays take mail without a login too (the plain-text, no-credentials case).
    authOptional: true,
    onConnect(_session, callback) {
      capture.connections++;
      callback();
    },
    onAuth(auth, session, callback) {
      capture.auths.push({ username: auth.username ?? '', secure: Boolean(session.secure), servername: session.servername });
      if (auth.username === 'mailer' && auth.password === 's3cret') return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const reject = options.rejectRcpt;
      callback(reject ? Object.assign(new Error(reject.text), { responseCode: reject.code }) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        capture.messages.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks), secure: Boolean(session.secure) });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  capture.port = (server.server.address() as AddressInfo).port;
  capture.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return capture;
}

/** A resolver that answers `address` for every name, counting the questions (the `lookup` seam). */
function resolvingTo(...addresses: string[]): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  return Object.assign(
    async (hostname: string) => {
      calls.push(hostname);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    { calls },
  );
}

describe('channels/email send (SMTP)', () => {
  let smtp: SmtpCapture;
  afterEach(async () => smtp?.close());

  const credentials = (port: number, overrides: Record<string, unknown> = {}, outbound: OutboundPolicy | undefined = LOCAL_POLICY): ChannelCredentials => ({
    accountExternalId: 'support@acme.example',
    graphUrl: '',
    graphVersion: '',
    settings: { smtp: { host: '127.0.0.1', port, secure: false, user: 'mailer', pass: 's3cret' }, from: 'Acme Support <support@acme.example>', ...overrides },
    ...(outbound ? { outbound } : {}),
  });
  const withSmtp = (port: number, smtp: Record<string, unknown>, outbound?: OutboundPolicy) => credentials(port, { smtp: { port, secure: false, ...smtp } }, outbound);
  const reply: OutboundMessage = {
    to: 'rene.lefevre@client.example',
    content: {
      type: 'email',
      subject: 'Re: Commande n°42',
      text: `Bonjour René,\n\n${CAFE}: nous renvoyons la commande.\n`,
      html: `<p>${CAFE}: nous renvoyons la commande.</p>`,
      inReplyTo: 'CAF=reply.42@mail.client.example',
      references: ['first.41@mail.client.example', '7d2f6a1e@acme.example'],
    },
  };
  const failure = (credentials: ChannelCredentials) => emailAdapter.send(credentials, reply).then(() => null, (e: unknown) => e);

  it('sends through the account SMTP server with threading headers and answers our Message-ID', async () => {
    smtp = await startSmtp();
    const result = await emailAdapter.send(credentials(smtp.port), reply);
    expect(result.externalId).to.match(/^[0-9a-f-]{36}@acme\.example$/);
    expect(smtp.messages).to.have.length(1);
    const sent = smtp.messages[0];
    expect(sent?.from).to.equal('support@acme.example');
    expect(sent?.to).to.deep.equal(['rene.lefevre@client.example']);
    const mail = await simpleParser(sent?.raw ?? Buffer.alloc(0));
    expect(mail.messageId).to.equal(`<${result.externalId}>`);
    expect(mail.inReplyTo).to.equal('<CAF=reply.42@mail.client.example>');
    expect(mail.references).to.deep.equal(['<first.41@mail.client.example>', '<7d2f6a1e@acme.example>', '<CAF=reply.42@mail.client.example>']);
    expect(mail.subject).to.equal('Re: Commande n°42');
    expect(mail.from?.value).to.deep.equal([{ address: 'support@acme.example', name: 'Acme Support' }]);
    expect(mail.text).to.equal(`Bonjour René,\n\n${CAFE}: nous renvoyons la commande.\n`);
    expect(mail.html).to.equal(`<p>${CAFE}: nous renvoyons la commande.</p>`);
  });

  it('threads the customer reply to what we sent: our externalId comes back as In-Reply-To', async () => {
    smtp = await startSmtp();
    const result = await emailAdapter.send(credentials(smtp.port), { to: 'bob@client.example', content: { type: 'email', subject: 'Hello', text: 'Hi Bob' } });
    const ours = await simpleParser(smtp.messages[0]?.raw ?? Buffer.alloc(0));
    const answer = Buffer.from(
      `From: Bob <bob@client.example>\r\nTo: support@acme.example\r\nSubject: Re: Hello\r\nMessage-ID: <bob.1@client.example>\r\n` +
        `In-Reply-To: ${ours.messageId}\r\nReferences: ${ours.messageId}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks!\r\n`,
    );
    const inbound = await parseOne(multipart([['recipient', 'support@acme.example'], ['body-mime', answer], ['timestamp', '1705309923'], ['token', 'tok-1']]));
    expect(inbound.email?.inReplyTo).to.equal(result.externalId);
    expect(inbound.email?.references).to.deep.equal([result.externalId]);
  });

  it('maps a 4xx SMTP reply to a retryable ChannelSendError', async () => {
    smtp = await startSmtp({ rejectRcpt: { code: 451, text: 'Try again later' } });
    const error = await failure(credentials(smtp.port));
    expect(error).to.be.instanceOf(ChannelSendError);
    expect(error).to.deep.include({ providerCode: 451, retryable: true, httpStatus: null });
    expect(smtp.messages).to.have.length(0);
  });

  it('maps a 5xx SMTP reply (unknown mailbox, bad credentials) to a final ChannelSendError', async () => {
    smtp = await startSmtp({ rejectRcpt: { code: 550, text: 'No such user here' } });
    const unknownUser = await failure(credentials(smtp.port));
    expect(unknownUser).to.be.instanceOf(ChannelSendError);
    expect(unknownUser).to.deep.include({ providerCode: 550, retryable: false });
    expect((unknownUser as Error).message).to.match(/No such user here/);
    const authError = await failure(withSmtp(smtp.port, { host: '127.0.0.1', user: 'mailer', pass: 'wrong' }));
    expect(authError).to.deep.include({ providerCode: 535, retryable: false });
  });

  it('treats a refused connection as retryable', async () => {
    smtp = await startSmtp();
    const port = smtp.port;
    await smtp.close();
    const error = await failure(credentials(port));
    expect(error).to.be.instanceOf(ChannelSendError);
    expect(error).to.deep.include({ retryable: true });
  });

  it('refuses missing settings, non-email content and broken Message-IDs without connecting', async () => {
    smtp = await startSmtp();
    const noSettings = { ...credentials(smtp.port), settings: { from: 'support@acme.example' } };
    const missing = await failure(noSettings);
    expect(missing).to.deep.include({ providerCode: 'config', retryable: false });
    const text = await emailAdapter.send(credentials(smtp.port), { to: 'bob@client.example', content: { type: 'text', text: 'hi' } }).then(() => null, (e: unknown) => e);
    expect(text).to.deep.include({ providerCode: 'unsupported_content', retryable: false });
    const injected = { ...reply, content: { type: 'email' as const, subject: 'x', text: 'x', inReplyTo: '<a@b.example>\r\nBcc: evil@x.example' } };
    const badId = await emailAdapter.send(credentials(smtp.port), injected).then(() => null, (e: unknown) => e);
    expect(badId).to.deep.include({ providerCode: 'invalid_message_id', retryable: false });
    expect(smtp.connections).to.equal(0);
  });
});

describe('channels/email send: where the SMTP host may lead (outbound guard)', () => {
  let smtp: SmtpCapture;
  afterEach(async () => smtp?.close());
  const message: OutboundMessage = { to: 'bob@client.example', content: { type: 'email', subject: 'Hello', text: 'Hi Bob' } };
  const account = (smtp: Record<string, unknown>, outbound?: OutboundPolicy): ChannelCredentials => ({
    accountExternalId: 'support@acme.example',
    graphUrl: '',
    graphVersion: '',
    settings: { smtp: { secure: false, ...smtp }, from: 'support@acme.example' },
    ...(outbound ? { outbound } : {}),
  });
  const failure = (credentials: ChannelCredentials) => emailAdapter.send(credentials, message).then(() => null, (e: unknown) => e);

  it('attack: refuses loopback, metadata and private hosts under the default policy, without connecting', async () => {
    // Before the guard, each of these hosts was connected to and the first one received the mail.
    smtp = await startSmtp();
    const cases: [string, string][] = [
      ['127.0.0.1', 'is a loopback address (127.0.0.1)'],
      ['0x7f.1', 'is a loopback address (127.0.0.1)'],
      ['2130706433', 'is a loopback address (127.0.0.1)'],
      ['localhost', 'resolves to a loopback address (127.0.0.1)'],
      ['169.254.169.254', 'is a link-local address (169.254.169.254)'],
      ['10.0.0.5', 'is a private address (10.0.0.5)'],
    ];
    for (const [host, why] of cases) {
      const error = await failure(account({ host, port: smtp.port }));
      expect(error, host).to.be.instanceOf(ChannelSendError);
      expect(error, host).to.deep.include({ providerCode: 'smtp_host_refused', retryable: false, message: `SMTP host ${host} ${why}: refused by the outbound policy` });
    }
    expect(smtp.connections).to.equal(0);
  });

  it('attack: refuses at send time a host that now resolves to a private address (DNS changed after saving)', async () => {
    smtp = await startSmtp();
    const lookup = resolvingTo('10.0.0.5');
    const error = await failure(account({ host: 'smtp.omnistream.test', port: smtp.port }, { ...LOCAL_POLICY, lookup }));
    expect(error).to.deep.include({
      providerCode: 'smtp_host_refused',
      retryable: false,
      message: 'SMTP host smtp.omnistream.test resolves to a private address (10.0.0.5): refused by the outbound policy',
    });
    expect(lookup.calls).to.deep.equal(['smtp.omnistream.test']);
    expect(smtp.connections).to.equal(0);
  });

  it('connects to the address it checked, keeping the host name for SNI and the certificate check', async () => {
    smtp = await startSmtp();
    // Only the guard's resolver knows this name: reaching the server proves nodemailer did not resolve it again.
    const lookup = resolvingTo('127.0.0.1');
    await emailAdapter.send(account({ host: 'smtp.omnistream.test', port: smtp.port, user: 'mailer', pass: 's3cret' }, { ...LOCAL_POLICY, lookup }), message);
    expect(lookup.calls).to.deep.equal(['smtp.omnistream.test']);
    expect(smtp.auths).to.deep.equal([{ username: 'mailer', secure: true, servername: 'smtp.omnistream.test' }]);
    expect(smtp.messages.map((m) => m.secure)).to.deep.equal([true]);
    // The same address under a name the certificate does not carry fails the certificate check.
    const wrongName = await failure(account({ host: 'mail.elsewhere.test', port: smtp.port, user: 'mailer', pass: 's3cret' }, { ...LOCAL_POLICY, lookup }));
    expect(wrongName).to.be.instanceOf(ChannelSendError);
    expect((wrongName as Error).message).to.match(/altnames|Hostname\/IP does not match/i);
    expect(smtp.auths).to.have.length(1);
  });

  it('sends credentials only after STARTTLS, and over implicit TLS', async () => {
    smtp = await startSmtp();
    await emailAdapter.send(account({ host: '127.0.0.1', port: smtp.port, user: 'mailer', pass: 's3cret' }, LOCAL_POLICY), message);
    expect(smtp.auths).to.deep.equal([{ username: 'mailer', secure: true, servername: false }]);
    await smtp.close();
    smtp = await startSmtp({ tls: 'implicit' });
    await emailAdapter.send(account({ host: '127.0.0.1', port: smtp.port, secure: true, user: 'mailer', pass: 's3cret' }, LOCAL_POLICY), message);
    expect(smtp.auths).to.deep.equal([{ username: 'mailer', secure: true, servername: false }]);
    expect(smtp.messages).to.have.length(1);
  });

  it('attack: a server that does not offer STARTTLS is never sent the credentials', async () => {
    // Before: nodemailer saw no STARTTLS, stayed in plain text and sent AUTH PLAIN to this server.
    smtp = await startSmtp({ tls: 'none' });
    const error = await failure(account({ host: '127.0.0.1', port: smtp.port, user: 'mailer', pass: 's3cret' }, LOCAL_POLICY));
    expect(error).to.be.instanceOf(ChannelSendError);
    expect(error).to.deep.include({
      providerCode: 'smtp_tls_required',
      retryable: false,
      message: 'SMTP server refused STARTTLS (it answered 500 Error: command not recognized); credentials are only sent over TLS',
    });
    expect(smtp.auths).to.deep.equal([]);
    expect(smtp.messages).to.deep.equal([]);
  });

  it('asks for STARTTLS even when the server does not advertise it (hideSTARTTLS), and logs in only once under TLS', async () => {
    smtp = await startSmtp({ tls: 'hidden' });
    await emailAdapter.send(account({ host: '127.0.0.1', port: smtp.port, user: 'mailer', pass: 's3cret' }, LOCAL_POLICY), message);
    expect(smtp.auths).to.deep.equal([{ username: 'mailer', secure: true, servername: false }]);
    expect(smtp.messages.map((m) => m.secure)).to.deep.equal([true]);
  });

  it('refuses a certificate the configured CAs do not trust (no bypass of certificate checks)', async () => {
    smtp = await startSmtp({ identity: STRANGER });
    const error = await failure(account({ host: '127.0.0.1', port: smtp.port, user: 'mailer', pass: 's3cret' }, LOCAL_POLICY));
    expect(error).to.be.instanceOf(ChannelSendError);
    expect((error as Error).message).to.match(/self[- ]signed|unable to verify/i);
    expect(smtp.auths).to.deep.equal([]);
    // Without the configured CA, the trusted test certificate is a stranger too.
    await smtp.close();
    smtp = await startSmtp();
    const noCa = await failure(account({ host: '127.0.0.1', port: smtp.port, user: 'mailer', pass: 's3cret' }, { allowedNetworks: ['127.0.0.1/32'] }));
    expect((noCa as Error).message).to.match(/self[- ]signed|unable to verify/i);
    expect(smtp.auths).to.deep.equal([]);
  });

  it('refuses STARTTLS turned off with credentials before connecting; without them sends in plain text', async () => {
    smtp = await startSmtp({ tls: 'none' });
    const error = await failure(account({ host: '127.0.0.1', port: smtp.port, starttls: false, user: 'mailer', pass: 's3cret' }, LOCAL_POLICY));
    expect(error).to.deep.include({ providerCode: 'smtp_tls_required', retryable: false });
    expect(smtp.connections).to.equal(0);
    await emailAdapter.send(account({ host: '127.0.0.1', port: smtp.port, starttls: false }, LOCAL_POLICY), message);
    expect(smtp.messages.map((m) => m.secure)).to.deep.equal([false]);
  });
});
