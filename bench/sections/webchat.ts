/**
 * The website widget to the agent console, in a real browser (issue 10): Debian's Chromium
 * (playwright-core, as the browser tests) opens the server's /demo page with the widget in one
 * context and the console at /app, signed in as the tenant's admin with the conversation open,
 * in another. BENCH_WEBCHAT_MESSAGES (100) messages are written one after another; each is timed
 * from the visitor's Enter to the moment its bubble is in the console's thread (a
 * MutationObserver in the console page notes it). Both pages and this process read the same
 * system clock.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signInToConsole } from '../../test/support/browser.js';
import { call } from '../support/api.js';
import type { BenchContext } from '../support/context.js';
import { ms, pct, sleep } from '../support/stats.js';

const MESSAGES = Number(process.env.BENCH_WEBCHAT_MESSAGES ?? 100);
const PREFIX = 'bench-widget-';

/**
 * Notes, in the console page, when each bench message's bubble first shows in the thread. Plain
 * JavaScript text: a function would be serialized with the helpers tsx adds to it (`__name`),
 * which the page does not have.
 */
const watchThread = (prefix: string) => `(() => {
  const prefix = ${JSON.stringify(prefix)};
  const seen = (window.benchSeen = {});
  const note = () => {
    for (const el of document.querySelectorAll('[data-testid=thread] .bubble')) {
      const text = el.textContent || '';
      const at = text.indexOf(prefix);
      if (at < 0) continue;
      const key = text.slice(at).split(" ")[0];
      if (!(key in seen)) seen[key] = Date.now();
    }
  };
  new MutationObserver(note).observe(document.body, { childList: true, subtree: true, characterData: true });
})()`;

/** When the console noted the message (polled: the console's CSP forbids waitForFunction's eval). */
async function seenAt(agent: Page, key: string): Promise<number> {
  const giveUp = Date.now() + 30_000;
  for (;;) {
    const at = (await agent.evaluate(`window.benchSeen[${JSON.stringify(key)}] || 0`)) as number;
    if (at > 0) return at;
    if (Date.now() > giveUp) throw new Error(`${key} never showed in the console`);
    await sleep(5);
  }
}

async function write(visitor: Page, text: string): Promise<number> {
  await visitor.locator('textarea').fill(text);
  const at = Date.now();
  await visitor.locator('textarea').press('Enter');
  return at;
}

export async function measureWebchat(ctx: BenchContext): Promise<void> {
  const url = ctx.server.url;
  console.log(`\nWebsite widget -> agent console, in Chromium: ${MESSAGES} messages, each from the visitor's Enter to its bubble in the console's open thread`);
  await call(url, 'PUT', '/api/webchat/settings', { enabled: true, allowed_origins: [url], welcome_text: 'Halo!' }, ctx.tenant.token);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const agent = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage();
    const visitor = await (await browser.newContext()).newPage();
    await signInToConsole(agent, url, ctx.tenant.email, ctx.tenant.password);
    await visitor.goto(`${url}/demo?tenant=${ctx.tenant.slug}`);
    await visitor.locator('button.bubble').click();
    // The first message starts the conversation; the agent opens it (untimed).
    const opening = `${PREFIX}start Halo, saya mau tanya`;
    await write(visitor, opening);
    const row = agent.getByTestId('conversation-list').locator('button', { hasText: opening });
    await row.waitFor();
    await row.click();
    await agent.getByTestId('thread').locator('.bubble', { hasText: opening }).waitFor();
    await agent.evaluate(watchThread(PREFIX));

    const latencies: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const key = `${PREFIX}${i}`;
      const sentAt = await write(visitor, `${key} ukuran L masih ada?`);
      latencies.push((await seenAt(agent, key)) - sentAt);
    }
    const line = `p50 ${ms(pct(latencies, 0.5))} p99 ${ms(pct(latencies, 0.99))} (max ${ms(Math.max(...latencies))})`;
    console.log(`  widget Enter -> console bubble: ${line} over ${latencies.length} messages`);
    ctx.rows.push({
      rank: 16,
      measure: `website widget -> agent console (Chromium), ${MESSAGES} messages`,
      ours: line,
      baseline: '—',
      ratio: '—',
      goal: 'report',
      met: null,
    });
  } finally {
    await browser?.close();
  }
}
