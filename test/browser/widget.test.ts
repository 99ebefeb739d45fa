/**
 * The website chat widget in a real browser: Debian's Chromium (playwright-core) opens the
 * server's /demo page for a test organization, the visitor writes in the widget, an agent socket
 * sees it, the agent's REST reply shows up in the widget live, and a reload keeps the
 * conversation (the visitor token in localStorage); a page of another origin embeds it the way a
 * shop's site would (CORS preflight, cross-origin socket). Waits are on what the page shows.
 * With UPDATE_SCREENSHOTS=1 it also writes the README's screenshot (docs/widget.png).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { messages } from '../../src/models/message.js';
import { baseUrl } from '../setup.js';
import { launchChromium } from '../support/browser.js';
import { createSession, type TestSession } from '../support/session.js';
import { openSocket, waitFor, type TestSocket } from '../support/sockets.js';
import { until } from '../support/whatsapp.js';

describe('the website chat widget in Chromium', function () {
  this.timeout(60000);
  let browser: Browser;
  let page: Page;
  let s: TestSession;
  let agent: TestSocket;
  const pageErrors: string[] = [];
  /** A shop's own site on another origin (localhost, not 127.0.0.1), on its own port: it only embeds the widget. */
  let shopSite: http.Server;
  let shop = '';

  before(async () => {
    browser = await launchChromium();
    shopSite = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>Shop</title><p>Shop</p><script src="${baseUrl()}/widget.js" data-tenant="${s.tenantSlug}"></script>`);
    });
    await new Promise<void>((resolve) => shopSite.listen(0, '127.0.0.1', resolve));
    shop = `http://localhost:${(shopSite.address() as AddressInfo).port}`;
    s = await createSession({ organization_name: 'Toko Widget' });
    const enabled = await s.call('PUT', '/api/webchat/settings', { body: { enabled: true, allowed_origins: [baseUrl(), shop], welcome_text: 'Halo dari Toko Widget!' } });
    expect(enabled.status, JSON.stringify(enabled.body)).to.equal(200);
    agent = await openSocket(baseUrl(), { token: s.token });
    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') pageErrors.push(m.text());
    });
  });
  after(async () => {
    agent?.close();
    await browser?.close();
    shopSite?.close();
  });

  it('holds a conversation with an agent across a page reload', async () => {
    await page.goto(`${baseUrl()}/demo?tenant=${s.tenantSlug}`);
    await page.locator('button.bubble').click();
    await page.locator('.msg.agent', { hasText: 'Halo dari Toko Widget!' }).waitFor();
    await page.locator('textarea').fill('Halo, saya mau tanya ongkir');
    await page.locator('textarea').press('Enter');
    await page.locator('.msg.visitor:not(.pending)', { hasText: 'Halo, saya mau tanya ongkir' }).waitFor();
    await waitFor(() => agent.named('message.created').some((e) => e.data.text === 'Halo, saya mau tanya ongkir'), 'message.created on the agent socket', 10_000);
    const created = agent.named('message.created').find((e) => e.data.text === 'Halo, saya mau tanya ongkir');
    const conversationId = created?.data.conversation_id as string;

    const reply = await s.call('POST', `/api/conversations/${conversationId}/messages`, { body: { type: 'text', text: 'Ongkir ke Bandung Rp15.000', idempotency_key: `reply-${Date.now()}` } });
    expect(reply.status, JSON.stringify(reply.body)).to.be.oneOf([200, 201]);
    await page.locator('.msg.agent', { hasText: 'Ongkir ke Bandung Rp15.000' }).waitFor();
    if (process.env.UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: new URL('../../docs/widget.png', import.meta.url).pathname });
    await until(async () => (await messages.findOwned(s.tenantId, reply.body.id)).status === 'delivered', 'the reply marked delivered');

    await page.reload();
    await page.locator('button.bubble').click();
    await page.locator('.msg.visitor', { hasText: 'Halo, saya mau tanya ongkir' }).waitFor();
    await page.locator('.msg.agent', { hasText: 'Ongkir ke Bandung Rp15.000' }).waitFor();
    expect(pageErrors).to.deep.equal([]);
  });

  it('runs on a shop page of another allowed origin, and stays off on one not allowed', async () => {
    const onShop = await (await browser.newContext()).newPage();
    await onShop.goto(`${shop}/`);
    await onShop.locator('button.bubble').click();
    await onShop.locator('textarea').fill('Dari situs toko');
    await onShop.locator('textarea').press('Enter');
    await onShop.locator('.msg.visitor:not(.pending)', { hasText: 'Dari situs toko' }).waitFor();
    await waitFor(() => agent.named('message.created').some((e) => e.data.text === 'Dari situs toko'), 'the shop page message on the agent socket', 10_000);

    const foreign = await (await browser.newContext()).newPage();
    const warnings: string[] = [];
    foreign.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    // The same site under another name is another origin, not in allowed_origins.
    await foreign.goto(`${shop.replace('localhost', '127.0.0.1')}/`);
    await waitFor(() => warnings.some((w) => /origin .* may not run/.test(w)), 'the widget saying the origin is not allowed', 10_000);
    expect(await foreign.locator('button.bubble').count()).to.equal(0);
  });
});
