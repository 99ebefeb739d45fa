import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ChannelSendError } from '../../channels/types.js';
import type { ChannelCredentials, InboundMessage, InboundStatus, OutboundMessage } from '../../channels/types.js';
import {
  answerSubscriptionChallenge,
  downloadMedia,
  fetchMediaUrl,
  isInsideCustomerServiceWindow,
  markRead,
  parseWhatsappWebhookErrors,
  whatsappAdapter,
} from '../../channels/whatsapp/index.js';
import { startFakeGraph, type FakeGraph } from '../support/fake-graph.js';

const SECRET = 'whatsapp-app-secret';
const PNID = '106540352242922';
const fixture = (name: string) => readFileSync(new URL(`../fixtures/whatsapp/${name}.json`, import.meta.url));
const sign = (body: Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
const parse = (body: Buffer) => whatsappAdapter.parse(body, {});
const onlyMessage = (name: string): InboundMessage => {
  const events = parse(fixture(name));
  expect(events).to.have.length(1);
  const [event] = events;
  if (event?.kind !== 'message') throw new Error(`expected one message in ${name}`);
  return event;
};
const statuses = (body: Buffer) => parse(body).filter((e): e is InboundStatus => e.kind === 'status');
const SHEENA = { externalId: '16505551234', phone: '16505551234', name: 'Sheena Nelson' };

describe('WhatsApp adapter: verify', () => {
  const body = fixture('text');

  it('accepts a body signed with the app secret in x-hub-signature-256', () => {
    expect(whatsappAdapter.verify(body, { 'x-hub-signature-256': sign(body) }, SECRET)).to.deep.equal({ ok: true });
  });

  it('rejects a missing or wrong signature', () => {
    expect(whatsappAdapter.verify(body, {}, SECRET)).to.deep.equal({ ok: false, reason: 'missing X-Hub-Signature-256 header' });
    expect(whatsappAdapter.verify(body, { 'x-hub-signature-256': sign(fixture('image')) }, SECRET).ok).to.equal(false);
  });

  it('verifies escaped raw bytes (\\u00e9, \\/) and parses them to the real characters', () => {
    const raw = fixture('escaped');
    expect(whatsappAdapter.verify(raw, { 'x-hub-signature-256': sign(raw) }, SECRET).ok).to.equal(true);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(whatsappAdapter.verify(reserialized, { 'x-hub-signature-256': sign(raw) }, SECRET).ok).to.equal(false);
    const [event] = parse(raw);
    expect(event).to.include({ kind: 'message', text: 'Olá! Vi em https://example.com/p/42 😀' });
    expect((event as InboundMessage).sender.name).to.equal('José Müller');
  });

  it('answers the GET subscription challenge only for mode=subscribe and the right token', () => {
    const q = (mode: string, token: string) => new URLSearchParams({ 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': '1158201444' });
    expect(answerSubscriptionChallenge(q('subscribe', 'meatyhamhock'), 'meatyhamhock')).to.equal('1158201444');
    expect(answerSubscriptionChallenge({ 'hub.mode': 'subscribe', 'hub.verify_token': 'meatyhamhock', 'hub.challenge': 'abc' }, 'meatyhamhock')).to.equal('abc');
    expect(answerSubscriptionChallenge(q('subscribe', 'wrong'), 'meatyhamhock')).to.equal(null);
    expect(answerSubscriptionChallenge(q('unsubscribe', 'meatyhamhock'), 'meatyhamhock')).to.equal(null);
    expect(answerSubscriptionChallenge(new URLSearchParams(), 'meatyhamhock')).to.equal(null);
    expect(answerSubscriptionChallenge(q('subscribe', ''), '')).to.equal(null);
  });
});

describe('WhatsApp adapter: parse messages', () => {
  it('text: account, wamid, sender from contacts[], RFC 3339 timestamp', () => {
    expect(onlyMessage('text')).to.deep.equal({
      kind: 'message',
      channel: 'whatsapp',
      accountExternalId: PNID,
      externalId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      sender: SHEENA,
      timestamp: '2025-06-08T20:59:43.000Z',
      type: 'text',
      text: 'Does it come in another color?',
    });
  });

  it('context.id becomes replyToExternalId', () => {
    const m = onlyMessage('text-reply');
    expect(m).to.include({ type: 'text', text: 'Yes, the blue one please', replyToExternalId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3OTgyRTc1ODk3NjIwQUYyMUQA' });
  });

  it('image, audio, video, document and sticker carry the media id, mime type, sha256, caption and filename', () => {
    expect(onlyMessage('image')).to.deep.include({
      type: 'image',
      text: 'This is the damaged box',
      media: [{ providerMediaId: '1003383421387256', url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256&ext=1744344496&hash=ARkN', mimeType: 'image/jpeg', caption: 'This is the damaged box', sha256: 'SfInY0gEXQ6sdL+ZeUFqzXVrF7FNOdbNA6o5XJvtnLc=' }],
    });
    expect(onlyMessage('audio')).to.deep.include({ type: 'audio', media: [{ providerMediaId: '1006213265297348', mimeType: 'audio/ogg; codecs=opus', sha256: 'i2hBpzKq1PPmfqY5Ti5ScyZA8aTsMr9NHD9aq0g6Zh0=' }] });
    expect(onlyMessage('video').media?.[0]).to.include({ providerMediaId: '1234512345123451', mimeType: 'video/mp4', caption: 'Unboxing' });
    expect(onlyMessage('document')).to.deep.include({
      type: 'document',
      text: 'Invoice for March',
      media: [{ providerMediaId: '9876598765987659', mimeType: 'application/pdf', filename: 'invoice-2025-03.pdf', caption: 'Invoice for March', sha256: 'iJmJtFkmRrlSgzRePGQxF2a2MK+IEFDyNJFrPKCdMHY=' }],
    });
    const sticker = onlyMessage('sticker');
    expect(sticker.type).to.equal('sticker');
    expect(sticker.media?.[0]).to.include({ providerMediaId: '1555155515551555', mimeType: 'image/webp' });
    expect(sticker).to.not.have.property('text');
  });

  it('location keeps coordinates as numbers with name, address and url', () => {
    expect(onlyMessage('location').location).to.deep.equal({ latitude: 37.483307, longitude: -122.148981, name: 'Main Office', address: '1 Hacker Way, Menlo Park, CA 94025', url: 'https://www.meta.com' });
  });

  it('contacts keeps the shared cards as sent', () => {
    const m = onlyMessage('contacts');
    expect(m.type).to.equal('contacts');
    expect(m.contacts).to.have.length(1);
    expect(m.contacts?.[0]).to.deep.include({ name: { first_name: 'Barbara', formatted_name: 'Barbara J. Johnson', last_name: 'Johnson' } });
  });

  it('interactive button_reply and list_reply become a choice with id and title', () => {
    expect(onlyMessage('interactive-button-reply')).to.deep.include({ type: 'interactive', choice: { id: 'cancel-order', title: 'Cancel' }, text: 'Cancel', replyToExternalId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJFRDc2RTUwMzRFNkQ2RTQ3NUQA' });
    expect(onlyMessage('interactive-list-reply')).to.deep.include({ type: 'interactive', choice: { id: 'priority-express', title: 'Express Shipping' } });
  });

  it('template quick-reply button becomes a choice with title and payload, replying to the template', () => {
    expect(onlyMessage('button')).to.deep.include({
      type: 'button',
      text: 'Unsubscribe from Promos',
      choice: { title: 'Unsubscribe from Promos', payload: 'Unsubscribe from Promos' },
      replyToExternalId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIyQjc4NEUwRUM2QjI4QjlBOEIA',
    });
  });

  it('reaction names the target message and emoji; removal (emoji omitted or empty) gives emoji null', () => {
    const target = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA';
    expect(onlyMessage('reaction')).to.deep.include({ type: 'reaction', reaction: { messageExternalId: target, emoji: '👍' } });
    expect(onlyMessage('reaction-removed').reaction).to.deep.equal({ messageExternalId: target, emoji: null });
    const emptyEmoji = Buffer.from(fixture('reaction').toString('utf8').replace('"emoji": "👍"', '"emoji": ""'));
    expect((parse(emptyEmoji)[0] as InboundMessage).reaction).to.deep.equal({ messageExternalId: target, emoji: null });
  });

  it('unsupported and unknown types become unsupported with the reason from errors[]', () => {
    expect(onlyMessage('unsupported')).to.deep.include({ type: 'unsupported', unsupportedReason: '131051: Message type unknown: Message type is currently not supported. (edit)', sender: SHEENA });
    expect(onlyMessage('unknown')).to.deep.include({ type: 'unsupported', unsupportedReason: '131051: Unsupported message type: Message type is not currently supported' });
  });

  it('a type it has never seen (no errors[]) is unsupported, never a throw', () => {
    const raw = Buffer.from(fixture('text').toString('utf8').replace('"type": "text"', '"type": "hologram"'));
    expect(parse(raw)[0]).to.include({ type: 'unsupported', unsupportedReason: 'message type hologram is not handled' });
  });

  it('a sender with only a business-scoped user id is keyed by it, with no phone', () => {
    const m = onlyMessage('bsuid-only');
    expect(m.sender).to.deep.equal({ externalId: 'US.13491208655302741918', bsuid: 'US.13491208655302741918', name: 'Pablo Morales', username: '@pablomorales' });
    expect(m).to.include({ type: 'text', text: 'Hi, I found you through your ad' });
  });

  it('a sender with phone and BSUID is keyed by the phone and carries both', () => {
    expect(onlyMessage('bsuid-with-phone').sender).to.deep.equal({ externalId: '16315551181', phone: '16315551181', bsuid: 'US.13491208655302741918', name: 'Pablo Morales', username: '@pablomorales' });
  });
});

describe('WhatsApp adapter: parse statuses, errors and batches', () => {
  it('sent, delivered and read, in body order, with recipient and timestamp', () => {
    const wamid = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA';
    expect(statuses(fixture('statuses'))).to.deep.equal([
      { kind: 'status', channel: 'whatsapp', accountExternalId: PNID, messageExternalId: wamid, recipientExternalId: '16505551234', status: 'sent', timestamp: '2025-06-18T16:22:53.000Z' },
      { kind: 'status', channel: 'whatsapp', accountExternalId: PNID, messageExternalId: wamid, recipientExternalId: '16505551234', status: 'delivered', timestamp: '2025-06-18T16:22:54.000Z' },
      { kind: 'status', channel: 'whatsapp', accountExternalId: PNID, messageExternalId: wamid, recipientExternalId: '16505551234', status: 'read', timestamp: '2025-06-18T16:23:10.000Z' },
    ]);
  });

  it('failed carries errors[] code, title, message and error_data.details', () => {
    const [failed] = statuses(fixture('status-failed'));
    expect(failed).to.deep.include({ status: 'failed', recipientExternalId: '16505551234', messageExternalId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIzRDVFNkE2NUQ1NTY0NTQ5QTIA' });
    expect(failed?.errors).to.deep.equal([
      { code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
    ]);
  });

  it('a status for a message sent to a BSUID names the recipient by recipient_user_id', () => {
    expect(statuses(fixture('status-bsuid'))[0]).to.include({ status: 'delivered', recipientExternalId: 'US.13491208655302741918' });
  });

  it('a change carrying only errors gives no events, and its errors are readable for the log', () => {
    expect(parse(fixture('errors-only'))).to.deep.equal([]);
    expect(parseWhatsappWebhookErrors(fixture('errors-only'))).to.deep.equal([
      { accountExternalId: PNID, errors: [{ code: 130429, title: 'Rate limit hit', message: '(#130429) Rate limit hit', details: 'Cloud API message throughput has been reached.' }] },
    ]);
    expect(parseWhatsappWebhookErrors(fixture('text'))).to.deep.equal([]);
  });

  it('reads every entry and every messages change, then template status updates (by WABA), and keeps duplicate ids', () => {
    const events = parse(fixture('multi-entry'));
    expect(events.map((e) => [e.kind, e.accountExternalId, e.kind === 'message' ? e.externalId : e.kind === 'status' ? e.messageExternalId : e.name])).to.deep.equal([
      ['message', PNID, 'wamid.A1'],
      ['message', PNID, 'wamid.A1'],
      ['status', PNID, 'wamid.OUT1'],
      ['message', '204444444444444', 'wamid.B1'],
      ['template_status', '102290129340398', 'order_update'],
    ]);
    expect((events[3] as InboundMessage).sender).to.deep.equal({ externalId: '447700900123', phone: '447700900123', name: 'Kai Tanaka' });
  });

  it('keeps 17+ digit ids exact whether written as JSON numbers or strings', () => {
    const events = parse(fixture('long-ids'));
    expect(events).to.have.length(3);
    const [image, text, status] = events as [InboundMessage, InboundMessage, InboundStatus];
    expect(image.accountExternalId).to.equal('12345678901234567891');
    expect(image.sender.externalId).to.equal('44700000000000000123');
    expect(image.media?.[0]?.providerMediaId).to.equal('18014398509481985');
    expect(image.timestamp).to.equal('2025-06-08T20:59:43.000Z');
    expect(text.sender).to.deep.include({ externalId: '44700000000000000123', name: 'Big Ids' });
    expect(status).to.include({ accountExternalId: '12345678901234567891', recipientExternalId: '44700000000000000123' });
    // The naive way loses them: the reason for the pre-pass.
    expect(String(JSON.parse(fixture('long-ids').toString('utf8')).entry[0].changes[0].value.metadata.phone_number_id)).to.not.equal('12345678901234567891');
  });

  it('never throws on odd shapes; throws a clear Error for a non-JSON body', () => {
    for (const body of ['{}', '[]', 'null', '{"object":"page","entry":[{"messaging":[]}]}', '{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"wamid.X"}],"statuses":[{"status":"played","id":"w"}]}}]}]}']) {
      expect(parse(Buffer.from(body)), body).to.deep.equal([]);
    }
    expect(() => parse(Buffer.from('not json'))).to.throw('WhatsApp webhook body is not valid JSON');
  });
});

describe('WhatsApp adapter: send through the Graph API', () => {
  let graph: FakeGraph;
  let creds: ChannelCredentials;
  const PATH = `/v21.0/${PNID}/messages`;
  const ok = (id = 'wamid.HBgLMTY1MDUxNzY5MDMVAgARGBI4NUE0QkJCNzQ2RjY5NjA3RDMA') => ({ body: { messaging_product: 'whatsapp', contacts: [{ input: '16505551234', wa_id: '16505551234' }], messages: [{ id, message_status: 'accepted' }] } });
  const graphError = (status: number, code: number, message: string, details: string, subcode?: number) => ({
    status,
    body: { error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details }, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'AbCdEf123' } },
  });
  const sendAndCapture = async (message: OutboundMessage) => {
    graph.on('POST', PATH, ok());
    const result = await whatsappAdapter.send(creds, message);
    expect(result).to.deep.equal({ externalId: 'wamid.HBgLMTY1MDUxNzY5MDMVAgARGBI4NUE0QkJCNzQ2RjY5NjA3RDMA' });
    expect(graph.requests).to.have.length(1);
    const [req] = graph.requests;
    expect(req?.method).to.equal('POST');
    expect(req?.path).to.equal(PATH);
    expect(req?.headers.authorization).to.equal('Bearer EAAtoken');
    expect(req?.headers['content-type']).to.equal('application/json');
    return req?.json;
  };
  const sendError = async (message: OutboundMessage): Promise<ChannelSendError> => {
    try {
      await whatsappAdapter.send(creds, message);
    } catch (err) {
      expect(err).to.be.instanceOf(ChannelSendError);
      return err as ChannelSendError;
    }
    throw new Error('send did not fail');
  };
  const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '16505551234' };

  before(async () => {
    graph = await startFakeGraph();
    creds = { accountExternalId: PNID, accessToken: 'EAAtoken', graphUrl: `${graph.url}/`, graphVersion: 'v21.0' };
  });
  beforeEach(() => graph.reset());
  afterEach(() => expect(graph.unexpected, 'unexpected Graph requests').to.deep.equal([]));
  after(() => graph.close());

  it('text with preview_url, answering messages[0].id', async () => {
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'text', text: 'See https://example.com', previewUrl: true } })).to.deep.equal({ ...envelope, type: 'text', text: { body: 'See https://example.com', preview_url: true } });
  });

  it('a reply carries context.message_id', async () => {
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'text', text: 'Sure' }, replyToExternalId: 'wamid.IN1' })).to.deep.equal({ ...envelope, type: 'text', text: { body: 'Sure', preview_url: false }, context: { message_id: 'wamid.IN1' } });
  });

  it('media by link and by id: image with caption, document with filename, audio, video, sticker', async () => {
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'media', mediaType: 'image', link: 'https://cdn.example.com/a.jpg', caption: 'Your receipt' } })).to.deep.equal({ ...envelope, type: 'image', image: { link: 'https://cdn.example.com/a.jpg', caption: 'Your receipt' } });
    graph.reset();
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'media', mediaType: 'document', providerMediaId: '1013859600285441', filename: 'invoice.pdf', caption: 'Invoice' } })).to.deep.equal({ ...envelope, type: 'document', document: { id: '1013859600285441', caption: 'Invoice', filename: 'invoice.pdf' } });
    for (const mediaType of ['audio', 'video', 'sticker'] as const) {
      graph.reset();
      expect(await sendAndCapture({ to: '16505551234', content: { type: 'media', mediaType, providerMediaId: '777' } })).to.deep.equal({ ...envelope, type: mediaType, [mediaType]: { id: '777' } });
    }
  });

  it('refuses media without exactly one source, or a caption on audio, before calling Graph', async () => {
    const none = await sendError({ to: '1', content: { type: 'media', mediaType: 'image' } });
    expect(none).to.include({ retryable: false, providerCode: null, message: 'media needs exactly one of link or media id' });
    const both = await sendError({ to: '1', content: { type: 'media', mediaType: 'image', link: 'https://x/y.jpg', providerMediaId: '1' } });
    expect(both.retryable).to.equal(false);
    expect((await sendError({ to: '1', content: { type: 'media', mediaType: 'audio', providerMediaId: '1', caption: 'x' } })).message).to.equal('audio cannot carry a caption');
    expect((await sendError({ to: '1', content: { type: 'email', subject: 's', text: 't' } })).message).to.equal('e-mail content cannot be sent on WhatsApp');
    expect(graph.requests).to.deep.equal([]);
  });

  it('template with language and components/parameters', async () => {
    const components = [
      { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/h.png' } }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Pablo' }, { type: 'currency', currency: { fallback_value: '$100.99', code: 'USD', amount_1000: 100990 } }] },
      { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'STOP_PROMOS' }] },
    ];
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'template', name: 'order_update', language: 'en_US', components } })).to.deep.equal({ ...envelope, type: 'template', template: { name: 'order_update', language: { code: 'en_US' }, components } });
  });

  it('interactive button and list messages go as given', async () => {
    const buttons = { type: 'button', body: { text: 'Keep the order?' }, action: { buttons: [{ type: 'reply', reply: { id: 'keep', title: 'Keep' } }, { type: 'reply', reply: { id: 'cancel', title: 'Cancel' } }] } };
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'interactive', interactive: buttons } })).to.deep.equal({ ...envelope, type: 'interactive', interactive: buttons });
    graph.reset();
    const list = { type: 'list', header: { type: 'text', text: 'Shipping' }, body: { text: 'Pick one' }, action: { button: 'Options', sections: [{ title: 'Speed', rows: [{ id: 'std', title: 'Standard', description: '3-5 days' }] }] } };
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'interactive', interactive: list } })).to.deep.equal({ ...envelope, type: 'interactive', interactive: list });
  });

  it('quick replies become reply buttons (≤ 3) or a list (more)', async () => {
    const replies = [{ title: 'Yes', payload: 'Y' }, { title: 'No', payload: 'N' }];
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'quick_replies', text: 'OK?', replies } })).to.deep.equal({
      ...envelope,
      type: 'interactive',
      interactive: { type: 'button', body: { text: 'OK?' }, action: { buttons: [{ type: 'reply', reply: { id: 'Y', title: 'Yes' } }, { type: 'reply', reply: { id: 'N', title: 'No' } }] } },
    });
    graph.reset();
    const four = ['A', 'B', 'C', 'D'].map((t) => ({ title: t, payload: t.toLowerCase() }));
    const body = (await sendAndCapture({ to: '16505551234', content: { type: 'quick_replies', text: 'Pick', replies: four } })) as { interactive: unknown };
    expect(body.interactive).to.deep.equal({ type: 'list', body: { text: 'Pick' }, action: { button: 'Choose', sections: [{ rows: four.map((r) => ({ id: r.payload, title: r.title })) }] } });
  });

  it('reaction', async () => {
    expect(await sendAndCapture({ to: '16505551234', content: { type: 'reaction', messageExternalId: 'wamid.IN1', emoji: '😀' } })).to.deep.equal({ ...envelope, type: 'reaction', reaction: { message_id: 'wamid.IN1', emoji: '😀' } });
  });

  it('a business-scoped user id goes in recipient instead of to', async () => {
    const body = await sendAndCapture({ to: 'US.13491208655302741918', content: { type: 'text', text: 'Hi' } });
    expect(body).to.deep.equal({ messaging_product: 'whatsapp', recipient_type: 'individual', recipient: 'US.13491208655302741918', type: 'text', text: { body: 'Hi', preview_url: false } });
  });

  it('maps Graph errors to ChannelSendError: 131047/131026/100 final, rate limits and 5xx retryable', async () => {
    const cases: [ReturnType<typeof graphError>, boolean][] = [
      [graphError(400, 131047, '(#131047) Re-engagement message', 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.', 2494010), false],
      [graphError(400, 131026, '(#131026) Message Undeliverable.', 'Message undeliverable'), false],
      [graphError(400, 100, '(#100) Invalid parameter', 'Parameter value is not valid'), false],
      [graphError(400, 130429, '(#130429) Rate limit hit', 'Cloud API message throughput has been reached.'), true],
      [graphError(400, 131056, '(#131056) (Business Account, Consumer Account) pair rate limit hit', 'Too many messages to this user'), true],
      [graphError(400, 80007, '(#80007) Rate limit issues', 'WABA rate limit'), true],
      [graphError(400, 4, '(#4) Application request limit reached', 'App rate limit'), true],
      [graphError(400, 131048, '(#131048) Spam rate limit hit', 'Spam'), true],
      [graphError(500, 131000, '(#131000) Something went wrong', 'Unknown'), true],
    ];
    for (const [reply, retryable] of cases) {
      graph.reset();
      graph.on('POST', PATH, reply);
      const err = await sendError({ to: '16505551234', content: { type: 'text', text: 'x' } });
      expect(err, reply.body.error.message).to.include({ providerCode: reply.body.error.code, retryable, httpStatus: reply.status });
      expect(err.message).to.contain(reply.body.error.message).and.to.contain(reply.body.error.error_data.details).and.to.contain('fbtrace_id AbCdEf123');
    }
    graph.reset();
    graph.on('POST', PATH, graphError(400, 131047, '(#131047) Re-engagement message', 'late', 2494010));
    expect((await sendError({ to: '1', content: { type: 'text', text: 'x' } })).message).to.equal('(#131047) Re-engagement message: late (subcode 2494010, fbtrace_id AbCdEf123)');
  });

  it('a non-JSON 502 and an unreachable Graph are retryable; a 200 without an id is not', async () => {
    graph.on('POST', PATH, { status: 502, raw: Buffer.from('<html>Bad Gateway</html>') });
    expect(await sendError({ to: '1', content: { type: 'text', text: 'x' } })).to.include({ retryable: true, httpStatus: 502, providerCode: null });
    graph.reset();
    graph.on('POST', PATH, { body: { messaging_product: 'whatsapp', messages: [] } });
    expect(await sendError({ to: '1', content: { type: 'text', text: 'x' } })).to.include({ retryable: false, httpStatus: 200 });
    const down = await whatsappAdapter.send({ ...creds, graphUrl: 'http://127.0.0.1:9' }, { to: '1', content: { type: 'text', text: 'x' } }).catch((e: unknown) => e);
    expect(down).to.be.instanceOf(ChannelSendError).and.to.include({ retryable: true, httpStatus: null });
  });

  it('refuses to send without an access token', async () => {
    const { accessToken: _omit, ...noToken } = creds;
    const err = await whatsappAdapter.send(noToken, { to: '1', content: { type: 'text', text: 'x' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelSendError).and.to.include({ retryable: false, message: 'WhatsApp account has no access token' });
  });

  it('markRead posts status read with the message id', async () => {
    graph.on('POST', PATH, { body: { success: true } });
    await markRead(creds, 'wamid.IN1');
    expect(graph.requests.map((r) => [r.path, r.headers.authorization, r.json])).to.deep.equal([[PATH, 'Bearer EAAtoken', { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.IN1' }]]);
    graph.reset();
    graph.on('POST', PATH, graphError(400, 100, '(#100) Invalid parameter', 'message_id is invalid'));
    expect(await markRead(creds, 'nope').catch((e: unknown) => e)).to.be.instanceOf(ChannelSendError).and.to.include({ retryable: false, providerCode: 100 });
  });
});

describe('WhatsApp media download', () => {
  let graph: FakeGraph;
  let creds: ChannelCredentials;
  const bytes = Buffer.from('\x89PNG fake image bytes');
  const sha = createHash('sha256').update(bytes).digest('hex');

  before(async () => {
    graph = await startFakeGraph();
    creds = { accountExternalId: PNID, accessToken: 'EAAtoken', graphUrl: graph.url, graphVersion: 'v21.0' };
  });
  beforeEach(() => graph.reset());
  afterEach(() => expect(graph.unexpected, 'unexpected Graph requests').to.deep.equal([]));
  after(() => graph.close());

  const mediaInfo = (extra: Record<string, unknown> = {}) => ({ body: { messaging_product: 'whatsapp', url: `${graph.url}/whatsapp_business/attachments/?mid=1003383421387256&ext=1744344496&hash=ATuu`, mime_type: 'image/png', sha256: sha, file_size: String(bytes.length), id: '1003383421387256', ...extra } });

  it('fetchMediaUrl asks GET /{version}/{media-id} with the token and answers url, mime type, sha256, size', async () => {
    graph.on('GET', '/v21.0/1003383421387256', mediaInfo());
    expect(await fetchMediaUrl(creds, '1003383421387256')).to.deep.equal({ id: '1003383421387256', url: `${graph.url}/whatsapp_business/attachments/?mid=1003383421387256&ext=1744344496&hash=ATuu`, mimeType: 'image/png', sha256: sha, fileSize: bytes.length });
    const [req] = graph.requests;
    expect(req?.headers.authorization).to.equal('Bearer EAAtoken');
    expect(req?.query.get('phone_number_id')).to.equal(PNID);
  });

  it('downloadMedia then GETs that URL with the Bearer token and checks the bytes against sha256', async () => {
    graph.on('GET', '/v21.0/1003383421387256', mediaInfo());
    graph.on('GET', '/whatsapp_business/attachments/', { raw: bytes, headers: { 'content-type': 'image/png' } });
    const file = await downloadMedia(creds, '1003383421387256');
    expect(file.bytes.equals(bytes)).to.equal(true);
    expect(file).to.include({ mimeType: 'image/png', checksumOk: true, fileSize: bytes.length });
    expect(graph.requests.map((r) => [r.method, r.path, r.headers.authorization])).to.deep.equal([
      ['GET', '/v21.0/1003383421387256', 'Bearer EAAtoken'],
      ['GET', '/whatsapp_business/attachments/', 'Bearer EAAtoken'],
    ]);
  });

  it('reports a checksum mismatch and refuses files above the limit', async () => {
    graph.on('GET', '/v21.0/55', mediaInfo({ sha256: '0'.repeat(64) }));
    graph.on('GET', '/whatsapp_business/attachments/', { raw: bytes });
    expect((await downloadMedia(creds, '55')).checksumOk).to.equal(false);
    graph.reset();
    graph.on('GET', '/v21.0/56', mediaInfo({ file_size: undefined }));
    graph.on('GET', '/whatsapp_business/attachments/', { raw: bytes });
    const tooBig = await downloadMedia(creds, '56', 4).catch((e: unknown) => e);
    expect(tooBig).to.be.instanceOf(ChannelSendError).and.to.include({ retryable: false, message: 'media 56 is larger than 4 bytes' });
  });

  it('maps a Graph error for an unknown media id', async () => {
    graph.on('GET', '/v21.0/404404', { status: 400, body: { error: { message: "Unsupported get request. Object with ID '404404' does not exist", type: 'GraphMethodException', code: 100, error_subcode: 33, fbtrace_id: 'Xy' } } });
    expect(await fetchMediaUrl(creds, '404404').catch((e: unknown) => e)).to.be.instanceOf(ChannelSendError).and.to.include({ providerCode: 100, retryable: false, httpStatus: 400 });
  });
});

describe('isInsideCustomerServiceWindow', () => {
  const now = new Date('2025-06-10T12:00:00Z');
  it('is open for 24 hours after the last inbound message and closed after, or with none', () => {
    expect(isInsideCustomerServiceWindow(new Date('2025-06-09T12:00:01Z'), now)).to.equal(true);
    expect(isInsideCustomerServiceWindow(new Date('2025-06-10T11:59:00Z'), now)).to.equal(true);
    expect(isInsideCustomerServiceWindow(new Date('2025-06-09T12:00:00Z'), now)).to.equal(false);
    expect(isInsideCustomerServiceWindow(new Date('2025-06-01T00:00:00Z'), now)).to.equal(false);
    expect(isInsideCustomerServiceWindow(null, now)).to.equal(false);
  });
});
