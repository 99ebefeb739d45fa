/**
 * Meta's side of onboarding in the run's fake Graph API: an authorization code that exchanges
 * once for a token, a long-lived token, the user's Pages with Page tokens (and linked Instagram
 * accounts), a WhatsApp Business Account with its numbers. Every id found is granted to the token
 * it came with, so the proof of ownership of the claim passes as it does at Meta.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { expect } from 'chai';
import { fakeGraph, testServerEnv } from '../setup.js';
import type { RecordedRequest } from './fake-graph.js';
import type { TestSession } from './session.js';

/** A 17-digit Meta id: beyond 2^53, so it must stay a string end to end. */
export const metaId = () => `1${Array.from({ length: 16 }, () => randomInt(10)).join('')}`;

/** A fresh Graph token. */
export const graphToken = () => `EAAG${randomBytes(20).toString('hex')}`;

/** A fresh authorization code. */
export const authCode = () => `AQ${randomBytes(24).toString('base64url')}`;

/** Every secret the fake handed out: no API answer may ever contain one. */
export const issuedSecrets: string[] = [];

/** Every answer body `call` saw, to check that no secret ever left. */
export const answers: string[] = [];

/** Calls the API as `s`, keeping the answer's body for the secrets check. */
export async function call(s: TestSession, method: string, path: string, body?: unknown) {
  const res = await s.call(method, path, body === undefined ? {} : { body });
  answers.push(JSON.stringify(res.body));
  return res;
}

/** Fails when any answer `call` saw carries one of `secrets` (the issued ones by default). */
export function expectNoSecretsAnswered(secrets: string[] = issuedSecrets): void {
  for (const text of answers) for (const secret of secrets) expect(text, 'a secret left in an answer').not.to.include(secret);
}

/** The fake Graph's requests for `method path`. */
export const requestsTo = (method: string, path: string) => fakeGraph().requests.filter((r) => r.method === method && r.path === path);

/** Each test of the describe starts with no Graph handlers and fails on any request it did not plan. */
export function strictGraph(): void {
  beforeEach(() => fakeGraph().reset());
  afterEach(() => expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]));
}

const bearer = (req: RecordedRequest) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;

/** Graph's answer to a code that was used, expired or never issued. */
export const usedCodeError = {
  status: 400,
  body: { error: { message: 'This authorization code has been used.', type: 'OAuthException', code: 100, error_subcode: 36009, fbtrace_id: 'AcodeTrace' } },
};

const badToken = {
  status: 400,
  body: { error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: 'AtokenTrace' } },
};

/**
 * `GET /oauth/access_token`: `code` exchanges once (with the platform's app id and secret) for a
 * fresh token, which exchanges (fb_exchange_token) for a long-lived one. Answers the tokens.
 */
export function onCodeExchange(code: string, redirectUri: string | null): { shortLived: string; longLived: string } {
  const shortLived = graphToken();
  const longLived = graphToken();
  issuedSecrets.push(code, shortLived, longLived);
  let used = false;
  const env = testServerEnv();
  fakeGraph().on('GET', '/v21.0/oauth/access_token', (req) => {
    const q = req.query;
    if (q.get('client_id') !== env.META_APP_ID || q.get('client_secret') !== env.META_APP_SECRET) return badToken;
    if (q.get('grant_type') === 'fb_exchange_token') {
      return q.get('fb_exchange_token') === shortLived ? { body: { access_token: longLived, token_type: 'bearer', expires_in: 5183944 } } : badToken;
    }
    if (q.get('code') !== code || used || (q.get('redirect_uri') ?? null) !== redirectUri) return usedCodeError;
    used = true;
    return { body: { access_token: shortLived, token_type: 'bearer' } };
  });
  return { shortLived, longLived };
}

/** A Page the user manages, with its Page token and maybe a linked Instagram account. */
export interface FakePage {
  id: string;
  name: string;
  token: string;
  instagram?: { id: string; username: string; name: string };
}

/** A fresh Page (with a linked Instagram account when `instagram`). */
export function fakePage(instagram = false): FakePage {
  const page: FakePage = { id: metaId(), name: `Toko Page ${randomInt(1000)}`, token: graphToken() };
  if (instagram) page.instagram = { id: metaId(), username: `toko${randomInt(1e6)}`, name: 'Toko IG' };
  return page;
}

/**
 * Facebook Login: `code` -> token -> long-lived token, which lists `pages` at `/me/accounts`;
 * each Page's own token (and only it) subscribes the app to that Page.
 */
export function onFacebookLogin(code: string, pages: FakePage[], redirectUri: string | null): void {
  const { longLived } = onCodeExchange(code, redirectUri);
  for (const p of pages) {
    issuedSecrets.push(p.token);
    fakeGraph().grant(p.id, p.token);
    if (p.instagram) fakeGraph().grant(p.instagram.id, p.token);
    fakeGraph().on('POST', `/v21.0/${p.id}/subscribed_apps`, (req) => (bearer(req) === p.token ? { body: { success: true } } : badToken));
  }
  fakeGraph().on('GET', '/v21.0/me/accounts', (req) => {
    if (bearer(req) !== longLived) return badToken;
    return {
      body: {
        data: pages.map((p) => ({
          id: p.id,
          name: p.name,
          access_token: p.token,
          tasks: ['MESSAGING'],
          ...(p.instagram ? { instagram_business_account: p.instagram } : {}),
        })),
        paging: { cursors: { before: 'b', after: 'a' } },
      },
    };
  });
}

/** A WhatsApp Business Account with numbers. */
export interface FakeWaba {
  id: string;
  name: string;
  numbers: { id: string; display_phone_number: string; verified_name: string }[];
}

/** A fresh WABA with `n` numbers. */
export function fakeWaba(n = 1): FakeWaba {
  return {
    id: metaId(),
    name: 'Toko WABA',
    numbers: Array.from({ length: n }, (_, i) => ({ id: metaId(), display_phone_number: `+62 812-0000-${1000 + i}`, verified_name: `Toko ${i + 1}` })),
  };
}

/**
 * Embedded Signup: `code` exchanges (without redirect_uri) for a business token that reads the
 * WABA and its numbers, registers them and subscribes the app. Answers the token.
 */
export function onEmbeddedSignup(code: string, waba: FakeWaba): string {
  const { shortLived: token } = onCodeExchange(code, null);
  const g = fakeGraph();
  for (const n of waba.numbers) g.grant(n.id, token, { display_phone_number: n.display_phone_number });
  g.grant(waba.id, token, { name: waba.name });
  g.on('GET', `/v21.0/${waba.id}/phone_numbers`, (req) => (bearer(req) === token ? { body: { data: waba.numbers } } : badToken));
  g.on('POST', '/v21.0/*/register', (req) => (bearer(req) === token ? { body: { success: true } } : badToken));
  g.on('POST', `/v21.0/${waba.id}/subscribed_apps`, (req) => (bearer(req) === token ? { body: { success: true } } : badToken));
  return token;
}
