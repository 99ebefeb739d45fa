import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { instagramAdapter, markSeen } from '../../channels/instagram/index.js';
import { signMetaBody } from '../../channels/meta-signature.js';
import { ChannelSendError } from '../../channels/types.js';
import type { ChannelCredentials, InboundEvent, InboundMessage, InboundStatus } from '../../channels/types.js';
import { startFakeGraph } from '../support/fake-graph.js';
import type { FakeGraph } from '../support/fake-graph.js';

const SECRET = 'instagram-app-secret';
const IG_ID = '17841405822304914';
const IGSID = '1254459154682919';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/instagram/${name}`, import.meta.url));
const messages = (events: InboundEvent[]) => events.filter((e): e is InboundMessage => e.kind === 'message');
const statuses = (events: InboundEvent[]) => events.filter((e): e is InboundStatus => e.kind === 'status');
const one = <T>(items: T[]): T => {
  expect(items).to.have.length(1);
  return items[0] as T;
};

describe('instagramAdapter.verify', () => {
  const raw = fixture('text.json');

  it('accepts the X-Hub-Signature-256 of the raw bytes and rejects re-serialized, missing or foreign signatures', () => {
    expect(raw.toString('utf8')).to.include('\\u00ea');
    expect(instagramAdapter.verify(raw, { 'x-hub-signature-256': signMetaBody(raw, SECRET) }, SECRET)).to.deep.equal({ ok: true });
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(instagramAdapter.verify(raw, { 'x-hub-signature-256': signMetaBody(reserialized, SECRET) }, SECRET)).to.include({ ok: false });
    expect(instagramAdapter.verify(raw, {}, SECRET)).to.include({ ok: false });
    expect(instagramAdapter.verify(raw, { 'x-hub-signature-256': signMetaBody(raw, 'another-app') }, SECRET)).to.include({ ok: false });
  });
});

describe('instagramAdapter.parse', () => {
  it('parses a text message from an IGSID to the Instagram account', () => {
    const msg = one(messages(instagramAdapter.parse(fixture('text.json'), {})));
    expect(msg).to.deep.equal({
      kind: 'message',
      channel: 'instagram',
      accountExternalId: IG_ID,
      externalId:
        'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAzNTI3NzI5ODYzMDkzODozMjU2NTQ3Njc1OTE5NzUwNTY4MjQwMjMzNzY4NDk3OTcxMgZDZD',
      sender: { externalId: IGSID },
      timestamp: new Date(1718040000123).toISOString(),
      type: 'text',
      text: 'Oi! Vocês entregam em São Paulo? 😊',
    });
  });

  it('keeps quick_reply payloads and reply_to mids', () => {
    const [quick, reply] = messages(instagramAdapter.parse(fixture('quick-reply-and-reply.json'), {}));
    expect(quick).to.deep.include({ type: 'text', text: 'Tamanho M', choice: { payload: 'SIZE_M', title: 'Tamanho M' } });
    expect(reply).to.include({ text: 'esse aqui', replyToExternalId: 'aWdfourMessage1' });
  });

  it('parses image, video, audio, file, share, reel and story mention attachments with their URLs', () => {
    const byId = new Map(messages(instagramAdapter.parse(fixture('attachments.json'), {})).map((m) => [m.externalId, m]));
    const cdn = (asset: string) => `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${asset}`;
    expect(byId.get('aWdfimg1')).to.deep.include({ type: 'image', media: [{ url: `${cdn('17955543218822751')}&signature=abc` }] });
    expect(byId.get('aWdfvid1')).to.deep.include({ type: 'video', media: [{ url: `${cdn('2')}&signature=def` }] });
    expect(byId.get('aWdfaud1')).to.deep.include({ type: 'audio', media: [{ url: `${cdn('3')}&signature=ghi` }] });
    expect(byId.get('aWdffile1')).to.deep.include({ type: 'document', media: [{ url: `${cdn('4')}&signature=jkl` }] });
    expect(byId.get('aWdfshare1')).to.deep.include({ type: 'text', text: 'https://www.instagram.com/p/C7xYz12AbCd/', media: [{ url: 'https://www.instagram.com/p/C7xYz12AbCd/' }] });
    expect(byId.get('aWdfreel1')).to.deep.include({ type: 'text', text: `Nosso novo drop\n${cdn('5')}&signature=mno` });
    expect(byId.get('aWdfmention1')).to.deep.include({ type: 'story_mention', media: [{ url: `${cdn('6')}&signature=pqr` }], sender: { externalId: IGSID } });
  });

  it('parses a story reply with the story URL and id', () => {
    const msg = one(messages(instagramAdapter.parse(fixture('story-reply.json'), {})));
    expect(msg).to.deep.include({
      type: 'story_reply',
      text: 'Quero esse! 😍',
      media: [{ url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17899092177578791&signature=stu' }],
      replyToExternalId: '17899092177578791',
    });
  });

  it('parses react and unreact', () => {
    const [react, unreact] = messages(instagramAdapter.parse(fixture('reactions.json'), {}));
    expect(react).to.deep.include({ type: 'reaction', reaction: { messageExternalId: 'aWdfourMessage1', emoji: '❤️' } });
    expect(unreact).to.deep.include({ type: 'reaction', reaction: { messageExternalId: 'aWdfourMessage1', emoji: null } });
    expect(new Set([react?.externalId, unreact?.externalId, 'aWdfourMessage1']).size).to.equal(3);
  });

  it('parses an ice-breaker postback', () => {
    const msg = one(messages(instagramAdapter.parse(fixture('postback.json'), {})));
    expect(msg).to.deep.include({ type: 'postback', externalId: 'aWdfpostback1', text: 'Ver preços', choice: { title: 'Ver preços', payload: 'ICEBREAKER_PRICES' } });
  });

  it('turns messaging_seen into a read status naming the message, not a watermark', () => {
    const status = one(statuses(instagramAdapter.parse(fixture('seen.json'), {})));
    expect(status).to.deep.equal({
      kind: 'status',
      channel: 'instagram',
      accountExternalId: IG_ID,
      recipientExternalId: IGSID,
      status: 'read',
      messageExternalId: 'aWdfourMessage1',
      timestamp: new Date(1718040599000).toISOString(),
    });
  });

  it('marks echoes sent by the Instagram account, with the customer as recipient', () => {
    const [text, image] = messages(instagramAdapter.parse(fixture('echo.json'), {}));
    expect(text).to.deep.include({ isEcho: true, sender: { externalId: IG_ID }, recipientExternalId: IGSID, type: 'text', text: 'Entregamos sim! Frete grátis acima de R$ 99.' });
    expect(image).to.deep.include({ isEcho: true, recipientExternalId: IGSID, type: 'image' });
  });

  it('turns unsent (is_deleted) and is_unsupported messages into unsupported ones', () => {
    const [deleted, unsupported] = messages(instagramAdapter.parse(fixture('deleted-unsupported.json'), {}));
    expect(deleted).to.include({ type: 'unsupported', externalId: 'aWdfimg1#deleted' });
    expect(deleted?.unsupportedReason).to.include('deleted').and.include('aWdfimg1');
    expect(unsupported).to.include({ type: 'unsupported', externalId: 'aWdfgif1' });
    expect(unsupported?.unsupportedReason).to.include('is_unsupported');
  });

  it('parses standby[] events', () => {
    expect(one(messages(instagramAdapter.parse(fixture('standby.json'), {})))).to.deep.include({ externalId: 'aWdfstandby1', text: 'olá?', sender: { externalId: IGSID } });
  });

  it('keeps ids beyond 2^53 exact across several entries, numbers and strings alike', () => {
    const events = instagramAdapter.parse(fixture('long-ids.json'), {});
    expect(messages(events).map((e) => [e.accountExternalId, e.sender.externalId, e.text])).to.deep.equal([
      [IG_ID, '98765432109876543', 'um'],
      ['17841400000000001', '18014398509481985', 'dois'],
      ['17841400000000001', '18014398509481985', 'três'],
    ]);
    expect(one(statuses(events))).to.include({ recipientExternalId: '98765432109876543', messageExternalId: 'aWdfourMessage2' });
  });

  it('ignores a Messenger payload', () => {
    expect(instagramAdapter.parse(readFileSync(new URL('../fixtures/messenger/text.json', import.meta.url)), {})).to.deep.equal([]);
  });
});

describe('instagramAdapter.send', () => {
  let graph: FakeGraph;
  let credentials: ChannelCredentials;
  const path = '/v21.0/me/messages';

  before(async () => {
    graph = await startFakeGraph();
  });
  after(async () => {
    await graph.close();
  });
  beforeEach(() => {
    graph.reset();
    credentials = { accountExternalId: IG_ID, accessToken: 'IGAAToken', graphUrl: graph.url, graphVersion: 'v21.0' };
  });
  afterEach(() => {
    expect(graph.unexpected).to.deep.equal([]);
  });

  it('sends text to /me/messages with the Instagram token as Bearer', async () => {
    graph.on('POST', path, { body: { recipient_id: IGSID, message_id: 'aWdfsent1' } });
    expect(await instagramAdapter.send(credentials, { to: IGSID, content: { type: 'text', text: 'Oi! 😊' } })).to.deep.equal({ externalId: 'aWdfsent1' });
    const req = one(graph.requests);
    expect(req.path).to.equal(path);
    expect(req.headers.authorization).to.equal('Bearer IGAAToken');
    expect(req.json).to.deep.equal({ recipient: { id: IGSID }, message: { text: 'Oi! 😊' } });
  });

  it('sends an image by URL and quick replies', async () => {
    graph.on('POST', path, { body: { recipient_id: IGSID, message_id: 'aWdfsent2' } });
    await instagramAdapter.send(credentials, { to: IGSID, content: { type: 'media', mediaType: 'image', link: 'https://cdn.example.com/p.png' } });
    await instagramAdapter.send(credentials, { to: IGSID, content: { type: 'quick_replies', text: 'Tamanho?', replies: [{ title: 'M', payload: 'SIZE_M' }] } });
    expect(graph.requests.map((r) => r.json)).to.deep.equal([
      { recipient: { id: IGSID }, message: { attachment: { type: 'image', payload: { url: 'https://cdn.example.com/p.png', is_reusable: true } } } },
      { recipient: { id: IGSID }, message: { text: 'Tamanho?', quick_replies: [{ content_type: 'text', title: 'M', payload: 'SIZE_M' }] } },
    ]);
  });

  it('reacts to a message and marks the conversation seen', async () => {
    graph.on('POST', path, { body: { recipient_id: IGSID } });
    const result = await instagramAdapter.send(credentials, { to: IGSID, content: { type: 'reaction', messageExternalId: 'aWdfcustomer1', emoji: '❤️' } });
    await markSeen(credentials, IGSID);
    expect(result.externalId).to.equal('aWdfcustomer1#react');
    expect(graph.requests.map((r) => r.json)).to.deep.equal([
      { recipient: { id: IGSID }, sender_action: 'react', payload: { message_id: 'aWdfcustomer1', reaction: '❤️' } },
      { recipient: { id: IGSID }, sender_action: 'mark_seen' },
    ]);
  });

  it('maps Instagram rate limits to retryable errors and a closed window to a permanent one', async () => {
    graph.on('POST', path, { status: 400, body: { error: { message: 'Calls to this api have exceeded the rate limit.', type: 'OAuthException', code: 613, fbtrace_id: 'X' } } });
    const limited = await instagramAdapter.send(credentials, { to: IGSID, content: { type: 'text', text: 'hi' } }).catch((e: unknown) => e);
    expect(limited).to.be.instanceOf(ChannelSendError).and.include({ providerCode: 613, retryable: true, httpStatus: 400 });
    graph.on('POST', path, {
      status: 400,
      body: { error: { message: 'This message is sent outside of allowed window.', type: 'OAuthException', code: 10, error_subcode: 2534022, fbtrace_id: 'Y' } },
    });
    const outside = await instagramAdapter.send(credentials, { to: IGSID, content: { type: 'text', text: 'hi' } }).catch((e: unknown) => e);
    expect(outside).to.be.instanceOf(ChannelSendError).and.include({ providerCode: 10, retryable: false, httpStatus: 400 });
    expect((outside as Error).message).to.include('outside of allowed window');
  });
});
