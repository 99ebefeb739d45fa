import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { messengerAdapter, markSeen } from '../../channels/messenger/index.js';
import { signMetaBody } from '../../channels/meta-signature.js';
import { ChannelSendError } from '../../channels/types.js';
import type { ChannelCredentials, InboundEvent, InboundMessage, InboundStatus } from '../../channels/types.js';
import { startFakeGraph } from '../support/fake-graph.js';
import type { FakeGraph } from '../support/fake-graph.js';

const SECRET = 'messenger-app-secret';
const PAGE_ID = '106548158215409';
const PSID = '7206151282797125';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/messenger/${name}`, import.meta.url));
const messages = (events: InboundEvent[]) => events.filter((e): e is InboundMessage => e.kind === 'message');
const statuses = (events: InboundEvent[]) => events.filter((e): e is InboundStatus => e.kind === 'status');
const one = <T>(items: T[]): T => {
  expect(items).to.have.length(1);
  return items[0] as T;
};

describe('messengerAdapter.verify', () => {
  const raw = fixture('text.json');

  it('accepts the X-Hub-Signature-256 of the raw bytes, escapes and all', () => {
    // The fixture holds \u00e1, \ud83d\ude4f and \/ exactly as Meta sends them.
    expect(raw.toString('utf8')).to.include('\\u00e1').and.include('\\/');
    expect(messengerAdapter.verify(raw, { 'x-hub-signature-256': signMetaBody(raw, SECRET) }, SECRET)).to.deep.equal({ ok: true });
  });

  it('rejects a signature computed over re-serialized JSON', () => {
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    const result = messengerAdapter.verify(raw, { 'x-hub-signature-256': signMetaBody(reserialized, SECRET) }, SECRET);
    expect(result.ok).to.equal(false);
  });

  it('rejects a missing header, a wrong secret and a malformed header', () => {
    expect(messengerAdapter.verify(raw, {}, SECRET)).to.include({ ok: false });
    expect(messengerAdapter.verify(raw, { 'x-hub-signature-256': signMetaBody(raw, 'other-secret') }, SECRET)).to.include({ ok: false });
    expect(messengerAdapter.verify(raw, { 'x-hub-signature-256': 'sha1=abc' }, SECRET)).to.include({ ok: false });
  });
});

describe('messengerAdapter.parse', () => {
  it('parses a text message with its page, sender, mid and time', () => {
    const msg = one(messages(messengerAdapter.parse(fixture('text.json'), {})));
    expect(msg).to.deep.equal({
      kind: 'message',
      channel: 'messenger',
      accountExternalId: PAGE_ID,
      externalId: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P',
      sender: { externalId: PSID },
      timestamp: new Date(1718035199876).toISOString(),
      type: 'text',
      text: 'Olá! Preciso de ajuda com o pedido 42/B 🙏',
    });
  });

  it('keeps quick_reply payloads and reply_to mids', () => {
    const [quick, reply] = messages(messengerAdapter.parse(fixture('quick-reply-and-reply.json'), {}));
    expect(quick).to.include({ type: 'text', text: 'Red' });
    expect(quick?.choice).to.deep.equal({ payload: 'COLOR_RED', title: 'Red' });
    expect(reply).to.include({ type: 'text', text: 'this one, please', replyToExternalId: 'm_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU' });
  });

  it('parses every attachment kind with its URL, and unknown ones as unsupported', () => {
    const byId = new Map(messages(messengerAdapter.parse(fixture('attachments.json'), {})).map((m) => [m.externalId, m]));
    expect(byId.size).to.equal(8);
    expect(byId.get('m_img1')).to.deep.include({
      type: 'image',
      media: [
        { url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/photo1.jpg?_nc_cat=1&oh=abc' },
        { url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/photo2.jpg?_nc_cat=1&oh=def' },
      ],
    });
    expect(byId.get('m_vid1')).to.deep.include({ type: 'video', media: [{ url: 'https://video.xx.fbcdn.net/v/t42.3356-2/clip.mp4' }] });
    expect(byId.get('m_aud1')).to.deep.include({ type: 'audio', media: [{ url: 'https://cdn.fbsbx.com/v/t59.3654-21/voice.mp4' }] });
    expect(byId.get('m_file1')).to.deep.include({ type: 'document', media: [{ url: 'https://cdn.fbsbx.com/v/t59.2708-21/invoice.pdf' }] });
    expect(byId.get('m_fallback1')).to.deep.include({
      type: 'text',
      text: 'Produto 123\nhttps://example.com/produto/123',
      media: [{ url: 'https://example.com/produto/123', caption: 'Produto 123' }],
    });
    expect(byId.get('m_sticker1')).to.deep.include({
      type: 'sticker',
      media: [{ url: 'https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png' }],
    });
    expect(byId.get('m_loc1')).to.deep.include({
      type: 'location',
      location: { latitude: -23.5505, longitude: -46.6333, name: 'Pinned Location', url: 'https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps' },
    });
    const unknown = byId.get('m_unknown1');
    expect(unknown?.type).to.equal('unsupported');
    expect(unknown?.unsupportedReason).to.include('product_carousel');
  });

  it('parses postbacks with title and payload, deriving an id when Meta gives no mid', () => {
    const [withMid, withoutMid] = messages(messengerAdapter.parse(fixture('postbacks.json'), {}));
    expect(withMid).to.deep.include({
      type: 'postback',
      externalId: 'm_postback1ZDamVrALniheUYEDdHJXjDXEAyaS1xxONzb2Iv',
      text: 'Falar com atendente',
      choice: { title: 'Falar com atendente', payload: 'TALK_TO_AGENT' },
    });
    expect(withoutMid).to.deep.include({ type: 'postback', externalId: `postback:${PSID}@1718035499500`, choice: { title: 'Get Started', payload: 'GET_STARTED' } });
    // The same payload parsed again (a Meta retry) derives the same id.
    expect(messages(messengerAdapter.parse(fixture('postbacks.json'), {}))[1]?.externalId).to.equal(withoutMid?.externalId);
  });

  it('parses react and unreact naming the reacted mid, with ids distinct from it', () => {
    const [react, unreact] = messages(messengerAdapter.parse(fixture('reactions.json'), {}));
    expect(react).to.deep.include({ type: 'reaction', reaction: { messageExternalId: 'm_ourReply1AG5Hz2Uq7tuwNEhXfYYKj8mJEM', emoji: '❤️' } });
    expect(unreact).to.deep.include({ type: 'reaction', reaction: { messageExternalId: 'm_ourReply1AG5Hz2Uq7tuwNEhXfYYKj8mJEM', emoji: null } });
    expect(react?.externalId).to.not.equal('m_ourReply1AG5Hz2Uq7tuwNEhXfYYKj8mJEM');
    expect(react?.externalId).to.not.equal(unreact?.externalId);
  });

  it('turns read watermarks and deliveries into statuses', () => {
    const events = messengerAdapter.parse(fixture('read-delivery.json'), {});
    expect(messages(events)).to.have.length(0);
    const [read, d1, d2, dWatermark] = statuses(events);
    expect(read).to.deep.equal({
      kind: 'status',
      channel: 'messenger',
      accountExternalId: PAGE_ID,
      recipientExternalId: PSID,
      status: 'read',
      watermark: new Date(1458668856253).toISOString(),
      timestamp: new Date(1458668856463).toISOString(),
    });
    expect(d1).to.include({ status: 'delivered', messageExternalId: 'mid.1458668856218:ed81099e15d3f4f233', watermark: new Date(1458668856253).toISOString() });
    expect(d2).to.include({ status: 'delivered', messageExternalId: 'mid.1458668856219:ed81099e15d3f4f234' });
    expect(dWatermark).to.include({ status: 'delivered', watermark: new Date(1458668856400).toISOString() });
    expect(dWatermark).to.not.have.property('messageExternalId');
  });

  it('marks echoes as the business writing to the customer, in messaging[] and standby[]', () => {
    const [text, fallback, template] = messages(messengerAdapter.parse(fixture('echoes.json'), {}));
    expect(text).to.deep.include({
      externalId: 'mid.1457764197618:41d102a3e1ae206a38',
      isEcho: true,
      sender: { externalId: PAGE_ID },
      recipientExternalId: PSID,
      type: 'text',
      text: 'Seu pedido saiu para entrega ✅',
    });
    expect(fallback).to.deep.include({ isEcho: true, type: 'text', text: 'Rastreio\nhttps://example.com/rastreio?id=9' });
    expect(template).to.deep.include({ isEcho: true, recipientExternalId: PSID, type: 'unsupported' });
  });

  it('parses standby[] events like messaging[] ones', () => {
    const events = messengerAdapter.parse(fixture('standby.json'), {});
    expect(one(messages(events))).to.deep.include({ externalId: 'm_standby1HfYYKj8mJEM_QPpz5jdCK48PnKAjS', type: 'text', text: 'is anyone there?', sender: { externalId: PSID } });
    expect(one(statuses(events))).to.include({ status: 'read', recipientExternalId: PSID });
  });

  it('keeps ids beyond 2^53 exact, whether sent as JSON numbers or strings, across several entries', () => {
    const raw = fixture('long-ids.json');
    // What JSON.parse alone would do to these ids:
    expect(String(JSON.parse(raw.toString('utf8')).entry[0].messaging[0].sender.id)).to.not.equal('98765432109876543');
    const events = messages(messengerAdapter.parse(raw, {}));
    expect(events.map((e) => [e.accountExternalId, e.sender.externalId, e.externalId])).to.deep.equal([
      ['123456789012345678', '98765432109876543', 'm_long1'],
      ['123456789012345678', '98765432109876543', 'm_long2'],
      ['223456789012345679', '18014398509481985', 'm_long3'],
      ['223456789012345679', '18014398509481985', 'm_long4'],
    ]);
  });

  it('answers nothing for another object, and throws a clear error for a body that is not JSON', () => {
    expect(messengerAdapter.parse(Buffer.from('{"object":"instagram","entry":[]}'), {})).to.deep.equal([]);
    expect(messengerAdapter.parse(Buffer.from('{"object":"page","entry":[{"id":"1","messaging":[{"optin":{"ref":"x"}},7,null]}]}'), {})).to.deep.equal([]);
    expect(() => messengerAdapter.parse(Buffer.from('<html>'), {})).to.throw(/not JSON/);
  });
});

describe('messengerAdapter.send', () => {
  let graph: FakeGraph;
  let credentials: ChannelCredentials;
  const path = `/v21.0/${PAGE_ID}/messages`;

  before(async () => {
    graph = await startFakeGraph();
  });
  after(async () => {
    await graph.close();
  });
  beforeEach(() => {
    graph.reset();
    credentials = { accountExternalId: PAGE_ID, accessToken: 'EAAPageToken', graphUrl: graph.url, graphVersion: 'v21.0' };
  });
  afterEach(() => {
    expect(graph.unexpected).to.deep.equal([]);
  });

  const answerOk = (messageId: string) => graph.on('POST', path, { body: { recipient_id: PSID, message_id: messageId } });

  it('sends text to /{page-id}/messages with the page token and messaging_type RESPONSE', async () => {
    answerOk('m_sent1');
    const result = await messengerAdapter.send(credentials, { to: PSID, content: { type: 'text', text: 'Olá 👋' } });
    expect(result).to.deep.equal({ externalId: 'm_sent1' });
    const req = one(graph.requests);
    expect(req.method).to.equal('POST');
    expect(req.path).to.equal(path);
    expect(req.query.has('access_token')).to.equal(false);
    expect(req.headers.authorization).to.equal('Bearer EAAPageToken');
    expect(req.headers['content-type']).to.equal('application/json');
    expect(req.json).to.deep.equal({ recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { text: 'Olá 👋' } });
  });

  it('sends quick replies', async () => {
    answerOk('m_sent2');
    await messengerAdapter.send(credentials, {
      to: PSID,
      content: { type: 'quick_replies', text: 'Pick a color:', replies: [{ title: 'Red', payload: 'COLOR_RED' }, { title: 'Green', payload: 'COLOR_GREEN' }] },
    });
    expect(one(graph.requests).json).to.deep.equal({
      recipient: { id: PSID },
      messaging_type: 'RESPONSE',
      message: {
        text: 'Pick a color:',
        quick_replies: [
          { content_type: 'text', title: 'Red', payload: 'COLOR_RED' },
          { content_type: 'text', title: 'Green', payload: 'COLOR_GREEN' },
        ],
      },
    });
  });

  it('sends attachments by URL (reusable) and by uploaded attachment id', async () => {
    answerOk('m_sent3');
    await messengerAdapter.send(credentials, { to: PSID, content: { type: 'media', mediaType: 'document', link: 'https://files.example.com/invoice.pdf' } });
    await messengerAdapter.send(credentials, { to: PSID, content: { type: 'media', mediaType: 'image', providerMediaId: '1857777774821032' } });
    expect(graph.requests.map((r) => r.json)).to.deep.equal([
      { recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { attachment: { type: 'file', payload: { url: 'https://files.example.com/invoice.pdf', is_reusable: true } } } },
      { recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { attachment: { type: 'image', payload: { attachment_id: '1857777774821032' } } } },
    ]);
  });

  it('sends a caption as a text after the attachment and answers the attachment id', async () => {
    let n = 0;
    graph.on('POST', path, () => ({ body: { recipient_id: PSID, message_id: `m_part${++n}` } }));
    const result = await messengerAdapter.send(credentials, { to: PSID, content: { type: 'media', mediaType: 'image', link: 'https://cdn.example.com/a.jpg', caption: 'Seu boleto' } });
    expect(result).to.deep.equal({ externalId: 'm_part1' });
    expect(graph.requests.map((r) => (r.json as { message: unknown }).message)).to.deep.equal([
      { attachment: { type: 'image', payload: { url: 'https://cdn.example.com/a.jpg', is_reusable: true } } },
      { text: 'Seu boleto' },
    ]);
  });

  it('reports a failed caption after a sent attachment as not retryable', async () => {
    let n = 0;
    graph.on('POST', path, () =>
      ++n === 1 ? { body: { recipient_id: PSID, message_id: 'm_img' } } : { status: 500, body: { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1, fbtrace_id: 'A1' } } },
    );
    const err = await messengerAdapter.send(credentials, { to: PSID, content: { type: 'media', mediaType: 'image', link: 'https://cdn.example.com/a.jpg', caption: 'x' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelSendError);
    expect(err).to.include({ retryable: false, providerCode: 1, httpStatus: 500 });
    expect((err as Error).message).to.include('m_img');
  });

  it('reacts and unreacts with sender_action and the target message_id', async () => {
    graph.on('POST', path, { body: { recipient_id: PSID, message_id: 'm_reaction1' } });
    const reacted = await messengerAdapter.send(credentials, { to: PSID, content: { type: 'reaction', messageExternalId: 'm_customer1', emoji: '😊' } });
    graph.on('POST', path, { body: { recipient_id: PSID } });
    const removed = await messengerAdapter.send(credentials, { to: PSID, content: { type: 'reaction', messageExternalId: 'm_customer1', emoji: '' } });
    expect(reacted).to.deep.equal({ externalId: 'm_reaction1' });
    expect(removed.externalId).to.equal('m_customer1#unreact');
    expect(graph.requests.map((r) => r.json)).to.deep.equal([
      { recipient: { id: PSID }, sender_action: 'react', payload: { message_id: 'm_customer1', reaction: '😊' } },
      { recipient: { id: PSID }, sender_action: 'unreact', payload: { message_id: 'm_customer1' } },
    ]);
  });

  it('marks the conversation seen', async () => {
    graph.on('POST', path, { body: { recipient_id: PSID } });
    await markSeen(credentials, PSID);
    const req = one(graph.requests);
    expect(req.headers.authorization).to.equal('Bearer EAAPageToken');
    expect(req.json).to.deep.equal({ recipient: { id: PSID }, sender_action: 'mark_seen' });
  });

  it('keeps a long recipient_id/message_id answer exact', async () => {
    graph.on('POST', path, { raw: Buffer.from('{"recipient_id":98765432109876543,"message_id":"m_ok"}') });
    expect(await messengerAdapter.send(credentials, { to: '98765432109876543', content: { type: 'text', text: 'hi' } })).to.deep.equal({ externalId: 'm_ok' });
  });

  const graphError = (status: number, code: number, subcode?: number, extra: Record<string, unknown> = {}) => ({
    status,
    body: { error: { message: `(#${code}) error`, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'AbCdEf', ...extra } },
  });
  const sendExpectingError = async () => {
    const err = await messengerAdapter.send(credentials, { to: PSID, content: { type: 'text', text: 'hi' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelSendError);
    return err as ChannelSendError;
  };

  for (const [status, code, subcode] of [
    [400, 4, undefined],
    [400, 613, undefined],
    [400, 1200, undefined],
    [400, 32, undefined],
    [500, 2, undefined],
  ] as const) {
    it(`maps Graph error code ${code} (HTTP ${status}) to a retryable ChannelSendError`, async () => {
      graph.on('POST', path, graphError(status, code, subcode));
      expect(await sendExpectingError()).to.include({ providerCode: code, retryable: true, httpStatus: status });
    });
  }

  for (const [status, code, subcode] of [
    [400, 100, 2018001],
    [400, 10, 2018278],
    [400, 551, 1545041],
    [400, 190, 460],
    [403, 200, undefined],
  ] as const) {
    it(`maps Graph error code ${code}${subcode ? `/${subcode}` : ''} to a ChannelSendError that is not retryable`, async () => {
      graph.on('POST', path, graphError(status, code, subcode));
      const err = await sendExpectingError();
      expect(err).to.include({ providerCode: code, retryable: false, httpStatus: status });
      expect(err.message).to.include(`(#${code}) error`);
      if (subcode) expect(err.message).to.include(String(subcode));
    });
  }

  it('treats is_transient errors and bodies that are not Graph errors by their status', async () => {
    graph.on('POST', path, graphError(400, 9999, undefined, { is_transient: true }));
    expect(await sendExpectingError()).to.include({ retryable: true });
    graph.on('POST', path, { status: 502, raw: Buffer.from('<html>Bad Gateway</html>') });
    expect(await sendExpectingError()).to.include({ retryable: true, providerCode: null, httpStatus: 502 });
  });

  it('reports an unreachable Graph API as retryable', async () => {
    const closed = await startFakeGraph();
    await closed.close();
    const err = await messengerAdapter.send({ ...credentials, graphUrl: closed.url }, { to: PSID, content: { type: 'text', text: 'hi' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelSendError);
    expect(err).to.include({ retryable: true, httpStatus: null });
  });

  it('refuses content Messenger cannot carry, and a missing token, without calling Meta', async () => {
    for (const content of [
      { type: 'template', name: 'order_update', language: 'pt_BR' },
      { type: 'interactive', interactive: { type: 'button' } },
      { type: 'media', mediaType: 'image' },
    ] as const) {
      const err = await messengerAdapter.send(credentials, { to: PSID, content }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ChannelSendError).and.include({ retryable: false });
    }
    const { accessToken: _omitted, ...noToken } = credentials;
    const err = await messengerAdapter.send(noToken, { to: PSID, content: { type: 'text', text: 'hi' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ChannelSendError).and.include({ retryable: false });
    expect(graph.requests).to.deep.equal([]);
  });
});
