/**
 * The agent console's working tools in Chromium (issue 10, "Agent console"): inbox filters by
 * division, channel and tag; transfer and takeover reaching the other agent live; the contact
 * panel; quick replies with `/shortcut`; presence and working hours in the header; the typing
 * indicator; the WhatsApp 24-hour window; the supervisor view. An admin works in one browser
 * context and an agent in another, both in English; every wait is on what the page shows.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { baseUrl, fakeGraph } from '../setup.js';
import { launchChromium, signInToConsole } from '../support/browser.js';
import { createAgent, createSession, type SignIn, type TestSession } from '../support/session.js';
import { playMetaTemplates } from '../support/meta-templates.js';
import { acceptSends, connectWhatsapp, digits, postSigned, startConversation, textWebhook, until, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

const screenshots = process.env.UPDATE_SCREENSHOTS === '1';

/** A 1×1 PNG. */
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAfbLI3wAAAABJRU5ErkJggg==', 'base64');

describe('the agent console tools in Chromium', function () {
  this.timeout(60000);
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let adminPage: Page;
  let agentPage: Page;
  let admin: TestSession;
  let wa: WhatsappAccount;
  let agent: SignIn;
  let division: { id: string; name: string };
  let siti: StartedConversation;
  let andi: StartedConversation;
  const pageErrors: string[] = [];

  const list = (p: Page) => p.getByTestId('conversation-list');
  const row = (p: Page, name: string) => list(p).locator('button', { hasText: name });
  const rows = (p: Page) => list(p).locator('button[data-conversation-id]');
  const open = async (p: Page, name: string) => {
    await row(p, name).click();
    await p.getByTestId('conversation').locator('h2', { hasText: name }).waitFor();
  };

  /** A signed-in page in its own browser context, in English. */
  const signIn = async (email: string, password: string) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    contexts.push(context);
    await context.addInitScript(() => localStorage.setItem('omnistream.lang', 'en'));
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    await signInToConsole(page, baseUrl(), email, password);
    return page;
  };

  before(async () => {
    browser = await launchChromium();
    admin = await createSession({ organization_name: 'Toko Alat Tulis' });
    wa = await connectWhatsapp(admin);
    const made = await admin.call('POST', '/api/divisions', { body: { name: 'Penagihan' } });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    division = made.body;
    agent = await createAgent(admin, 'Dewi Lestari');
    siti = await startConversation(admin, wa, { name: 'Siti Rahma', text: 'Halo, pesanan saya belum sampai' });
    andi = await startConversation(admin, wa, { name: 'Andi Wijaya', text: 'Tagihan saya salah' });
    expect((await admin.call('PATCH', `/api/conversations/${siti.conversationId}/tags`, { body: { add: ['vip'] } })).status).to.equal(200);
    const moved = await admin.call('POST', `/api/conversations/${andi.conversationId}/transfer`, { body: { to_division_id: division.id, reason: 'Soal tagihan' } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
  });

  after(async () => {
    await browser?.close();
  });

  beforeEach(() => {
    fakeGraph().reset();
    acceptSends(wa);
  });
  afterEach(() => {
    expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    expect(pageErrors.splice(0)).to.deep.equal([]);
  });

  it('filters the inbox by tag, division and channel', async () => {
    adminPage = await signIn(admin.email, admin.password);
    await row(adminPage, 'Siti Rahma').waitFor();
    await row(adminPage, 'Andi Wijaya').waitFor();

    await adminPage.getByLabel('Tag', { exact: true }).selectOption('vip');
    // A new filter empties the list until its first page came: the row that stays is from that page.
    await row(adminPage, 'Andi Wijaya').waitFor({ state: 'detached' });
    await row(adminPage, 'Siti Rahma').waitFor();
    expect(await rows(adminPage).count()).to.equal(1);
    await adminPage.getByLabel('Tag', { exact: true }).selectOption('');

    await adminPage.getByLabel('Division', { exact: true }).selectOption(division.id);
    await row(adminPage, 'Siti Rahma').waitFor({ state: 'detached' });
    await row(adminPage, 'Andi Wijaya').waitFor();
    await adminPage.getByLabel('Division', { exact: true }).selectOption('none');
    await row(adminPage, 'Andi Wijaya').waitFor({ state: 'detached' });
    await row(adminPage, 'Siti Rahma').waitFor();
    await adminPage.getByLabel('Division', { exact: true }).selectOption('');

    await adminPage.getByLabel('Channel', { exact: true }).selectOption('email');
    await list(adminPage).locator('.empty').waitFor();
    expect(await rows(adminPage).count()).to.equal(0);
    await adminPage.getByLabel('Channel', { exact: true }).selectOption('whatsapp');
    await row(adminPage, 'Siti Rahma').waitFor();
    await row(adminPage, 'Andi Wijaya').waitFor();
    // The transfer made before the page opened is in the thread, from the transfer history.
    await open(adminPage, 'Andi Wijaya');
    await adminPage.getByTestId('division').filter({ hasText: 'Penagihan' }).waitFor();
    await adminPage.getByTestId('thread-event').filter({ hasText: 'Transferred to Penagihan · you: Soal tagihan' }).waitFor();
  });

  it("takes over an agent's conversation and transfers it back, both shown live in the agent's view", async () => {
    expect((await admin.call('PATCH', `/api/conversations/${siti.conversationId}/assign`, { body: { agent_id: agent.id } })).status).to.equal(200);
    agentPage = await signIn(agent.email, agent.password);
    await open(agentPage, 'Siti Rahma');
    await agentPage.getByTestId('assignee').and(agentPage.locator(':text("you")')).waitFor();

    await open(adminPage, 'Siti Rahma');
    await adminPage.getByRole('button', { name: 'Take over' }).click();
    await adminPage.getByTestId('assignee').and(adminPage.locator(':text("you")')).waitFor();
    await agentPage.getByTestId('thread-event').filter({ hasText: 'Taken over by Admin' }).waitFor();
    await agentPage.getByTestId('assignee').and(agentPage.locator(':text("Admin")')).waitFor();

    await adminPage.getByRole('button', { name: 'Transfer', exact: true }).click();
    await adminPage.getByLabel('Transfer to…').selectOption(`agent:${agent.id}`);
    await adminPage.getByLabel('Reason').fill('Pelanggan minta Dewi');
    await adminPage.locator('.transfer-form button[type=submit]').click();
    await adminPage.getByTestId('assignee').and(adminPage.locator(':text("Dewi Lestari")')).waitFor();
    await agentPage.getByTestId('thread-event').filter({ hasText: 'Transferred to you · Admin: Pelanggan minta Dewi' }).waitFor();
    await agentPage.getByTestId('assignee').and(agentPage.locator(':text("you")')).waitFor();
    const history = await admin.call('GET', `/api/conversations/${siti.conversationId}/transfers`);
    expect((history.body.data as { reason: string }[]).map((t) => t.reason)).to.include('Pelanggan minta Dewi');
  });

  it('shows the contact beside the thread and saves a new name', async () => {
    const panel = adminPage.getByTestId('contact-panel');
    await panel.getByTestId('contact-phone').and(adminPage.locator(`:text("+${siti.from}")`)).waitFor();
    await panel.getByTestId('contact-identity').filter({ hasText: `whatsapp · ${siti.from}` }).waitFor();
    await panel.locator('.tag', { hasText: '#vip' }).waitFor();
    await panel.getByLabel('Contact name').fill('Siti Rahmawati');
    await panel.getByRole('button', { name: 'Save' }).click();
    await adminPage.getByTestId('conversation').locator('h2', { hasText: 'Siti Rahmawati' }).waitFor();
    await list(adminPage).locator(`button[data-conversation-id="${siti.conversationId}"] strong`, { hasText: 'Siti Rahmawati' }).waitFor();
    const contact = await admin.call('GET', `/api/contacts/${siti.contactId}`);
    expect(contact.body.name).to.equal('Siti Rahmawati');
  });

  it('offers quick replies for /shortcut and inserts the chosen one with the contact name', async () => {
    const made = await admin.call('POST', '/api/quick-replies', { body: { shortcut: 'salam', title: 'Salam pembuka', content: 'Halo {{contact.name}}, ada yang bisa kami bantu?' } });
    expect(made.status, JSON.stringify(made.body)).to.equal(201);
    await admin.call('POST', '/api/quick-replies', { body: { shortcut: 'tutup', title: 'Penutup', content: 'Terima kasih!' } });
    const box = adminPage.getByRole('textbox', { name: 'Reply' });
    await box.fill('/sal');
    const options = adminPage.getByRole('listbox', { name: 'Quick replies' }).getByRole('option');
    await options.filter({ hasText: '/salam' }).waitFor();
    expect(await options.filter({ hasText: '/tutup' }).count()).to.equal(0);
    await options.filter({ hasText: '/salam' }).click();
    // Filled by the server (POST /api/quick-replies/{id}/use renders it for this conversation).
    const filled = 'Halo Siti Rahmawati, ada yang bisa kami bantu?';
    await adminPage.waitForFunction((text) => document.querySelector<HTMLTextAreaElement>('.composer textarea')?.value === text, filled);
    expect(await box.inputValue()).to.equal(filled);
    const listed = await admin.call('GET', '/api/quick-replies?q=salam');
    expect((listed.body.data as { id: string; usage_count: number }[]).find((r) => r.id === made.body.id)?.usage_count).to.equal(1);
    await adminPage.getByRole('listbox', { name: 'Quick replies' }).waitFor({ state: 'detached' });
  });

  it('shows the other agent typing while a reply is composed, until it is sent', async () => {
    // The admin's quick reply is in the box; typing more tells the agent watching the conversation.
    await adminPage.getByRole('textbox', { name: 'Reply' }).pressSequentially(' Salam.');
    await agentPage.getByTestId('typing').filter({ hasText: 'Admin is typing…' }).waitFor();
    await adminPage.locator('.composer button[type=submit]').click();
    await agentPage.getByTestId('thread').locator('.bubble.outbound', { hasText: 'Halo Siti Rahmawati, ada yang bisa kami bantu? Salam.' }).waitFor();
    await agentPage.getByTestId('typing').waitFor({ state: 'detached' });
  });

  it('toggles the agent online and offline and shows the working-hours state', async () => {
    const presence = adminPage.getByTestId('presence');
    const before = await presence.getAttribute('data-status');
    const next = before === 'online' ? 'offline' : 'online';
    await presence.click();
    await adminPage.locator(`[data-testid=presence][data-status=${next}]`).waitFor();
    expect((await admin.call('GET', `/api/agents/${admin.userId}`)).body.status).to.equal(next);
    const hours = await admin.call('GET', '/api/working-hours/status');
    await adminPage.locator(`[data-testid=working-hours][data-open=${String(hours.body.is_working_hours)}]`).waitFor();
    expect(await adminPage.getByTestId('working-hours').textContent()).to.match(hours.body.is_working_hours ? /^Within working hours/ : /^Outside working hours/);
  });

  it('says the WhatsApp window is closed when the customer last wrote over 24 hours ago, and sends a template', async () => {
    // The number's WABA has one approved template without variables, synced from Meta.
    const wabaId = digits(15);
    expect((await admin.call('PATCH', `/api/integration-accounts/${wa.accountId}`, { body: { settings: { waba_id: wabaId } } })).status).to.equal(200);
    playMetaTemplates(wabaId).add({ name: 'pesanan_siap', language: 'id', components: [{ type: 'BODY', text: 'Pesanan Anda siap diambil.' }] });
    expect((await admin.call('POST', '/api/wa-templates/sync', { body: {} })).status).to.equal(200);
    await startConversation(admin, wa, { name: 'Budi Lama', text: 'Pesan kemarin lusa', at: Math.floor(Date.now() / 1000) - 25 * 3600 });
    await open(adminPage, 'Budi Lama');
    await adminPage.getByTestId('window-closed').filter({ hasText: '24-hour WhatsApp window is closed' }).waitFor();
    expect(await adminPage.getByRole('textbox', { name: 'Reply' }).count()).to.equal(0);
    await adminPage.getByLabel('Template…').selectOption({ label: 'pesanan_siap (id)' });
    await adminPage.getByRole('button', { name: 'Send template' }).click();
    await adminPage.getByTestId('thread').locator('.bubble.outbound').waitFor();
    // The send to Meta follows the stored message.
    const sent = await until(async () => {
      const found = fakeGraph().requests.filter((r) => r.method === 'POST' && (r.json as { type?: string } | null)?.type === 'template');
      return found.length > 0 && found;
    }, 'the template send');
    expect(sent.map((r) => (r.json as { template: { name: string } }).template.name)).to.deep.equal(['pesanan_siap']);
    // Private notes still go.
    await adminPage.getByRole('tab', { name: 'Private note' }).click();
    await adminPage.getByRole('textbox', { name: 'Private note' }).waitFor();
    await open(adminPage, 'Siti Rahmawati');
    await adminPage.getByRole('textbox', { name: 'Reply' }).waitFor();
  });

  it('previews an image a customer sent, downloaded through /api/media', async () => {
    const mediaId = digits(16);
    fakeGraph().on('GET', `/v21.0/${mediaId}`, () => ({
      body: { messaging_product: 'whatsapp', url: `${fakeGraph().url}/whatsapp_business/attachments/${mediaId}`, mime_type: 'image/png', sha256: createHash('sha256').update(PIXEL).digest('base64'), file_size: PIXEL.length, id: mediaId },
    }));
    fakeGraph().on('GET', `/whatsapp_business/attachments/${mediaId}`, () => ({ raw: PIXEL, headers: { 'content-type': 'image/png' } }));
    // The text webhook with its message turned into an image.
    const body = JSON.parse(textWebhook(wa.phoneNumberId, siti.from, `wamid.${randomBytes(12).toString('base64url')}`, '', undefined, 'Siti Rahmawati'));
    body.entry[0].changes[0].value.messages[0] = { ...body.entry[0].changes[0].value.messages[0], type: 'image', text: undefined, image: { id: mediaId, mime_type: 'image/png', caption: 'Foto paket rusak' } };
    expect((await postSigned(JSON.stringify(body), wa.appSecret)).status).to.equal(200);
    await adminPage.getByRole('button', { name: 'Inbox' }).click();
    await list(adminPage).locator(`button[data-conversation-id="${siti.conversationId}"]`).click();
    const image = adminPage.getByTestId('thread').locator('.bubble.inbound img[alt="Foto paket rusak"]');
    await image.waitFor();
    await adminPage.waitForFunction((el) => (el as HTMLImageElement | null)?.complete && ((el as HTMLImageElement).naturalWidth ?? 0) > 0, await image.elementHandle());
  });

  it("lists agents live with their status and load in the supervisor view, with the transfers as they happen", async () => {
    await adminPage.getByRole('button', { name: 'Supervisor' }).click();
    const dewi = adminPage.getByTestId('agent-table').locator(`tr[data-agent-id="${agent.id}"]`);
    await dewi.getByTestId('load').filter({ hasText: /^1 \// }).waitFor();
    const status = await dewi.locator('.presence').getAttribute('data-status');
    await agentPage.getByTestId('presence').click();
    await dewi.locator(`.presence[data-status=${status === 'online' ? 'offline' : 'online'}]`).waitFor();

    const moved = await admin.call('POST', `/api/conversations/${andi.conversationId}/transfer`, { body: { to_agent_id: agent.id, reason: 'Dewi pegang tagihan' } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    await dewi.getByTestId('load').filter({ hasText: /^2 \// }).waitFor();
    await adminPage.getByTestId('handover-feed').locator('li', { hasText: 'Dewi pegang tagihan' }).waitFor();
    if (screenshots) await adminPage.screenshot({ path: new URL('../../docs/console-supervisor.png', import.meta.url).pathname });
  });
});
