/**
 * The Socket.IO gateway. Clients connect with `auth: { token, since_seq? }` (JWT or API key);
 * they are joined to `tenant:<id>`, `agent:<id>` and `division:<id>` rooms, and receive every
 * domain event they may see as `{ event, seq, tenant_id, data }`, in seq order, exactly once.
 *
 * Delivery: each process subscribes once to every tenant's committed events on Redis; a
 * TenantStream per tenant puts them in seq order (filling gaps from the log) and hands each to
 * this process's sockets of that tenant, one encoded packet for all its recipients. A socket that
 * resumes with `since_seq` first gets what it missed — from the recent events this process
 * keeps, else one indexed range read of the log shared by every socket resuming from the same
 * seq — while live events wait in its buffer; then the buffer drains, skipping seqs already sent.
 * Rooms and the Redis adapter carry the ephemeral traffic between processes (typing indicators
 * in `conversation:<id>` rooms, which a client joins for a conversation it may see).
 *
 * What each socket may see follows its session as it changes (src/realtime/sessions.ts): the
 * gateway hears session changes on Redis and re-checks the sockets they concern.
 */
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import type { Principal } from '../auth/principal.js';
import { appContext } from '../context.js';
import { RateLimitedError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { NOTICES, type DomainEvent } from '../events/types.js';
import { InFlight } from '../in-flight.js';
import { logger } from '../logger.js';
import { readEventsAfter, readHead } from '../models/event.js';
import { findVisibleConversation } from '../services/conversation-access.js';
import { consumeLimit } from '../services/rate-limits.js';
import { parseSessionChange, SESSIONS_CHANGED } from '../services/session-changes.js';
import { authenticateToken } from '../services/tokens.js';
import { RecentEvents } from './recent-events.js';
import { SessionFollower, type FollowedSocket } from './sessions.js';
import { TenantStream } from './tenant-stream.js';
import { dataFor, viewOf, type View, type Viewer } from './visibility.js';

interface Connection extends FollowedSocket {
  lastSeq: number;
  replaying: boolean;
  buffer: DomainEvent[];
}

/** This process's sockets of one tenant and the ordered stream of its events. */
interface TenantRoom {
  connections: Set<Connection>;
  stream: TenantStream;
  /** The log's end when the first of these sockets connected, read once for all of them; the stream starts there. */
  head: Promise<number> | null;
}

/** What this process holds for sockets right now: every count falls back when sockets leave. */
export interface GatewayCensus {
  /** Handshakes whose middleware (authentication) is running. */
  authenticating: number;
  /** Connected sockets whose scope and replay are still being set up. */
  settingUp: number;
  /** Engine.IO connections open (one under each Socket.IO client). */
  engineConnections: number;
  /** Connected Socket.IO sockets. */
  sockets: number;
  /** Sockets whose session is followed and events delivered (every tenant's). */
  followed: number;
  /** Tenants with an event stream in this process. */
  tenantStreams: number;
  /** Armed credential-expiry timers. */
  expiryTimers: number;
  /** Socket ids that are members of any room. */
  roomMembers: number;
}

/** The running gateway. */
export interface RealtimeGateway {
  io: Server;
  /** Counts of what the gateway holds, for checks that nothing outlives its socket. */
  census(): GatewayCensus;
  close(): Promise<void>;
}

const wirePayload = (e: DomainEvent, view: View) => ({ event: e.event, seq: e.seq, tenant_id: e.tenant_id, data: dataFor(e, view) });

/** Attaches Socket.IO to the HTTP server. */
export async function attachRealtime(server: http.Server, redisUrl: string, replayLimit: number, bus: EventBus): Promise<RealtimeGateway> {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  const events = pub.duplicate();
  const io = new Server(server, { serveClient: false, adapter: createAdapter(pub, sub) });
  const rooms = new Map<string, TenantRoom>();
  const recent = new RecentEvents(replayLimit);
  /** Log reads in flight, by tenant and the seq they start after, shared by sockets resuming together. */
  const replays = new InFlight<DomainEvent[]>();
  const sessions = new SessionFollower((tenantId) => rooms.get(tenantId)?.connections ?? []);
  let authenticating = 0;
  let settingUp = 0;

  const send = (c: Connection, e: DomainEvent) => {
    if (e.seq <= c.lastSeq) return;
    c.lastSeq = e.seq;
    const view = viewOf(c, e.audience);
    if (view) c.socket.emit(e.event, wirePayload(e, view));
  };

  // Live fan-out encodes the packet once for every recipient of each shape in this process (a
  // room per socket id), as a Socket.IO broadcast does, instead of once per socket.
  const fanOut = (room: TenantRoom, e: DomainEvent) => {
    const recipients: Record<View, string[]> = { full: [], reduced: [] };
    for (const c of room.connections) {
      if (c.replaying) c.buffer.push(e);
      else if (e.seq > c.lastSeq) {
        c.lastSeq = e.seq;
        const view = viewOf(c, e.audience);
        if (view) recipients[view].push(c.socket.id);
      }
    }
    for (const view of ['full', 'reduced'] as const) {
      if (recipients[view].length) io.local.to(recipients[view]).emit(e.event, wirePayload(e, view));
    }
  };

  // The fan-out is the bus's first listener: every event heard is remembered for replays and
  // handed to its tenant's stream here, which orders it for this process's sockets.
  const stopListening = bus.on({
    name: 'realtime',
    runs: 'every-process',
    events: 'all',
    handle: (e) => {
      recent.add(e);
      rooms.get(e.tenant_id)?.stream.push([e]);
    },
  });
  await events.subscribe(SESSIONS_CHANGED);
  events.on('message', (channel: string, text: string) => {
    const change = channel === SESSIONS_CHANGED ? parseSessionChange(text) : null;
    if (change) sessions.hear(change);
  });

  const roomOf = (tenantId: string): TenantRoom => {
    let room = rooms.get(tenantId);
    if (!room) {
      const created: TenantRoom = { connections: new Set(), stream: new TenantStream(tenantId, (e) => fanOut(created, e)), head: null };
      rooms.set(tenantId, created);
      room = created;
    }
    return room;
  };

  io.use(async (socket, next) => {
    authenticating++;
    try {
      await consumeLimit('socketIp', clientAddressOf(socket));
      const token = tokenOf(socket);
      if (!token) throw new Error('Authentication required');
      // Before authenticating: a session change heard from here on may not be in what it reads;
      // one heard before is, as long as it joins no read that started before it was heard.
      socket.data.sessionMark = sessions.mark();
      socket.data.principal = await authenticateToken(token, sessions.readsAfter());
      next();
    } catch (err) {
      next(handshakeError(err));
    } finally {
      authenticating--;
    }
  });

  io.on('connection', async (socket) => {
    const principal = socket.data.principal as Principal;
    const room = roomOf(principal.tenantId);
    const conn: Connection = {
      socket,
      // Read from the handshake again, not kept in socket.data, which the adapter shares across processes.
      token: tokenOf(socket) ?? '',
      principal,
      divisionIds: new Set(),
      checking: Promise.resolve(),
      expiry: null,
      lastSeq: 0,
      replaying: true,
      buffer: [],
    };
    // In the room before anything is read: every event handed on from now is buffered, and
    // every session change heard from now on finds it.
    room.connections.add(conn);
    socket.on('disconnect', () => {
      sessions.unfollow(conn);
      room.connections.delete(conn);
      if (room.connections.size === 0 && rooms.get(principal.tenantId) === room) {
        room.stream.close();
        rooms.delete(principal.tenantId);
      }
    });
    watchConversations(conn);
    settingUp++;
    try {
      await socket.join([`tenant:${principal.tenantId}`, `agent:${principal.userId}`]);
      await sessions.follow(conn, socket.data.sessionMark as number);
      await catchUp(conn, room, sinceOf(socket));
    } catch (err) {
      logger.error({ err }, 'realtime replay failed');
      socket.emit(NOTICES.syncRequired, { reason: 'replay failed' });
    } finally {
      settingUp--;
    }
    conn.replaying = false;
    for (const e of conn.buffer.sort((a, b) => a.seq - b.seq)) send(conn, e);
    conn.buffer = [];
    socket.emit(NOTICES.replayDone, { seq: conn.lastSeq });
  });

  /**
   * Starts the room's stream at the log's end, read once for all its sockets; every socket waits
   * for it before reading what it missed, so the stream never starts past what they read.
   */
  const startStream = (room: TenantRoom, tenantId: string): Promise<number> =>
    (room.head ??= readHead(tenantId).then(
      (head) => {
        room.stream.start(head);
        return head;
      },
      (err: unknown) => {
        room.head = null;
        room.stream.startWithoutHead();
        throw err;
      },
    ));

  async function catchUp(conn: Connection, room: TenantRoom, since: number | null) {
    const tenantId = conn.principal.tenantId;
    const head = await startStream(room, tenantId);
    if (since === null) {
      // A fresh client starts at the present: what this process has handed on (later events
      // reach it live, buffered while it is set up). An event handed on while it was being set
      // up came after the client connected.
      const firstBuffered = Math.min(...conn.buffer.map((e) => e.seq));
      conn.lastSeq = Math.min(room.stream.position ?? head, firstBuffered - 1);
      return;
    }
    conn.lastSeq = since;
    const missed = await missedSince(tenantId, since, room.stream.position);
    if (missed.length > replayLimit) {
      const head = Math.max(room.stream.position ?? 0, missed[missed.length - 1]?.seq ?? since);
      conn.lastSeq = head;
      conn.socket.emit(NOTICES.syncRequired, { since_seq: since, head_seq: head });
      return;
    }
    for (const e of missed) send(conn, e);
  }

  /**
   * Every event after `since` up to replayLimit + 1 of them (one more tells "too far behind"):
   * from memory when this process has them all, else from one log read shared by every socket
   * resuming from the same seq at the same time.
   */
  async function missedSince(tenantId: string, since: number, position: number | null): Promise<DomainEvent[]> {
    const cached = position === null || position - since > replayLimit ? null : recent.range(tenantId, since, position);
    if (cached) return cached;
    const events = await replays.run(`${tenantId}:${since}`, () => readEventsAfter(tenantId, since, replayLimit + 1));
    for (const e of events) recent.add(e);
    return events;
  }

  return {
    io,
    census() {
      const nsp = io.of('/');
      let followed = 0;
      for (const room of rooms.values()) followed += room.connections.size;
      return {
        authenticating,
        settingUp,
        engineConnections: io.engine.clientsCount,
        sockets: nsp.sockets.size,
        followed,
        tenantStreams: rooms.size,
        expiryTimers: sessions.expiryTimers,
        roomMembers: nsp.adapter.sids.size,
      };
    },
    async close() {
      stopListening();
      for (const room of rooms.values()) room.stream.close();
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      events.disconnect();
      pub.disconnect();
      sub.disconnect();
    },
  };
}

/**
 * `conversation.join` / `conversation.leave` with `{ conversation_id }` (acknowledged with
 * `{ ok }` or `{ ok: false, error }`), and `typing` with `{ conversation_id, is_typing }`,
 * relayed to the conversation's other watchers on every process through the Redis adapter.
 */
function watchConversations(conn: Viewer & { socket: Socket }) {
  const { socket } = conn;
  const room = (id: string) => `conversation:${id}`;
  const idOf = (body: unknown) => {
    const id = (body as { conversation_id?: unknown } | null)?.conversation_id;
    return typeof id === 'string' && UUID.test(id) ? id : null;
  };
  socket.on('conversation.join', async (body: unknown, ack?: (r: unknown) => void) => {
    const id = idOf(body);
    try {
      if (!id) throw new Error('conversation_id must be a UUID');
      await findVisibleConversation(conn.principal, id);
      await socket.join(room(id));
      ack?.({ ok: true });
    } catch (err) {
      ack?.({ ok: false, error: (err as Error).message });
    }
  });
  socket.on('conversation.leave', async (body: unknown, ack?: (r: unknown) => void) => {
    const id = idOf(body);
    if (id) await socket.leave(room(id));
    ack?.({ ok: Boolean(id) });
  });
  socket.on(NOTICES.typing, (body: unknown) => {
    const id = idOf(body);
    if (!id || !socket.rooms.has(room(id))) return;
    const isTyping = (body as { is_typing?: unknown }).is_typing === true;
    socket.to(room(id)).emit(NOTICES.typing, { conversation_id: id, agent_id: conn.principal.userId, name: conn.principal.userName, is_typing: isTyping });
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function tokenOf(socket: Socket): string | null {
  const auth = socket.handshake.auth as { token?: unknown };
  if (typeof auth.token === 'string' && auth.token) return auth.token;
  const header = socket.handshake.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1] ?? null;
}

function sinceOf(socket: Socket): number | null {
  const since = (socket.handshake.auth as { since_seq?: unknown }).since_seq;
  const n = typeof since === 'string' ? Number(since) : since;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** The client's address as HTTP requests see it: with TRUST_PROXY_HOPS, the entry our proxies appended to X-Forwarded-For. */
export function clientAddressOf(socket: Socket): string {
  const hops = appContext().config.trustProxyHops;
  const header = hops > 0 ? socket.handshake.headers['x-forwarded-for'] : undefined;
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((a) => a.trim()).filter(Boolean);
  // Koa's rule (ctx.ip): the first of the last `hops` entries.
  return (hops > 0 ? entries.slice(-hops)[0] : undefined) ?? socket.handshake.address;
}

/** The connect_error a refused handshake gets: its message, and for a used-up limit when to retry (`data`). */
function handshakeError(err: unknown): Error {
  const refused: Error & { data?: unknown } = new Error((err as Error).message || 'Authentication failed');
  if (err instanceof RateLimitedError) refused.data = { code: err.code, retry_after: err.retryAfterSeconds };
  return refused;
}
