/**
 * The system's Chromium (Debian's `chromium` package), driven by playwright-core. Not a
 * Playwright-downloaded browser: those builds lack the proprietary codecs (H.264, AAC) that
 * every Spool stream uses, and the tests must not download anything.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser tests can run. Without Chromium they are skipped with a reason on a
 * developer's machine, and fail in CI, where a skipped player test would hide a regression.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `no Chromium at ${CHROMIUM} (install it with \`apt-get install chromium\`, or set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`The browser tests must run in CI, but ${why}.`);
  console.warn(`Skipping the browser tests: ${why}.`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** The MSE type hls.js needs for a rendition (it remuxes MPEG-TS to fragmented MP4). */
export const mseType = (codecs: string) => `video/mp4; codecs="${codecs}"`;
