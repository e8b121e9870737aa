import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium; playwright-core never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether browser tests can run here. Outside CI a missing Chromium skips them with a message;
 * in CI (env CI set, as .ci/run does) it is an error, so the browser tests cannot silently vanish.
 */
export function chromiumAvailable(suite: string, executable = CHROMIUM, env: Record<string, string | undefined> = process.env): boolean {
  if (existsSync(executable)) return true;
  if (env.CI) throw new Error(`${executable} is missing; CI must install Debian's chromium (see .ci/run)`);
  console.warn(`SKIPPED ${suite}: ${executable} not found (apt-get install -y chromium)`);
  return false;
}

/** A headless Chromium with a fresh profile (removed when it closes) and no background traffic (this network is closed). */
export async function launchChromium(options: { viewport?: { width: number; height: number }; args?: string[] } = {}): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'dedup-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.args ?? []),
    ],
  });
  context.once('close', () => rmSync(profile, { recursive: true, force: true }));
  return context;
}
