/**
 * Debian's Chromium driven by playwright-core (its own browser downloads cannot be fetched
 * here). A missing browser fails the test: `scripts/services.sh install --browser` (run by
 * npm test and .ci/run) installs it, so nothing is skipped in silence.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The Chromium executable: CHROMIUM_PATH, else Debian's. */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts headless Chromium, or throws saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: run \`bash scripts/services.sh install --browser\` (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}
