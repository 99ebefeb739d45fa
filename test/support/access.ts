/** The access checks every protected endpoint gets: 401 without credentials, 403 without the permission. */
import { expect } from 'chai';
import { api, type ApiOptions } from './http.js';
import { userWithPermissions, type TestSession } from './session.js';

/** Adds "401 without credentials" and "403 without <permission>" tests for one endpoint. */
export function itChecksAccess(
  method: string,
  path: (s: TestSession) => string,
  permission: string | 'authenticated',
  session: () => TestSession,
  opts: Omit<ApiOptions, 'token'> = {},
): void {
  it('answers 401 without credentials', async () => {
    const res = await api(method, path(session()), opts);
    expect(res.status).to.equal(401);
    expect(res.body.code).to.equal('unauthorized');
  });
  it('answers 401 with a forged token', async () => {
    const res = await api(method, path(session()), { ...opts, token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad' });
    expect(res.status).to.equal(401);
  });
  if (permission !== 'authenticated') {
    it(`answers 403 without ${permission}`, async () => {
      const weak = await userWithPermissions(session(), []);
      const res = await weak.call(method, path(session()), opts);
      expect(res.status).to.equal(403);
      expect(res.body.code).to.equal('forbidden');
      expect(res.body.message).to.include(permission);
    });
  }
}
