/** A signed-in platform operator (super admin) for tests of the operator's realm. */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createSuperAdminAccount } from '../../src/services/super-admins.js';
import { api, type ApiOptions } from './http.js';

/** A signed-in super admin. */
export interface Operator {
  id: string;
  email: string;
  password: string;
  token: string;
  call<T = any>(method: string, path: string, opts?: ApiOptions): ReturnType<typeof api<T>>;
}

/** Creates a super-admin account (as the command line does) and signs it in over HTTP. */
export async function createOperator(): Promise<Operator> {
  const unique = randomBytes(4).toString('hex');
  const email = `ops-${unique}@platform.test`;
  const password = 'operator-pass-1';
  const admin = await createSuperAdminAccount({ actor: null, name: `Ops ${unique}`, email, password });
  const res = await api('POST', '/api/super-admin/login', { body: { email, password } });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  const token = res.body.token as string;
  return { id: admin._id, email, password, token, call: (method, path, opts = {}) => api(method, path, { token, ...opts }) };
}
