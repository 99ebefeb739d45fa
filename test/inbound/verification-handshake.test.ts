/**
 * Meta's subscription handshake (issue 8): the challenge is echoed as text/plain, and only when
 * it is a plain token, so nothing a link puts in `hub.challenge` is ever served back as HTML.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { baseUrl } from '../setup.js';
import { api } from '../support/http.js';
import { createSession } from '../support/session.js';

const PATHS = ['/api/webhooks/meta', '/api/webhooks/messenger', '/api/webhooks/instagram'];

describe('GET /api/webhooks/meta (verification handshake)', () => {
  const verifyToken = `verify-${randomBytes(8).toString('hex')}`;
  before(async () => {
    const s = await createSession();
    for (const channel of ['whatsapp', 'messenger', 'instagram']) {
      const res = await s.call('PUT', `/api/integrations/${channel}`, { body: { verify_token: verifyToken } });
      expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
    }
  });
  const handshake = (path: string, challenge: string, token = verifyToken) =>
    fetch(`${baseUrl()}${path}?${new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': challenge })}`);

  it('echoes a plain challenge as text/plain; charset=utf-8', async () => {
    for (const path of PATHS) {
      const res = await handshake(path, '1158201444');
      expect(res.status, path).to.equal(200);
      expect(res.headers.get('content-type'), path).to.equal('text/plain; charset=utf-8');
      expect(await res.text(), path).to.equal('1158201444');
    }
  });

  it('answers 400 for a challenge that is not letters and digits, reflecting nothing', async () => {
    for (const challenge of ['<script>alert(1)</script>', '<svg onload=alert(1)>', 'abc def', 'a'.repeat(257), '"quoted"', '1158201444\n<b>x</b>']) {
      for (const path of PATHS) {
        const res = await handshake(path, challenge);
        const text = await res.text();
        expect(res.status, `${path} ${challenge}`).to.equal(400);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        expect(text).not.to.include('<');
        expect(text).not.to.include(challenge.slice(0, 20));
        expect(JSON.parse(text).message).to.be.a('string');
        expect(JSON.stringify(JSON.parse(text).details)).to.include('hub.challenge').and.include('letters and digits');
      }
    }
  });

  it('answers 403 for a wrong verify token, even with a plain challenge', async () => {
    const res = await handshake('/api/webhooks/meta', '12345', 'not-our-token');
    expect(res.status).to.equal(403);
    expect(await res.text()).not.to.include('12345');
  });

  it('documents the text/plain answer, the challenge pattern and 403', async () => {
    const doc = (await api('GET', '/api/openapi.json')).body;
    for (const path of PATHS) {
      const op = doc.paths[path].get;
      expect(Object.keys(op.responses['200'].content)).to.deep.equal(['text/plain']);
      expect(op.responses).to.include.keys('400', '403');
      const challenge = op.parameters.find((p: { name: string }) => p.name === 'hub.challenge');
      expect(challenge.schema.pattern).to.equal('^[A-Za-z0-9]{1,256}$');
    }
  });
});
