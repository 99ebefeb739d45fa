/**
 * The OpenAI-compatible responder against a real local HTTP server speaking chat completions
 * (non-streaming): retrieval first, then the model is asked with the agent's instructions and
 * the retrieved context; token usage comes back; 429 and 5xx are retried (Retry-After honoured),
 * a 401's JSON error is reported at once as a 502 naming it; a slow endpoint times out.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createSession, type TestSession } from '../support/session.js';

/** One scripted answer of the fake endpoint. */
interface Scripted {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

interface FakeChat {
  url: string;
  requests: { path: string; authorization: string | undefined; body: any }[];
  script: Scripted[];
  close(): Promise<void>;
}

const completion = (content: string, promptTokens = 120, completionTokens = 18) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'tiny-model',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
});

/** A chat-completions endpoint answering from `script` in order (the last entry repeats). */
async function startFakeChat(): Promise<FakeChat> {
  const fake: FakeChat = { url: '', requests: [], script: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      fake.requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(raw || 'null') });
      const next = (fake.script.length > 1 ? fake.script.shift() : fake.script[0]) as Scripted;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        res.end(JSON.stringify(next.body));
      }, next.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

describe('OpenAI-compatible responder', function () {
  this.timeout(30_000);
  let s: TestSession;
  let chat: FakeChat;
  let agentId: string;
  before(async () => {
    s = await createSession();
    chat = await startFakeChat();
    const res = await s.call('POST', '/api/ai-agents', {
      body: { name: 'Model', instructions: 'Kamu asisten Toko Sejahtera. Jawab ramah.', language: 'id', responder: { kind: 'openai', base_url: chat.url, model: 'tiny-model', api_key: 'sk-test-key', timeout_ms: 1000 } },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    agentId = res.body.id;
    const source = (await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources`, { body: { kind: 'text', title: 'FAQ', text: 'FAQ.' } })).body;
    await s.call('POST', `/api/ai-agents/${agentId}/knowledge-sources/${source.id}/qna`, { body: { question: 'Berapa ongkos kirim ke Surabaya?', answer: 'Ongkir ke Surabaya Rp15.000.' } });
  });
  after(() => chat.close());
  beforeEach(() => {
    chat.requests.length = 0;
    chat.script.length = 0;
  });
  const ask = (message: string) => s.call('POST', `/api/ai-agents/${agentId}/test`, { body: { message, history: [{ role: 'customer', text: 'halo kak' }, { role: 'ai', text: 'Halo, ada yang bisa dibantu?' }] } });

  it('asks the model with instructions, retrieved context and history; answers its reply and token usage', async () => {
    chat.script.push({ status: 200, body: completion('Ongkirnya Rp15.000 ya kak.') });
    const res = await ask('brp ongkir ke surabaya');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ answer: 'Ongkirnya Rp15.000 ya kak.', responder: 'openai' });
    expect(res.body.usage).to.deep.equal({ tokens_in: 120, tokens_out: 18 });
    expect(res.body.sources[0]).to.include({ kind: 'qna' });
    expect(chat.requests).to.have.length(1);
    const [req] = chat.requests;
    expect(req?.path).to.equal('/v1/chat/completions');
    expect(req?.authorization).to.equal('Bearer sk-test-key');
    expect(req?.body).to.include({ model: 'tiny-model', stream: false });
    const [system, ...rest] = req?.body.messages as { role: string; content: string }[];
    expect(system?.role).to.equal('system');
    expect(system?.content).to.include('Toko Sejahtera').and.include('Ongkir ke Surabaya Rp15.000.');
    expect(rest.map((m) => m.role)).to.deep.equal(['user', 'assistant', 'user']);
    expect(rest[2]?.content).to.equal('brp ongkir ke surabaya');
  });

  it('asks nothing when retrieval finds nothing above the threshold', async () => {
    chat.script.push({ status: 200, body: completion('should not be asked') });
    const res = await ask('resep rendang padang');
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ answer: null, responder: 'openai' });
    expect(chat.requests).to.have.length(0);
  });

  it('retries a 429 (after its Retry-After) and a 500, then answers', async () => {
    chat.script.push(
      { status: 429, body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, headers: { 'retry-after': '0' } },
      { status: 500, body: { error: { message: 'The server had an error', type: 'server_error' } } },
      { status: 200, body: completion('Rp15.000 kak.', 90, 5) },
    );
    const res = await ask('ongkir surabaya berapa');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.answer).to.equal('Rp15.000 kak.');
    expect(res.body.usage).to.deep.equal({ tokens_in: 90, tokens_out: 5 });
    expect(chat.requests).to.have.length(3);
  });

  it('reports a 401’s error message at once, without retrying', async () => {
    chat.script.push({ status: 401, body: { error: { message: 'Incorrect API key provided: sk-test-key', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const res = await ask('ongkir surabaya berapa');
    expect(res.status).to.equal(502);
    expect(res.body.code).to.equal('ai_responder_failed');
    expect(res.body.message).to.include('HTTP 401').and.include('Incorrect API key');
    expect(chat.requests).to.have.length(1);
  });

  it('gives up after three 500s, and on an endpoint slower than the timeout', async () => {
    chat.script.push({ status: 500, body: { error: { message: 'overloaded' } } });
    const failed = await ask('ongkir surabaya berapa');
    expect(failed.status).to.equal(502);
    expect(failed.body.message).to.include('HTTP 500: overloaded');
    expect(chat.requests).to.have.length(3);
    chat.requests.length = 0;
    chat.script.length = 0;
    chat.script.push({ status: 200, body: completion('late'), delayMs: 2500 });
    const slow = await ask('ongkir surabaya berapa');
    expect(slow.status).to.equal(502);
    expect(slow.body.message).to.include('no answer within 1000 ms');
  });
});
