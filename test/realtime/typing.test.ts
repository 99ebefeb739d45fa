import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { baseUrl, testServerEnv } from '../setup.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { connectWhatsapp, startConversation, type StartedConversation } from '../support/whatsapp.js';

async function open(url: string, token: string): Promise<Socket> {
  const socket = connect(url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('sync.done', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

const join = (socket: Socket, conversationId: string) =>
  socket.emitWithAck('conversation.join', { conversation_id: conversationId }) as Promise<{ ok: boolean; error?: string }>;

describe('realtime: watching a conversation and typing indicators', () => {
  let s: TestSession;
  let conv: StartedConversation;
  let second: ServerProcess;
  before(async function () {
    this.timeout(30000);
    s = await createSession();
    conv = await startConversation(s, await connectWhatsapp(s));
    second = await startServerProcess(testServerEnv());
  });
  after(() => second?.kill());

  it('relays typing to the other watchers of the conversation, across processes, not to the typist', async () => {
    const supervisor = await userWithPermissions(s, ['conversations.view_all']);
    const typist = await open(baseUrl(), s.token);
    const watcher = await open(second.url, supervisor.token);
    const bystander = await open(second.url, supervisor.token);
    try {
      expect(await join(typist, conv.conversationId)).to.deep.equal({ ok: true });
      expect(await join(watcher, conv.conversationId)).to.deep.equal({ ok: true });
      const seen: unknown[] = [];
      const echoed: unknown[] = [];
      watcher.on('typing', (p: unknown) => seen.push(p));
      bystander.on('typing', (p: unknown) => seen.push(p));
      typist.on('typing', (p: unknown) => echoed.push(p));
      typist.emit('typing', { conversation_id: conv.conversationId, is_typing: true });
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).to.deep.equal([{ conversation_id: conv.conversationId, agent_id: s.userId, name: 'Admin', is_typing: true }]);
      expect(echoed).to.have.length(0);
    } finally {
      typist.close();
      watcher.close();
      bystander.close();
    }
  });

  it('refuses to join a conversation the agent may not see, or another tenant’s', async () => {
    const narrow = await userWithPermissions(s, ['agents.view']);
    const other = await createSession();
    const a = await open(baseUrl(), narrow.token);
    const b = await open(baseUrl(), other.token);
    try {
      expect((await join(a, conv.conversationId)).ok).to.equal(false);
      expect((await join(b, conv.conversationId)).ok).to.equal(false);
      expect((await join(b, 'not-a-uuid')).error).to.match(/UUID/);
      // Typing into a room one has not joined goes nowhere.
      b.emit('typing', { conversation_id: conv.conversationId, is_typing: true });
    } finally {
      a.close();
      b.close();
    }
  });
});
