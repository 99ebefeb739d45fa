/**
 * The Socket.IO gateway. Clients connect with `auth: { token, since_seq? }` (JWT or API key);
 * they are joined to `tenant:<id>`, `agent:<id>` and `division:<id>` rooms, and receive every
 * domain event they may see as `{ event, seq, tenant_id, data }`, in seq order, exactly once.
 *
 * Delivery: each process subscribes once to every tenant's committed events on Redis and hands
 * them to its own sockets. A socket that resumes with `since_seq` first gets what it missed
 * (from a per-process cache of recent events, else the event log by `_id`), while live events
 * wait in its buffer; then the buffer drains, skipping any seq already sent. Rooms and the
 * Redis adapter carry the ephemeral traffic between processes (typing indicators in
 * `conversation:<id>` rooms, which a client joins for a conversation it may see).
 */
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import type { Principal } from '../auth/principal.js';
import { NOTICES, type DomainEvent } from '../events/types.js';
import { logger } from '../logger.js';
import { findEvent, readHead } from '../models/event.js';
import { findVisibleConversation } from '../services/conversation-access.js';
import { divisionIdsOf } from '../services/division-members.js';
import { authenticateToken } from '../services/tokens.js';
import { RecentEvents } from './recent-events.js';
import { canReceive, type Viewer } from './visibility.js';

interface Connection extends Viewer {
  socket: Socket;
  lastSeq: number;
  replaying: boolean;
  buffer: DomainEvent[];
}

/** The running gateway. */
export interface RealtimeGateway {
  io: Server;
  close(): Promise<void>;
}

const wirePayload = (e: DomainEvent) => ({ event: e.event, seq: e.seq, tenant_id: e.tenant_id, data: e.data });

/** Attaches Socket.IO to the HTTP server. */
export async function attachRealtime(server: http.Server, redisUrl: string, replayLimit: number): Promise<RealtimeGateway> {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  const events = pub.duplicate();
  const io = new Server(server, { serveClient: false, adapter: createAdapter(pub, sub) });
  const byTenant = new Map<string, Set<Connection>>();
  const recent = new RecentEvents(replayLimit);

  const send = (c: Connection, e: DomainEvent) => {
    if (e.seq <= c.lastSeq) return;
    c.lastSeq = e.seq;
    if (canReceive(c, e.audience)) c.socket.emit(e.event, wirePayload(e));
  };

  await events.psubscribe('events:*');
  events.on('pmessage', (_pattern: string, _channel: string, text: string) => {
    const e = JSON.parse(text) as DomainEvent;
    recent.add(e);
    // Live fan-out encodes the packet once for every recipient in this process (a room per
    // socket id), as a Socket.IO broadcast does, instead of once per socket.
    const recipients: string[] = [];
    for (const c of byTenant.get(e.tenant_id) ?? []) {
      if (c.replaying) c.buffer.push(e);
      else if (e.seq > c.lastSeq) {
        c.lastSeq = e.seq;
        if (canReceive(c, e.audience)) recipients.push(c.socket.id);
      }
    }
    if (recipients.length) io.local.to(recipients).emit(e.event, wirePayload(e));
  });

  io.use(async (socket, next) => {
    try {
      const token = tokenOf(socket);
      if (!token) throw new Error('Authentication required');
      socket.data.principal = await authenticateToken(token);
      next();
    } catch (err) {
      next(new Error((err as Error).message || 'Authentication failed'));
    }
  });

  io.on('connection', async (socket) => {
    const principal = socket.data.principal as Principal;
    const divisionIds = new Set(await divisionIdsOf(principal.tenantId, principal.userId));
    const conn: Connection = { socket, principal, divisionIds, lastSeq: 0, replaying: true, buffer: [] };
    const peers = byTenant.get(principal.tenantId) ?? new Set<Connection>();
    peers.add(conn);
    byTenant.set(principal.tenantId, peers);
    socket.join([`tenant:${principal.tenantId}`, `agent:${principal.userId}`, ...[...divisionIds].map((d) => `division:${d}`)]);
    socket.on('disconnect', () => {
      peers.delete(conn);
      if (peers.size === 0) byTenant.delete(principal.tenantId);
    });
    watchConversations(socket, principal);
    try {
      await catchUp(conn, sinceOf(socket), recent);
    } catch (err) {
      logger.error({ err }, 'realtime replay failed');
      socket.emit(NOTICES.syncRequired, { reason: 'replay failed' });
    }
    conn.replaying = false;
    for (const e of conn.buffer.sort((a, b) => a.seq - b.seq)) send(conn, e);
    conn.buffer = [];
    socket.emit(NOTICES.replayDone, { seq: conn.lastSeq });
  });

  async function catchUp(conn: Connection, since: number | null, cache: RecentEvents) {
    const tenantId = conn.principal.tenantId;
    // The stored head may trail the log by the appends still being recorded: the log, read by
    // `_id` until the first missing seq, is the truth.
    const head = await readHead(tenantId);
    if (since === null) {
      conn.lastSeq = await logEnd(tenantId, head, cache);
      return;
    }
    if (head - since > replayLimit) {
      conn.lastSeq = await logEnd(tenantId, head, cache);
      conn.socket.emit(NOTICES.syncRequired, { since_seq: since, head_seq: conn.lastSeq });
      return;
    }
    conn.lastSeq = since;
    for (let seq = since + 1; ; seq++) {
      const e = cache.get(tenantId, seq) ?? (await loadEvent(tenantId, seq));
      if (!e) break;
      send(conn, e);
    }
  }

  async function logEnd(tenantId: string, from: number, cache: RecentEvents): Promise<number> {
    let seq = from;
    while (cache.get(tenantId, seq + 1) ?? (await findEvent(tenantId, seq + 1))) seq++;
    return seq;
  }

  return {
    io,
    async close() {
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
function watchConversations(socket: Socket, principal: Principal) {
  const room = (id: string) => `conversation:${id}`;
  const idOf = (body: unknown) => {
    const id = (body as { conversation_id?: unknown } | null)?.conversation_id;
    return typeof id === 'string' && UUID.test(id) ? id : null;
  };
  socket.on('conversation.join', async (body: unknown, ack?: (r: unknown) => void) => {
    const id = idOf(body);
    try {
      if (!id) throw new Error('conversation_id must be a UUID');
      await findVisibleConversation(principal, id);
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
    socket.to(room(id)).emit(NOTICES.typing, { conversation_id: id, agent_id: principal.userId, name: principal.userName, is_typing: isTyping });
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function loadEvent(tenantId: string, seq: number): Promise<DomainEvent | null> {
  const stored = await findEvent(tenantId, seq);
  if (!stored) return null;
  return { event: stored.event, seq: stored.seq, tenant_id: stored.tenant_id, data: stored.data, audience: stored.audience, created_at: stored.created_at.toISOString() };
}

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
