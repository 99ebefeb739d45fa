/**
 * The website chat widget in a real browser: Debian's Chromium (playwright-core) opens the
 * server's /demo page for a test organization, the visitor writes in the widget, an agent socket
 * sees it, the agent's REST reply shows up in the widget live, and a reload keeps the
 * conversation (the visitor token in localStorage). Waits are on what the page shows.
 */
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

  before(async () => {
    browser = await launchChromium();
    s = await createSession({ organization_name: 'Toko Widget' });
    const enabled = await s.call('PUT', '/api/webchat/settings', { body: { enabled: true, allowed_origins: [baseUrl()], welcome_text: 'Halo dari Toko Widget!' } });
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
    await until(async () => (await messages.findOwned(s.tenantId, reply.body.id)).status === 'delivered', 'the reply marked delivered');

    await page.reload();
    await page.locator('button.bubble').click();
    await page.locator('.msg.visitor', { hasText: 'Halo, saya mau tanya ongkir' }).waitFor();
    await page.locator('.msg.agent', { hasText: 'Ongkir ke Bandung Rp15.000' }).waitFor();
    expect(pageErrors).to.deep.equal([]);
  });
});
