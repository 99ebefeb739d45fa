/**
 * The Socket.IO connection (ARCHITECTURE, realtime contract). It remembers the last `seq` it
 * handed on and resumes with it (`auth: { token, since_seq }`), so after a drop the server
 * replays exactly what was missed; an event at or below that seq is never handed on twice. A
 * client too far behind gets `sync.required`, and the console reloads its lists over REST.
 */
import { io, type Socket } from 'socket.io-client';
import { dropToken, onTokenChange, socketToken } from './session';
import type { RealtimeEvent, TypingNotice } from './types';

/** What the header shows. */
export type LinkState = 'connecting' | 'live' | 'offline';

type Handler = (e: RealtimeEvent) => void;

/** One connection per signed-in page. */
export class Realtime {
  private readonly socket: Socket;
  private lastSeq: number | null = null;
  private usedToken: string | null = null;
  private readonly handlers = new Set<Handler>();
  private readonly stateListeners = new Set<(s: LinkState) => void>();
  private readonly resyncListeners = new Set<() => void>();
  /** The conversations joined, joined again on every reconnection (a new socket has no rooms). */
  private readonly watched = new Set<string>();
  private readonly typingListeners = new Set<(n: TypingNotice) => void>();
  private retry: ReturnType<typeof setTimeout> | null = null;
  private readonly stopFollowingToken: () => void;
  state: LinkState = 'connecting';

  constructor() {
    this.socket = io({
      autoConnect: false,
      // Asked again on every (re)connection, so a resume names the last seq seen.
      auth: (cb) => {
        socketToken()
          .then((token) => {
            this.usedToken = token;
            cb(this.lastSeq === null ? { token } : { token, since_seq: this.lastSeq });
          })
          .catch(() => cb({}));
      },
    });
    this.socket.onAny((event: string, payload: unknown) => this.receive(event, payload));
    // Typing travels in a conversation's room as a notice, without seq: never replayed.
    this.socket.on('typing', (n: TypingNotice) => {
      for (const l of this.typingListeners) l(n);
    });
    this.socket.on('connect', () => {
      for (const id of this.watched) this.socket.emit('conversation.join', { conversation_id: id });
    });
    this.socket.on('sync.done', (p: { seq?: number }) => {
      if (typeof p?.seq === 'number') this.lastSeq = Math.max(this.lastSeq ?? 0, p.seq);
      this.setState('live');
    });
    this.socket.on('sync.required', (p: { head_seq?: number }) => {
      if (typeof p?.head_seq === 'number') this.lastSeq = p.head_seq;
      for (const l of this.resyncListeners) l();
    });
    // The server closes a socket whose token stopped authenticating (rotated, revoked): forget
    // it and come back with a fresh one from the cookie session.
    this.socket.on('session.ended', () => this.usedToken && dropToken(this.usedToken));
    this.socket.on('disconnect', (reason) => {
      this.setState('offline');
      if (reason === 'io server disconnect') this.reconnectSoon();
    });
    // A handshake refused by the server's middleware is not retried by the client on its own.
    this.socket.on('connect_error', (err: Error & { data?: { code?: string; retry_after?: number } }) => {
      this.setState('offline');
      if (this.socket.active) return;
      if (err.data?.code !== 'rate_limited' && this.usedToken) dropToken(this.usedToken);
      this.reconnectSoon((err.data?.retry_after ?? 2) * 1000);
    });
    this.stopFollowingToken = onTokenChange(() => {
      if (!this.socket.connected) this.reconnectSoon(0);
    });
  }

  /** Connects; `ready` runs once the server has said where the stream stands (sync.done). */
  start(): void {
    this.socket.connect();
  }

  /** Closes for good (sign-out). */
  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.stopFollowingToken();
    this.socket.disconnect();
  }

  /** Calls `handler` with every domain event, in seq order, once each. */
  subscribe(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Calls `listener` when the connection state changes. */
  onState(listener: (s: LinkState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Calls `listener` when the server says the client missed too much to replay (reload over REST). */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /** Watches one conversation (typing indicators travel in its room). */
  join(conversationId: string): void {
    this.watched.add(conversationId);
    this.socket.emit('conversation.join', { conversation_id: conversationId });
  }

  /** Calls `listener` with another watcher's typing notices. */
  onTyping(listener: (n: TypingNotice) => void): () => void {
    this.typingListeners.add(listener);
    return () => this.typingListeners.delete(listener);
  }

  /** Tells the other watchers of a joined conversation that this agent is (or stopped) typing. */
  typing(conversationId: string, isTyping: boolean): void {
    if (this.socket.connected) this.socket.emit('typing', { conversation_id: conversationId, is_typing: isTyping });
  }

  /** Stops watching one conversation. */
  leave(conversationId: string): void {
    this.watched.delete(conversationId);
    this.socket.emit('conversation.leave', { conversation_id: conversationId });
  }

  private receive(event: string, payload: unknown) {
    const e = payload as RealtimeEvent | null;
    if (!e || typeof e.seq !== 'number') return;
    if (this.lastSeq !== null && e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    for (const h of this.handlers) h({ ...e, event });
  }

  private reconnectSoon(ms = 1000) {
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.socket.connected) this.socket.connect();
    }, ms);
  }

  private setState(s: LinkState) {
    if (s === this.state) return;
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }
}
