/**
 * What every answer carries whatever the route: 405 with Allow for a method a known path does
 * not take, and the headers that stop a browser from reading an answer as a page.
 */
import http from 'node:http';
import { expect } from 'chai';
import { baseUrl } from '../setup.js';
import { api } from '../support/http.js';
import { createSession } from '../support/session.js';

/** A raw request with any method (fetch refuses TRACE). */
function rawRequest(method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl()}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('methods a path does not take', () => {
  it('answer 405 with Allow, also for a method no route uses (TRACE), not 501', async () => {
    for (const method of ['TRACE', 'PUT', 'DELETE']) {
      const res = await rawRequest(method, '/api/health');
      expect(res.status, method).to.equal(405);
      expect(res.headers.allow, method).to.equal('HEAD, GET, OPTIONS');
      expect(JSON.parse(res.body)).to.deep.include({ code: 'method_not_allowed' });
    }
  });

  it('list every method of a path with several routes, and answer OPTIONS with 204', async () => {
    const res = await rawRequest('OPTIONS', '/api/agents');
    expect(res.status).to.equal(204);
    expect(res.headers.allow?.split(', ').sort()).to.deep.equal(['GET', 'HEAD', 'OPTIONS', 'POST']);
    const traced = await rawRequest('TRACE', '/api/agents/0b6f0c8e-0000-4000-8000-000000000000');
    expect(traced.status).to.equal(405);
    expect(traced.headers.allow?.split(', ')).to.include.members(['GET', 'PATCH', 'DELETE']);
  });

  it('list only the literal route’s methods on a path a parameter route also matches', async () => {
    // /api/conversations/bulk is POST-only, though GET /api/conversations/{id} matches it too.
    const res = await rawRequest('OPTIONS', '/api/conversations/bulk');
    expect(res.status).to.equal(204);
    expect(res.headers.allow?.split(', ').sort()).to.deep.equal(['OPTIONS', 'POST']);
  });

  it('refuse another method on a literal path before a parameter route can take it', async () => {
    // GET /api/conversations/{id} would otherwise read "bulk" as an id and answer 400.
    const res = await rawRequest('GET', '/api/conversations/bulk');
    expect(res.status).to.equal(405);
    expect(res.headers.allow?.split(', ').sort()).to.deep.equal(['OPTIONS', 'POST']);
  });

  it('leave an unknown path a 404', async () => {
    const res = await rawRequest('TRACE', '/api/no-such-thing');
    expect(res.status).to.equal(404);
  });
});

describe('security headers', () => {
  it('are on success, client-error and not-found answers alike', async () => {
    const s = await createSession();
    const answers = [await api('GET', '/api/auth/me', { token: s.token }), await api('GET', '/api/auth/me'), await api('GET', '/api/nothing-here'), await api('POST', '/api/auth/login', { raw: '{not json' })];
    expect(answers.map((a) => a.status)).to.deep.equal([200, 401, 404, 400]);
    for (const res of answers) {
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("default-src 'none'").and.include("frame-ancestors 'none'");
      expect(csp).not.to.include('script-src');
    }
  });

  it('give the /docs page the policy Swagger UI needs: its own scripts, no inline script, no other origin', async () => {
    const page = await fetch(`${baseUrl()}/docs`);
    expect(page.status).to.equal(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("script-src 'self'").and.include("connect-src 'self'").and.include("frame-ancestors 'none'");
    expect(csp).not.to.match(/script-src[^;]*unsafe-inline/);
    expect(csp).not.to.match(/https?:/);
    // Every script the page loads is a same-origin file, so the policy lets it run.
    const html = await page.text();
    expect(html).not.to.match(/<script>(?!<\/script>)/);
    for (const [, src] of html.matchAll(/<script src="([^"]+)"/g)) expect((await fetch(`${baseUrl()}${src}`)).status, src).to.equal(200);
  });
});
