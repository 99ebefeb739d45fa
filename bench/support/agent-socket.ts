/**
 * A minimal Socket.IO client for the load generator: one TCP socket, a WebSocket handshake,
 * Engine.IO v4 / Socket.IO v5 text packets in the default namespace. The bench process holds
 * hundreds to thousands of agent sockets on a 2-core machine shared with the server under test,
 * and the official client spends tens of microseconds per received packet (framing, Engine.IO,
 * Socket.IO decoding, event emitters): at 500 sockets x a few events per message it saturated
 * the generator before the server. Here an event packet that nobody listens to costs a frame
 * header read; listened-to events are handed over as their JSON text.
 *
 * Protocols: WebSocket framing (RFC 6455), https://github.com/socketio/engine.io-protocol (v4) and
 * https://github.com/socketio/socket.io-protocol (v5). Enough for what our servers send an agent:
 * no binary packets, no acks, no compression (neither server enables permessage-deflate unless
 * the client offers it, and this one does not).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** Called with an event packet's JSON text (`["name",{...}]`). */
export type FrameHandler = (json: string) => void;

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** One agent connection. */
export class AgentSocket {
  /** Resolves once the server accepted the Socket.IO connection (its CONNECT answer). */
  readonly connected: Promise<void>;
  private readonly tcp: net.Socket;
  private pending: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private closed = false;

  constructor(baseUrl: string, auth: Record<string, unknown>, private readonly onEvent?: FrameHandler) {
    const url = new URL(baseUrl);
    this.tcp = net.connect(Number(url.port), url.hostname);
    this.tcp.setNoDelay(true);
    let accept: () => void = () => undefined;
    let refuse: (err: Error) => void = () => undefined;
    this.connected = new Promise<void>((resolve, reject) => {
      accept = resolve;
      refuse = reject;
    });
    this.connected.catch(() => undefined); // a caller that never waits must not crash the process
    this.tcp.on('connect', () => {
      this.tcp.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.tcp.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      if (!this.upgraded && !this.readHandshake(refuse)) return;
      this.readFrames((text) => this.onPacket(text, auth, accept, refuse));
    });
    this.tcp.on('error', (err) => refuse(err));
    this.tcp.on('close', () => {
      this.closed = true;
      refuse(new Error('connection closed before the Socket.IO connect'));
    });
  }

  /** Leaves like a client does: Socket.IO DISCONNECT, WebSocket close, end of the TCP stream. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.send(OP_TEXT, '41');
    this.send(OP_CLOSE, Buffer.from([0x03, 0xe8])); // 1000, normal closure
    this.tcp.end();
  }

  private readHandshake(refuse: (err: Error) => void): boolean {
    const end = this.pending.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const head = this.pending.subarray(0, end).toString('latin1');
    if (!head.startsWith('HTTP/1.1 101')) {
      refuse(new Error(`WebSocket upgrade refused: ${head.split('\r\n')[0]}`));
      this.tcp.destroy();
      return false;
    }
    this.upgraded = true;
    this.pending = this.pending.subarray(end + 4);
    return true;
  }

  /** Consumes every complete frame in the buffer; text frames go to `onText`. */
  private readFrames(onText: (text: string) => void): void {
    let offset = 0;
    const buf = this.pending;
    while (buf.length - offset >= 2) {
      const opcode = (buf[offset] as number) & 0x0f;
      let length = (buf[offset + 1] as number) & 0x7f;
      let header = 2;
      if (length === 126) {
        if (buf.length - offset < 4) break;
        length = buf.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (buf.length - offset < 10) break;
        length = Number(buf.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (buf.length - offset < header + length) break;
      const start = offset + header;
      offset = start + length;
      if (opcode === OP_TEXT) this.onText(buf, start, length, onText);
      else if (opcode === OP_PING) this.send(OP_PONG, buf.subarray(start, start + length));
      else if (opcode === OP_CLOSE) this.tcp.end();
    }
    this.pending = offset === buf.length ? Buffer.alloc(0) : buf.subarray(offset);
  }

  private onText(buf: Buffer, start: number, length: number, onText: (text: string) => void): void {
    // An event nobody listens to ("42[...]") is skipped without decoding it.
    if (!this.onEvent && length > 2 && buf[start] === 0x34 && buf[start + 1] === 0x32) return;
    onText(buf.toString('utf8', start, start + length));
  }

  private onPacket(text: string, auth: Record<string, unknown>, accept: () => void, refuse: (err: Error) => void): void {
    switch (text[0]) {
      case '0': // Engine.IO open: join the default namespace with our credentials
        this.send(OP_TEXT, `40${JSON.stringify(auth)}`);
        return;
      case '2': // Engine.IO ping
        this.send(OP_TEXT, '3');
        return;
      case '4':
        if (text[1] === '0') accept();
        else if (text[1] === '4') refuse(new Error(`Socket.IO connect refused: ${text.slice(2)}`));
        else if (text[1] === '2') this.onEvent?.(text.slice(2));
        return;
    }
  }

  /** Writes one masked frame (RFC 6455 requires clients to mask). */
  private send(opcode: number, payload: string | Buffer): void {
    if (this.tcp.destroyed || !this.tcp.writable) return;
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const lengthBytes = data.length < 126 ? 0 : data.length < 65536 ? 2 : 8;
    const frame = Buffer.alloc(2 + lengthBytes + 4 + data.length);
    frame[0] = 0x80 | opcode;
    if (lengthBytes === 0) frame[1] = 0x80 | data.length;
    else if (lengthBytes === 2) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(data.length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(data.length), 2);
    }
    const mask = randomBytes(4);
    mask.copy(frame, 2 + lengthBytes);
    const body = 2 + lengthBytes + 4;
    for (let i = 0; i < data.length; i++) frame[body + i] = (data[i] as number) ^ (mask[i & 3] as number);
    this.tcp.write(frame);
  }
}
