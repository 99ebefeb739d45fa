/** Real Socket.IO clients for realtime tests: they record everything the server sends them. */
import { io as connect, type Socket } from 'socket.io-client';

/** One domain event as it arrives: `{ event, seq, tenant_id, data }`. */
export interface WireEvent {
  event: string;
  seq: number;
  tenant_id: string;
  data: any;
}

/** A connected client and what it has received. */
export interface TestSocket {
  socket: Socket;
  /** Every domain event received (anything carrying a seq), in order. */
  events: WireEvent[];
  /** The reason of `session.ended`, once the server has said it. */
  endedReason: string | null;
  /** When the server closed the socket (ms since the epoch), or null while it is open. */
  closedAt: number | null;
  /** The domain events of one name. */
  named(event: string): WireEvent[];
  close(): void;
}

/** Connects with `auth` (`{ token, since_seq? }`) and resolves once the server's replay is done; rejects when refused. */
export async function openSocket(url: string, auth: Record<string, unknown>): Promise<TestSocket> {
  const socket = connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  const client: TestSocket = {
    socket,
    events: [],
    endedReason: null,
    closedAt: null,
    named: (event) => client.events.filter((e) => e.event === event),
    close: () => socket.close(),
  };
  socket.onAny((name: string, body: unknown) => {
    if (typeof (body as WireEvent | null)?.seq === 'number') client.events.push(body as WireEvent);
    if (name === 'session.ended') client.endedReason = (body as { reason: string }).reason;
  });
  socket.on('disconnect', () => {
    client.closedAt = Date.now();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('sync.done', () => resolve());
    socket.once('connect_error', reject);
  });
  return client;
}

/** Polls `cond` every 10 ms; fails naming `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
