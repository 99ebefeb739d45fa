/**
 * The REST client: same-origin calls with the session cookie, JSON in and out, and errors as
 * the API renders them (`{ message, code }`, ARCHITECTURE invariant 2).
 */

/** An answer that was not 2xx. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when an answer says the session is gone (401), so the app can show the login again. */
let onUnauthorized: () => void = () => {};

/** Sets what a 401 does. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

/** Calls the API; `body` is sent as JSON. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = (parsed ?? {}) as { message?: string; code?: string };
    // A failed login or profile check is answered by its caller (the profile check is what the handler asks).
    if (res.status === 401 && path !== '/api/auth/login' && path !== '/api/auth/me') onUnauthorized();
    throw new ApiError(res.status, err.code ?? 'error', err.message ?? res.statusText);
  }
  return parsed as T;
}

/** A query string from the defined values of `params`. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
