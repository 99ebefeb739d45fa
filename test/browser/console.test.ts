/**
 * The agent console (/app) in a real browser: Debian's Chromium driven by playwright-core,
 * against the run's server, with customers writing over signed WhatsApp webhooks. Every wait is
 * on something the page shows (locator waits), never a fixed sleep. With UPDATE_SCREENSHOTS=1
 * it also writes the README's screenshots (docs/console-*.png).
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { realtimeGateway, baseUrl, fakeGraph } from '../setup.js';
import { api } from '../support/http.js';
import { launchChromium } from '../support/browser.js';
import { createAgent, createSession, type SignIn, type TestSession } from '../support/session.js';
import { acceptSends, connectWhatsapp, postSigned, startConversation, statusWebhook, type StartedConversation, type WhatsappAccount } from '../support/whatsapp.js';

const screenshots = process.env.UPDATE_SCREENSHOTS === '1';
const shoot = async (page: Page, name: string) => {
  if (screenshots) await page.screenshot({ path: new URL(`../../docs/${name}.png`, import.meta.url).pathname });
};

describe('the agent console in Chromium', function () {
  // A cold Chromium start and first page load on a loaded 2-core machine take seconds.
  this.timeout(60000);
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: TestSession;
  let wa: WhatsappAccount;
  let agent: SignIn;
  let siti: StartedConversation;
  let andi: StartedConversation;
  /** Uncaught errors in the page and CSP refusals, which fail the test that caused them. */
  const pageErrors: string[] = [];

  const list = () => page.getByTestId('conversation-list');
  const row = (name: string) => list().locator('button', { hasText: name });
  const thread = () => page.getByTestId('thread');
  const bubble = (text: string) => thread().locator('.bubble').filter({ has: page.getByText(text, { exact: true }) });
  const linkState = (state: string) => page.locator(`[data-testid=link-state][data-state=${state}]`);
  const composerIdle = () => page.locator('.composer textarea').and(page.locator(':placeholder-shown')).waitFor();
  /** The network goes away and the server loses the connection, as when a laptop sleeps; back with setOffline(false). */
  const dropSocket = async () => {
    await context.setOffline(true);
    for (const socket of realtimeGateway().io.of('/').sockets.values()) {
      if ((socket.data.principal as { userId?: string } | undefined)?.userId === agent.id) socket.conn.close();
    }
    await linkState('offline').waitFor();
  };
  const write = (c: StartedConversation, text: string, name: string) => startConversation(admin, wa, { from: c.from, text, name });

  before(async () => {
    browser = await launchChromium();
    admin = await createSession({ organization_name: 'Toko Sinar Jaya' });
    wa = await connectWhatsapp(admin);
    agent = await createAgent(admin, 'Dewi Lestari');
    siti = await startConversation(admin, wa, { name: 'Siti Rahma', text: 'Halo, pesanan saya belum sampai' });
    context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
  });

  // Meta answers slowly, so a second click lands while the first send is in flight; opening a
  // conversation also sends WhatsApp read receipts there.
  beforeEach(() => {
    fakeGraph().reset();
    acceptSends(wa, 300);
  });
  const textSends = () => fakeGraph().requests.filter((r) => r.method === 'POST' && (r.json as { type?: string } | null)?.type === 'text');
  afterEach(() => {
    expect(fakeGraph().unexpected.map((r) => `${r.method} ${r.path}`)).to.deep.equal([]);
    expect(pageErrors.splice(0)).to.deep.equal([]);
  });

  it('serves the built console: index.html revalidated, hashed assets immutable, its own CSP, the SPA fallback', async () => {
    const index = await api('GET', '/app/');
    expect(index.status).to.equal(200);
    expect(index.headers.get('content-type')).to.match(/^text\/html/);
    expect(index.headers.get('cache-control')).to.equal('no-cache');
    expect(index.headers.get('content-security-policy')).to.include("script-src 'self'").and.include("connect-src 'self'").and.not.include('unsafe-inline');
    const asset = /\/app\/assets\/[\w.-]+\.js/.exec(index.body as string)?.[0];
    expect(asset, 'a hashed script in index.html').to.be.a('string');
    const script = await api('GET', asset as string);
    expect(script.status).to.equal(200);
    expect(script.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    const deep = await api('GET', `/app/conversations/${siti.conversationId}`);
    expect(deep.status).to.equal(200);
    expect(deep.body).to.equal(index.body);
    expect((await api('GET', '/app/assets/missing-0000.js')).status).to.equal(404);
    expect((await api('GET', '/app/assets/..%2F..%2Fpackage.json')).status).to.equal(404);
  });

  it('signs an agent in with the cookie session and shows the inbox with unread counts, in Indonesian for Asia/Jakarta', async () => {
    await page.goto(`${baseUrl()}/app/`);
    await page.locator('input[name=email]').fill(agent.email);
    await page.locator('input[name=password]').fill(agent.password);
    await page.locator('button[type=submit]').click();
    await linkState('live').waitFor();
    await row('Siti Rahma').waitFor();
    expect(await row('Siti Rahma').locator('.badge').textContent()).to.equal('1');
    expect(await page.getByRole('button', { name: 'Keluar' }).count()).to.equal(1);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'omnistream_token')?.httpOnly).to.equal(true);
  });

  it('shows a new customer live in the list, and a new message live in the open conversation', async () => {
    andi = await startConversation(admin, wa, { name: 'Andi Wijaya', text: 'Apakah toko buka hari Minggu?' });
    await row('Andi Wijaya').waitFor();
    await row('Andi Wijaya').click();
    await bubble('Apakah toko buka hari Minggu?').waitFor();
    // Opening it marked it read: the badge goes when conversation.updated says so.
    await row('Andi Wijaya').locator('.badge').waitFor({ state: 'detached' });
    await write(andi, 'Saya mau ambil pesanan jam 10', 'Andi Wijaya');
    await bubble('Saya mau ambil pesanan jam 10').waitFor();
    await row('Andi Wijaya').locator('.row-text', { hasText: 'Saya mau ambil pesanan jam 10' }).waitFor();
  });

  it('sends a double-clicked reply once, with its delivery ticks, and adds a private note', async () => {
    const reply = 'Bisa, kami buka pukul 09.00 sampai 15.00';
    await page.getByRole('textbox', { name: 'Balas' }).fill(reply);
    await page.locator('.composer button[type=submit]').dblclick();
    await bubble(reply).waitFor();
    await composerIdle();
    // And two clicks in one task, before the page can re-render the button disabled.
    const second = 'Sampai jumpa hari Minggu!';
    await page.getByRole('textbox', { name: 'Balas' }).fill(second);
    await page.locator('.composer button[type=submit]').evaluate((b: HTMLButtonElement) => {
      b.click();
      b.click();
    });
    await bubble(second).waitFor();
    await composerIdle();
    const stored = await admin.call('GET', `/api/conversations/${andi.conversationId}/messages`);
    const outbound = (stored.body.data as { direction: string; text: string; external_id: string }[]).filter((m) => m.direction === 'outbound');
    expect(outbound.map((m) => m.text)).to.deep.equal([reply, second]);
    expect(textSends()).to.have.length(2);
    expect(await bubble(reply).count()).to.equal(1);

    // Delivery statuses arrive by webhook and reach the open thread as message.updated.
    for (const status of ['delivered', 'read']) {
      expect((await postSigned(statusWebhook(wa.phoneNumberId, outbound[0]?.external_id ?? '', status, andi.from), wa.appSecret)).status).to.equal(200);
    }
    await bubble(reply).locator('.tick[data-status=read]').waitFor();

    await page.getByRole('tab', { name: 'Catatan pribadi' }).click();
    await page.getByRole('textbox', { name: 'Catatan pribadi' }).fill('Pelanggan tetap, beri prioritas');
    await page.locator('.composer button[type=submit]').click();
    await thread().locator('.bubble.note', { hasText: 'Pelanggan tetap, beri prioritas' }).waitFor();
    await shoot(page, 'console-conversation');
  });

  it('after a dropped socket shows exactly what it missed, once (since_seq)', async () => {
    await dropSocket();
    await write(andi, 'Pesan saat agen offline', 'Andi Wijaya');
    await startConversation(admin, wa, { name: 'Rina Kartika', text: 'Apakah ada promo?' });
    // Both are stored while the page is still cut off: only the resume can bring them.
    expect(await linkState('offline').count()).to.equal(1);
    expect(await bubble('Pesan saat agen offline').count()).to.equal(0);
    await context.setOffline(false);
    await linkState('live').waitFor({ timeout: 30000 });
    await bubble('Pesan saat agen offline').waitFor();
    await row('Rina Kartika').waitFor();
    // A live message after the replay: anything replayed twice would have come before it.
    await write(andi, 'Pesan sesudah tersambung lagi', 'Andi Wijaya');
    await bubble('Pesan sesudah tersambung lagi').waitFor();
    expect(await bubble('Pesan saat agen offline').count()).to.equal(1);
    expect(await row('Rina Kartika').count()).to.equal(1);
    expect(await thread().locator('.bubble.inbound').count()).to.equal(4);
  });

  it('reloads over REST when it missed more than the server replays (sync.required)', async () => {
    await dropSocket();
    // REALTIME_REPLAY_LIMIT is 40 in tests; each message is two events (message.created, conversation.updated).
    for (let i = 1; i <= 21; i++) await write(andi, `Pesan beruntun ${i}`, 'Andi Wijaya');
    await context.setOffline(false);
    await linkState('live').waitFor({ timeout: 30000 });
    await bubble('Pesan beruntun 21').waitFor();
    for (const i of [1, 11, 21]) expect(await bubble(`Pesan beruntun ${i}`).count()).to.equal(1);
    await row('Andi Wijaya').locator('.row-text', { hasText: 'Pesan beruntun 21' }).waitFor();
  });

  it('finds messages by text and opens their conversation', async () => {
    await page.getByRole('searchbox').fill('promo');
    const hit = page.locator('.list button', { hasText: 'Apakah ada promo?' });
    await hit.click();
    await page.getByTestId('conversation').locator('h2', { hasText: 'Rina Kartika' }).waitFor();
    await page.getByRole('searchbox').fill('');
    await row('Andi Wijaya').click();
    await bubble('Pesan sesudah tersambung lagi').waitFor();
  });

  it('loads further pages as the list scrolls', async () => {
    // 3 conversations so far, 20 a page: 19 more make a second page.
    await Promise.all(Array.from({ length: 19 }, (_, i) => startConversation(admin, wa, { name: `Pelanggan ${String(i + 1).padStart(2, '0')}`, text: `Pertanyaan nomor ${i + 1}` })));
    await page.reload();
    await linkState('live').waitFor();
    await list().locator('button[data-conversation-id]').nth(19).waitFor();
    expect(await list().locator('button[data-conversation-id]').count()).to.equal(20);
    await list().locator('.sentinel').scrollIntoViewIfNeeded();
    await list().locator('button[data-conversation-id]').nth(21).waitFor();
    await row('Siti Rahma').waitFor();
    expect(await list().locator('button[data-conversation-id]').count()).to.equal(22);
  });

  it('asks which organization when the e-mail is in several, and an assign or resolve there reaches the agent live', async () => {
    // The admin's e-mail and password also open a second organization.
    await createSession({ email: admin.email, password: admin.password, organization_name: 'Toko Kedua' });
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    try {
      const adminPage = await adminContext.newPage();
      await adminPage.goto(`${baseUrl()}/app/`);
      await adminPage.locator('input[name=email]').fill(admin.email);
      await adminPage.locator('input[name=password]').fill(admin.password);
      await adminPage.locator('button[type=submit]').click();
      await adminPage.locator('input[name=tenant]').fill(admin.tenantSlug);
      await adminPage.locator('button[type=submit]').click();
      await adminPage.locator('.topbar .tenant', { hasText: 'Toko Sinar Jaya' }).waitFor();
      await adminPage.locator('[data-state=live]').waitFor();

      await adminPage.getByTestId('conversation-list').locator('button', { hasText: 'Andi Wijaya' }).click();
      await adminPage.getByRole('button', { name: 'Tugaskan ke saya' }).click();
      await adminPage.getByTestId('assignee').and(adminPage.locator(':text("Anda")')).waitFor();
      // The agent's open conversation shows the new assignee from conversation.assigned.
      await page.getByTestId('assignee').and(page.locator(':text("Admin")')).waitFor();

      await adminPage.getByRole('button', { name: 'Selesaikan' }).click();
      await adminPage.getByRole('button', { name: 'Buka lagi' }).waitFor();
      // Resolved, it leaves the agent's list of open conversations.
      await row('Andi Wijaya').waitFor({ state: 'detached' });
      await page.getByTestId('status').and(page.locator(':text("Selesai")')).waitFor();
    } finally {
      await adminContext.close();
    }
  });

  it('keeps the first tab live when a second tab of the same session rotates the token', async () => {
    const second = await context.newPage();
    try {
      await second.goto(`${baseUrl()}/app/`);
      await second.locator('[data-testid=link-state][data-state=live]').waitFor();
      // The rotation closed the first tab's socket; it came back with the token the second tab shared.
      await write(andi, 'Pesan untuk dua tab', 'Andi Wijaya');
      await second.getByTestId('conversation-list').locator('button', { hasText: 'Pesan untuk dua tab' }).waitFor();
      await bubble('Pesan untuk dua tab').waitFor();
      await linkState('live').waitFor();
    } finally {
      await second.close();
    }
  });

  it('switches to English and remembers it', async () => {
    await page.locator('.topbar select').selectOption('en');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await linkState('live').waitFor();
    await bubble('Pesan sesudah tersambung lagi').waitFor();
    await shoot(page, 'console-inbox');
  });
});
