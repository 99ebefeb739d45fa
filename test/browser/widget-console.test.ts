/**
 * A whole conversation in two browsers: a visitor writes in the website widget (the server's
 * /demo page), the message appears live in an agent's console (/app) in a second browser
 * context, the agent answers from the console, and the visitor sees the answer live. Both sides
 * are Debian's Chromium (playwright-core); every wait is on what a page shows.
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { baseUrl } from '../setup.js';
import { launchChromium, signInToConsole } from '../support/browser.js';
import { createSession, type TestSession } from '../support/session.js';

describe('the widget and the console in Chromium, together', function () {
  this.timeout(60000);
  let browser: Browser;
  let visitor: Page;
  let agent: Page;
  let s: TestSession;
  const pageErrors: string[] = [];
  const watch = (page: Page, who: string) => {
    page.on('pageerror', (err) => pageErrors.push(`${who}: ${err.message}`));
    // The console's first request answers 401 before sign-in; only policy refusals count here.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(`${who}: ${m.text()}`);
    });
  };

  before(async () => {
    browser = await launchChromium();
    s = await createSession({ organization_name: 'Toko Dua Layar' });
    const enabled = await s.call('PUT', '/api/webchat/settings', { body: { enabled: true, allowed_origins: [baseUrl()], welcome_text: 'Halo dari Toko Dua Layar!' } });
    expect(enabled.status, JSON.stringify(enabled.body)).to.equal(200);
    visitor = await (await browser.newContext()).newPage();
    agent = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage();
    watch(visitor, 'widget');
    watch(agent, 'console');
  });
  after(async () => {
    await browser?.close();
  });

  it('carries a visitor’s message to the console live, and the agent’s answer back to the widget', async () => {
    await signInToConsole(agent, baseUrl(), s.email, s.password);

    await visitor.goto(`${baseUrl()}/demo?tenant=${s.tenantSlug}`);
    await visitor.locator('button.bubble').click();
    await visitor.locator('.msg.agent', { hasText: 'Halo dari Toko Dua Layar!' }).waitFor();
    await visitor.locator('textarea').fill('Halo, apakah ukuran L masih ada?');
    await visitor.locator('textarea').press('Enter');

    // The new conversation appears in the console's list without a reload, and opens on a click.
    const row = agent.getByTestId('conversation-list').locator('button', { hasText: 'Halo, apakah ukuran L masih ada?' });
    await row.waitFor();
    await row.click();
    const thread = agent.getByTestId('thread');
    await thread.locator('.bubble', { hasText: 'Halo, apakah ukuran L masih ada?' }).waitFor();

    // A second message arrives in the open conversation live.
    await visitor.locator('textarea').fill('Warna hitam ya');
    await visitor.locator('textarea').press('Enter');
    await thread.locator('.bubble', { hasText: 'Warna hitam ya' }).waitFor();

    await agent.getByRole('textbox', { name: 'Balas' }).fill('Masih ada, kak. Ukuran L warna hitam tersedia.');
    await agent.locator('.composer button[type=submit]').click();
    await visitor.locator('.msg.agent', { hasText: 'Masih ada, kak. Ukuran L warna hitam tersedia.' }).waitFor();
    await thread.locator('.bubble', { hasText: 'Masih ada, kak. Ukuran L warna hitam tersedia.' }).waitFor();
    // Each message once on each side.
    expect(await visitor.locator('.msg.visitor', { hasText: 'Warna hitam ya' }).count()).to.equal(1);
    expect(await thread.locator('.bubble', { hasText: 'Warna hitam ya' }).count()).to.equal(1);
    expect(await visitor.locator('.msg.agent', { hasText: 'Masih ada, kak.' }).count()).to.equal(1);
    expect(pageErrors).to.deep.equal([]);
  });
});
