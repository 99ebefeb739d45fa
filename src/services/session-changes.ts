/**
 * Announcements that what some credentials may do has changed: a logout, a rotated token, a
 * revoked API key, an agent deactivated, deleted, given another role, password or divisions, a
 * role's permissions edited, an organization suspended. HTTP needs none of them (every request
 * authenticates against MongoDB), but an open socket authenticated once, at its handshake; so
 * the service that makes the change, after it is durable, publishes it on Redis, and every
 * process's gateway re-authenticates and re-scopes the sockets it concerns
 * (src/realtime/sessions.ts).
 */
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { appContext } from '../context.js';
import { logger } from '../logger.js';

/** The Redis channel of session changes. */
export const SESSIONS_CHANGED = 'sessions:changed';

/**
 * Which sockets a change concerns: those of the tenant that match every field given (a tenant
 * alone concerns all of the tenant's sockets).
 */
export interface SessionChange {
  tenantId: string;
  /** These users' credentials, tokens and keys alike. */
  userIds?: string[];
  /** One session token. */
  jti?: string;
  /** One API key. */
  apiKeyId?: string;
  /** Every holder of this role. */
  roleId?: string;
  /** Every member of this division. */
  divisionId?: string;
}

// What arrives on the channel; anything else (another version's shape) is logged and skipped.
const SessionChangeBody = z.object({
  tenantId: z.string(),
  userIds: z.array(z.string()).optional(),
  jti: z.string().optional(),
  apiKeyId: z.string().optional(),
  roleId: z.string().optional(),
  divisionId: z.string().optional(),
});

/** The change a message on SESSIONS_CHANGED announces, or null when it is not one. */
export function parseSessionChange(text: string): SessionChange | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  const parsed = SessionChangeBody.safeParse(json);
  if (parsed.success) return parsed.data;
  logger.warn({ text: text.slice(0, 200) }, 'ignoring a malformed session change');
  return null;
}

/** Tells every process (this one included, through Redis) to re-check the sockets the change concerns. */
export async function announceSessionChange(change: SessionChange): Promise<void> {
  try {
    await appContext().redis.publish(SESSIONS_CHANGED, JSON.stringify(change));
  } catch (err) {
    // The change itself is durable and every request already sees it; only open sockets lag.
    logger.error({ err, change }, 'announcing a session change failed; open sockets keep their old session until they reconnect');
  }
}

/** True when the change concerns a socket of this principal and these divisions. */
export function concerns(change: SessionChange, principal: Principal, divisionIds: ReadonlySet<string>): boolean {
  return (
    change.tenantId === principal.tenantId &&
    (change.userIds === undefined || change.userIds.includes(principal.userId)) &&
    (change.jti === undefined || change.jti === principal.jti) &&
    (change.apiKeyId === undefined || change.apiKeyId === principal.apiKeyId) &&
    (change.roleId === undefined || change.roleId === principal.roleId) &&
    (change.divisionId === undefined || divisionIds.has(change.divisionId))
  );
}
