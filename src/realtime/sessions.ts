/**
 * Sockets follow their session. A socket authenticates once, at its handshake; without this it
 * would outlive a logout, a rotated token, a revoked key, a deactivated or deleted agent and a
 * suspended organization, and keep the permissions and divisions it started with. So:
 *  - the service making such a change announces it on Redis once it is durable
 *    (src/services/session-changes.ts), and every process re-authenticates the sockets it
 *    concerns with reads that start after the announcement, re-reads their divisions, leaves
 *    the conversation rooms they may no longer watch, and ends, with `session.ended { reason }`,
 *    those whose credential no longer authenticates;
 *  - a timer ends each socket when its credential expires.
 * Each socket's checks run one after another, so the last change heard is the one that stays.
 */
import type { Socket } from 'socket.io';
import { AppError } from '../errors.js';
import { NOTICES } from '../events/types.js';
import { InFlight, readMark } from '../in-flight.js';
import { logger } from '../logger.js';
import { findVisibleConversation } from '../services/conversation-access.js';
import { divisionIdsOf } from '../services/division-members.js';
import { concerns, type SessionChange } from '../services/session-changes.js';
import { authenticateToken } from '../services/tokens.js';
import type { Viewer } from './visibility.js';

/** A socket whose principal and divisions are kept in step with its credential. */
export interface FollowedSocket extends Viewer {
  socket: Socket;
  /** The credential it connected with, authenticated again on every change that concerns it. */
  token: string;
  /** Its checks so far, in order; the next one waits for them. */
  checking: Promise<void>;
  expiry: NodeJS.Timeout | null;
}

// Changes heard between a socket's handshake and its follow() are applied to it afterwards;
// this many are remembered (a socket that missed more is re-checked whatever they were).
const RECENT_CHANGES = 256;
// setTimeout's largest delay; a later expiry re-arms on the way.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Follows this process's sockets' sessions. */
export class SessionFollower {
  private heard = 0;
  /** The read mark when the last change was heard here. */
  private heardAtRead = -1;
  private readonly recent: SessionChange[] = [];
  /** Sockets with an expiry timer armed (counted by the gateway's census). */
  private readonly armed = new Set<FollowedSocket>();
  /** Division lookups in flight, shared by one user's sockets connecting or re-checked together. */
  private readonly divisionReads = new InFlight<string[]>();

  constructor(private readonly socketsOf: (tenantId: string) => Iterable<FollowedSocket>) {}

  /** Taken before a handshake authenticates: follow() then applies the changes heard since. */
  mark(): number {
    return this.heard;
  }

  /**
   * The readMark a handshake's reads must be after. A read another handshake started before
   * the last change was heard may predate the change; joining it, a socket would authenticate
   * as before the change while its mark says the change was already applied, and keep that
   * session for good.
   */
  readsAfter(): number {
    return this.heardAtRead;
  }

  /**
   * Starts following a socket authenticated after `mark`: reads its divisions and joins their
   * rooms, arms its expiry, and re-checks it if a change of its tenant was heard meanwhile.
   * Resolves once its scope is settled; a failed division read rejects.
   */
  async follow(s: FollowedSocket, mark: number): Promise<void> {
    this.armExpiry(s);
    const initial = this.scope(s, this.heardAtRead);
    s.checking = initial.catch(() => undefined);
    const missed = this.heard - mark;
    if (missed > 0) {
      const changes = missed > this.recent.length ? null : this.recent.slice(-missed);
      if (!changes || changes.some((c) => c.tenantId === s.principal.tenantId)) this.recheck(s, readMark());
    }
    await initial;
    for (let p = s.checking; ; p = s.checking) {
      await p;
      if (p === s.checking) return;
    }
  }

  /** Stops following a socket that disconnected. */
  unfollow(s: FollowedSocket): void {
    this.disarm(s);
  }

  /** How many expiry timers are armed. */
  get expiryTimers(): number {
    return this.armed.size;
  }

  /** A change announced on Redis: re-checks every socket here that it concerns. */
  hear(change: SessionChange): void {
    this.heard++;
    this.recent.push(change);
    if (this.recent.length > RECENT_CHANGES) this.recent.shift();
    // Reads that started before now may predate the change; the re-checks do not join them.
    const after = readMark();
    this.heardAtRead = after;
    for (const s of this.socketsOf(change.tenantId)) if (concerns(change, s.principal, s.divisionIds)) this.recheck(s, after);
  }

  private recheck(s: FollowedSocket, after: number): void {
    s.checking = s.checking.then(async () => {
      if (!s.socket.connected) return;
      try {
        s.principal = await authenticateToken(s.token, after);
        this.armExpiry(s);
        await this.scope(s, after);
        await this.leaveHiddenConversations(s);
      } catch (err) {
        this.fail(s, err);
      }
    });
  }

  /** Reads the socket's divisions and moves it between division rooms to match. */
  private async scope(s: FollowedSocket, after: number): Promise<void> {
    const { tenantId, userId } = s.principal;
    const ids = new Set(await this.divisionReads.run(`${tenantId}:${userId}`, () => divisionIdsOf(tenantId, userId), after));
    for (const d of s.divisionIds) if (!ids.has(d)) await s.socket.leave(`division:${d}`);
    await s.socket.join([...ids].filter((d) => !s.divisionIds.has(d)).map((d) => `division:${d}`));
    s.divisionIds = ids;
  }

  /** Leaves the `conversation:<id>` rooms (typing) of conversations the socket may no longer see. */
  private async leaveHiddenConversations(s: FollowedSocket): Promise<void> {
    for (const room of [...s.socket.rooms]) {
      if (!room.startsWith('conversation:')) continue;
      try {
        await findVisibleConversation(s.principal, room.slice('conversation:'.length));
      } catch (err) {
        if (!(err instanceof AppError && err.status === 404)) throw err;
        await s.socket.leave(room);
      }
    }
  }

  private armExpiry(s: FollowedSocket): void {
    this.disarm(s);
    const at = s.principal.expiresAt?.getTime();
    // A socket gone before it was followed must not leave a timer behind.
    if (at === undefined || !s.socket.connected) return;
    const fire = () => {
      this.disarm(s);
      if (Date.now() >= at) endSession(s, 'Token has expired');
      else this.armExpiry(s);
    };
    s.expiry = setTimeout(fire, Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    s.expiry.unref();
    this.armed.add(s);
  }

  private disarm(s: FollowedSocket): void {
    if (s.expiry) clearTimeout(s.expiry);
    s.expiry = null;
    this.armed.delete(s);
  }

  /** A refused credential ends the socket; anything else (the database away) drops its connection so the client reconnects and authenticates afresh. */
  private fail(s: FollowedSocket, err: unknown): void {
    if (err instanceof AppError && err.status === 401) {
      endSession(s, err.message);
      return;
    }
    logger.error({ err }, 're-checking a socket’s session failed; closing its connection');
    s.socket.conn.close();
  }
}

/** Tells the client why, then closes the socket for good (the client does not reconnect by itself). */
function endSession(s: FollowedSocket, reason: string): void {
  s.socket.emit(NOTICES.sessionEnded, { reason });
  s.socket.disconnect(true);
}
