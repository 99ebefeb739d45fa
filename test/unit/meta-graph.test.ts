/**
 * The Graph client every onboarding, Page and health call uses (channels/meta-graph.ts), against
 * the run's fake Graph API: a timeout per attempt, retries with backoff on network failures, 5xx
 * and 429 only, Meta's error body kept, and the token only ever in the Authorization header.
 */
import { expect } from 'chai';
import { callGraph, GraphError } from '../../channels/meta-graph.js';
import { fakeGraph } from '../setup.js';
import { requestsTo, strictGraph } from '../support/meta-login.js';

const endpoint = (over: { timeoutMs?: number; retries?: number } = {}) => ({ graphUrl: fakeGraph().url, graphVersion: 'v21.0', timeoutMs: 300, retries: 2, ...over });

async function failure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(GraphError);
    return err as GraphError;
  }
  throw new Error('expected a GraphError');
}

describe('callGraph', () => {
  strictGraph();

  it('sends the token as bearer only, the query and JSON body, and keeps long ids exact', async () => {
    fakeGraph().on('POST', '/v21.0/123/things', { raw: Buffer.from('{"id":12345678901234567890}'), headers: { 'content-type': 'application/json' } });
    const answer = await callGraph(endpoint(), { method: 'POST', path: '/123/things', token: 'EAAGsecret', query: { fields: 'id' }, body: { a: 1 } });
    expect(answer.id).to.equal('12345678901234567890');
    const [req] = requestsTo('POST', '/v21.0/123/things');
    expect(req?.headers.authorization).to.equal('Bearer EAAGsecret');
    expect(req?.query.get('fields')).to.equal('id');
    expect(req?.query.has('access_token')).to.equal(false);
    expect(req?.json).to.deep.equal({ a: 1 });
  });

  it('gives up a hanging call after its timeout, each attempt, and says it is unavailable', async () => {
    fakeGraph().on('GET', '/v21.0/slow', () => new Promise((resolve) => setTimeout(() => resolve({ body: { id: 'late' } }), 1500)));
    const started = Date.now();
    const err = await failure(callGraph(endpoint({ retries: 1 }), { path: '/slow' }));
    expect(err.kind).to.equal('unavailable');
    expect(err.httpStatus).to.equal(null);
    expect(requestsTo('GET', '/v21.0/slow')).to.have.length(2);
    expect(Date.now() - started).to.be.below(1400);
  });

  it('retries 5xx and 429 with growing waits, honouring Retry-After, then answers', async () => {
    let n = 0;
    fakeGraph().on('GET', '/v21.0/flaky', () => {
      n += 1;
      if (n === 1) return { status: 500, body: { error: { message: 'An unknown error occurred', code: 1 } } };
      if (n === 2) return { status: 429, headers: { 'retry-after': '1' }, body: {} };
      return { body: { ok: true } };
    });
    expect(await callGraph(endpoint(), { path: '/flaky' })).to.deep.equal({ ok: true });
    const [a, b, c] = requestsTo('GET', '/v21.0/flaky').map((r) => r.at);
    expect((b as number) - (a as number)).to.be.at.least(150);
    expect((c as number) - (b as number)).to.be.at.least(950);
  });

  it('does not retry a 4xx and keeps Meta’s error (message, code, subcode, fbtrace_id)', async () => {
    fakeGraph().on('GET', '/v21.0/bad', {
      status: 400,
      body: { error: { message: 'Invalid parameter', type: 'OAuthException', code: 100, error_subcode: 2018001, fbtrace_id: 'Abc' } },
    });
    const err = await failure(callGraph(endpoint(), { path: '/bad', token: 'EAAGsecret' }));
    expect(err.kind).to.equal('refused');
    expect(err.httpStatus).to.equal(400);
    expect(err.info).to.deep.equal({ message: 'Invalid parameter', type: 'OAuthException', code: 100, subcode: 2018001, fbtraceId: 'Abc', userTitle: null, userMessage: null });
    expect(err.message).not.to.include('EAAGsecret');
    expect(requestsTo('GET', '/v21.0/bad')).to.have.length(1);
  });

  it('calls a 2xx without a JSON object malformed', async () => {
    fakeGraph().on('GET', '/v21.0/html', { raw: Buffer.from('<html></html>') });
    expect((await failure(callGraph(endpoint(), { path: '/html' }))).kind).to.equal('malformed');
  });
});
