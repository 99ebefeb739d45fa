/**
 * Tenant-wide events respect permissions, live and replayed alike: contact data reaches only
 * members who may view contacts; an agent's e-mail and the rest of the agent only members who
 * may view agents (the others get the presence alone). Each client here is a real Socket.IO
 * client; replayed events reach clients resuming with since_seq from the log (a process that
 * never heard them) and from memory (one that did).
 */
import { expect } from 'chai';
import { readHead } from '../../src/models/event.js';
import { baseUrl, testServerEnv } from '../setup.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createSession, userWithPermissions, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { connectWhatsapp, startConversation } from '../support/whatsapp.js';

describe('realtime: tenant-wide events and permissions', () => {
  let admin: TestSession;
  let contactId: string;
  let second: ServerProcess;
  /** Members holding exactly these permissions. */
  let noContacts: TestSession;
  let noAgents: TestSession;
  let nothing: TestSession;

  before(async function () {
    this.timeout(30000);
    admin = await createSession();
    contactId = (await startConversation(admin, await connectWhatsapp(admin), { name: 'Budi Rahasia' })).contactId;
    noContacts = await userWithPermissions(admin, ['conversations.view', 'agents.view']);
    noAgents = await userWithPermissions(admin, ['conversations.view', 'contacts.view']);
    nothing = await userWithPermissions(admin, []);
    second = await startServerProcess(testServerEnv());
  });
  after(() => second?.kill());

  /** One contact.updated and one agent.status_changed (the admin's presence), in that order. */
  async function makeEvents(tag: string) {
    const contact = await admin.call('PATCH', `/api/contacts/${contactId}`, { body: { email: `budi.${tag}@example.test`, tags: [tag] } });
    expect(contact.status, JSON.stringify(contact.body)).to.equal(200);
    const now = (await admin.call('GET', `/api/agents/${admin.userId}`)).body.status as string;
    const status = await admin.call('PATCH', `/api/agents/${admin.userId}/status`, { body: { status: now === 'online' ? 'offline' : 'online' } });
    expect(status.status, JSON.stringify(status.body)).to.equal(200);
    return { contact: contact.body, agent: status.body };
  }

  /** What each kind of member must (not) see of the two events. */
  function expectShapes(c: { admin: TestSocket; noContacts: TestSocket; noAgents: TestSocket; nothing: TestSocket }, made: { contact: any; agent: any }) {
    expect(c.admin.named('contact.updated').map((e) => e.data)).to.deep.equal([made.contact]);
    expect(c.noAgents.named('contact.updated').map((e) => e.data)).to.deep.equal([made.contact]);
    for (const blind of [c.noContacts, c.nothing]) {
      expect(blind.named('contact.updated'), 'contact.updated without contacts.view').to.have.length(0);
      expect(JSON.stringify(blind.events)).not.to.contain('Budi');
      expect(JSON.stringify(blind.events)).not.to.contain(made.contact.email);
    }

    expect(made.agent.email, 'the agent has an e-mail to leak').to.be.a('string');
    const presence = { id: admin.userId, name: made.agent.name, status: made.agent.status, status_changed_at: made.agent.status_changed_at };
    expect(c.admin.named('agent.status_changed').map((e) => e.data)).to.deep.equal([made.agent]);
    expect(c.noContacts.named('agent.status_changed').map((e) => e.data)).to.deep.equal([made.agent]);
    for (const reduced of [c.noAgents, c.nothing]) {
      expect(reduced.named('agent.status_changed').map((e) => e.data), 'presence only without agents.view').to.deep.equal([presence]);
      expect(JSON.stringify(reduced.events)).not.to.contain(made.agent.email);
    }
  }

  const closeAll = (c: Record<string, TestSocket>) => Object.values(c).forEach((x) => x.close());

  it('live: contact data only with contacts.view, agent details only with agents.view', async () => {
    const c = {
      admin: await openSocket(baseUrl(), { token: admin.token }),
      noContacts: await openSocket(baseUrl(), { token: noContacts.token }),
      noAgents: await openSocket(second.url, { token: noAgents.token }),
      nothing: await openSocket(second.url, { token: nothing.token }),
    };
    try {
      const made = await makeEvents('live');
      // agent.status_changed comes last and reaches everyone: once it is in, so is all before it.
      await waitFor(() => Object.values(c).every((x) => x.named('agent.status_changed').length === 1), 'the presence event on every socket');
      expectShapes(c, made);
    } finally {
      closeAll(c);
    }
  });

  it('replayed with since_seq: the same, from the log and from memory', async function () {
    this.timeout(30000);
    const since = await readHead(admin.tenantId);
    const made = await makeEvents('replay');
    // A process started after the events has heard none of them: it replays from the log. The
    // test server heard them live and replays them from memory.
    const fresh = await startServerProcess(testServerEnv());
    try {
      for (const url of [fresh.url, baseUrl()]) await expectReplayed(url, since, made);
    } finally {
      fresh.kill();
    }
  });

  async function expectReplayed(url: string, since: number, made: { contact: any; agent: any }) {
    const c = {
      admin: await openSocket(url, { token: admin.token, since_seq: since }),
      noContacts: await openSocket(url, { token: noContacts.token, since_seq: since }),
      noAgents: await openSocket(url, { token: noAgents.token, since_seq: since }),
      nothing: await openSocket(url, { token: nothing.token, since_seq: since }),
    };
    try {
      expectShapes(c, made);
      // Each replayed event carries the seq it had live.
      expect(c.admin.named('contact.updated').map((e) => e.seq)).to.deep.equal([since + 1]);
      expect(c.nothing.named('agent.status_changed').map((e) => e.seq)).to.deep.equal([since + 2]);
    } finally {
      closeAll(c);
    }
  }
});
