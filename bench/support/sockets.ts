/** Opening and closing the generator's agent sockets (agent-socket.ts), and decoding their events. */
import { AgentSocket, type FrameHandler } from './agent-socket.js';

/** Re-exported for the sections, which know sockets only through this module. */
export type { FrameHandler } from './agent-socket.js';

/** Called with a decoded event. */
export type EventHandler = (name: string, payload: unknown) => void;

/** Decodes event packets for `handler`. */
export const decoded =
  (handler: EventHandler): FrameHandler =>
  (json) => {
    const [name, payload] = JSON.parse(json) as [string, unknown];
    handler(name, payload);
  };

/** One socket, connecting; `onEvent` sees its events (none are decoded without it). */
export const connectSocket = (url: string, auth: Record<string, unknown>, onEvent?: FrameHandler) => new AgentSocket(url, auth, onEvent);

/** Opens `count` sockets, 50 at a time; `handlerOf(i)` chooses which of them see their events. */
export async function openSockets(url: string, count: number, auth: (i: number) => Record<string, unknown>, handlerOf: (i: number) => FrameHandler | undefined = () => undefined): Promise<AgentSocket[]> {
  const sockets: AgentSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, (_, k) => connectSocket(url, auth(i + k), handlerOf(i + k)));
    sockets.push(...batch);
    await Promise.all(batch.map((s) => s.connected));
  }
  return sockets;
}

/** Closes every socket. */
export function closeAll(sockets: AgentSocket[]): void {
  for (const s of sockets) s.close();
}

/**
 * A socket that tries again when its connection fails before the server accepted it, as
 * socket.io-client's reconnection does (1 s, doubling up to 5 s, +-50 % jitter), so a storm
 * that overflows the server's accept queue (connections reset) costs time, not sockets.
 * `auth` is read on every try, so a retry resumes from the last seq seen.
 */
export class RetryingSocket {
  current: AgentSocket;
  retries = 0;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly auth: () => Record<string, unknown>,
    private readonly onEvent?: FrameHandler,
    private readonly maxRetries = 8,
  ) {
    this.current = this.open();
  }

  close(): void {
    this.closed = true;
    this.current.close();
  }

  private open(): AgentSocket {
    const s = connectSocket(this.url, this.auth(), this.onEvent);
    s.connected.catch(() => {
      if (this.closed || this.retries >= this.maxRetries) return;
      const delay = Math.min(5000, 1000 * 2 ** this.retries) * (0.5 + Math.random());
      this.retries++;
      setTimeout(() => {
        if (!this.closed) this.current = this.open();
      }, delay);
    });
    return s;
  }
}
