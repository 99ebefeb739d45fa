/**
 * The signed-in session. REST calls carry the httpOnly cookie; the Socket.IO handshake needs the
 * token itself (`auth: { token }`), which the page keeps in memory only: from the login answer,
 * or after a reload from GET /api/auth/token (which rotates it and sets the new cookie). A tab
 * that rotates tells the others over a BroadcastChannel, so their sockets reconnect with the new
 * token instead of rotating again (each rotation revokes the token before it).
 */
import { api, ApiError } from './api';
import type { LoginAnswer, Me } from './types';

let token: string | null = null;
const listeners = new Set<(token: string) => void>();
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('omnistream.session') : null;

channel?.addEventListener('message', (e: MessageEvent<{ token?: unknown }>) => {
  if (typeof e.data.token === 'string') setToken(e.data.token, false);
});

function setToken(next: string, announce: boolean) {
  token = next;
  if (announce) channel?.postMessage({ token: next });
  for (const l of listeners) l(next);
}

/** Calls `listener` whenever the token changes (another tab rotated it). */
export function onTokenChange(listener: (token: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The token for the socket handshake, fetching a fresh one when the page has none. */
export async function socketToken(): Promise<string> {
  if (token) return token;
  const t = await api<{ token: string }>('GET', '/api/auth/token');
  setToken(t.token, true);
  return t.token;
}

/** Forgets the token the page holds (it no longer authenticates), so the next handshake fetches one. */
export function dropToken(stale: string): void {
  if (token === stale) token = null;
}

/** The signed-in profile, or null when the cookie is missing or expired. */
export async function currentSession(): Promise<Me | null> {
  try {
    return await api<Me>('GET', '/api/auth/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** What a login attempt came to. */
export type LoginResult = { ok: true; me: Me } | { ok: false; tenantRequired: boolean; message: string };

const ORGS_KEY = 'omnistream.organizations';

/** Organizations this browser signed in to before, for the tenant picker. */
export function knownOrganizations(): { slug: string; name: string }[] {
  try {
    const list: unknown = JSON.parse(localStorage.getItem(ORGS_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((o): o is { slug: string; name: string } => typeof o?.slug === 'string' && typeof o?.name === 'string') : [];
  } catch {
    return [];
  }
}

function rememberOrganization(slug: string, name: string) {
  const list = [{ slug, name }, ...knownOrganizations().filter((o) => o.slug !== slug)].slice(0, 10);
  localStorage.setItem(ORGS_KEY, JSON.stringify(list));
}

/** Signs in; `tenant` (id or slug) only when the e-mail belongs to several organizations. */
export async function signIn(email: string, password: string, tenant?: string): Promise<LoginResult> {
  try {
    const answer = await api<LoginAnswer>('POST', '/api/auth/login', { email, password, ...(tenant ? { tenant } : {}) });
    setToken(answer.token, true);
    rememberOrganization(answer.tenant.slug, answer.tenant.name);
    return { ok: true, me: { agent: answer.agent, tenant: answer.tenant, permissions: answer.permissions } };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, tenantRequired: err.code === 'tenant_required', message: err.message };
  }
}

/** Signs out (revokes the token, clears the cookie). */
export async function signOut(): Promise<void> {
  await api('POST', '/api/auth/logout').catch(() => undefined);
  token = null;
}
