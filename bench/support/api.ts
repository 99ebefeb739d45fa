/** The REST calls the benchmark makes, and the one tenant it sets up through them. */
import { randomBytes } from 'node:crypto';

/** Calls the API with JSON; throws on an answer of 300 or more (a 204 answers undefined). */
export async function call<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The benchmark's tenant: its admin's token and its connected WhatsApp number. */
export interface BenchTenant {
  token: string;
  tenantId: string;
  /** The organization's slug (the widget's data-tenant). */
  slug: string;
  /** Its admin's sign-in (the console). */
  email: string;
  password: string;
  phoneNumberId: string;
}

/**
 * Registers a tenant, enables WhatsApp (signed with the app-wide META_APP_SECRET) and connects
 * one phone number: everything through the public API, as a customer would. Connecting proves
 * ownership with the Graph API, so `grant` tells the fake Graph API that the token controls the number.
 */
export async function setUpTenant(baseUrl: string, grant: (id: string, token: string) => void): Promise<BenchTenant> {
  const email = `bench-${Date.now()}-${randomBytes(3).toString('hex')}@example.test`;
  const password = 'bench-password';
  const session = await call<{ token: string; tenant: { id: string; slug: string } }>(baseUrl, 'POST', '/api/auth/register', { organization_name: 'Bench Co', name: 'Bench Admin', email, password });
  const phoneNumberId = `1${Date.now()}`;
  await call(baseUrl, 'PUT', '/api/integrations/whatsapp', {}, session.token);
  const accessToken = `EAAG${randomBytes(20).toString('hex')}`;
  grant(phoneNumberId, accessToken);
  await call(baseUrl, 'POST', '/api/integration-accounts', { channel: 'whatsapp', external_id: phoneNumberId, name: 'Bench line', access_token: accessToken }, session.token);
  return { token: session.token, tenantId: session.tenant.id, slug: session.tenant.slug, email, password, phoneNumberId };
}

/** One POST: its HTTP status and how long the answer took. */
export interface Answer {
  status: number;
  ms: number;
}

/** POSTs JSON bytes and times the whole answer (status line to last byte). */
export async function timedPost(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const t = performance.now();
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t };
}
