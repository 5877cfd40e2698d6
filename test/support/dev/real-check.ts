// Screenshots of the UI against Marquee in demo mode: a running one (e.g. `npm run demo`), or,
// without a URL, one started here (the real runtime over the simulators, test/support/browser.ts):
//   npx tsx test/support/dev/real-check.ts [http://127.0.0.1:8844/]
// Cuts the first local route through the demo panel, waits, restores it, and prints console errors.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../chromium.js';
import { startMarquee } from '../browser.js';
import { sleep } from '../wait.js';

const started = process.argv[2] ? null : await startMarquee();
const base = (process.argv[2] ?? started!.url).replace(/\/?$/, '/');
const outDir = join(process.cwd(), 'test-results', 'web-real');
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args] });
const errors: string[] = [];
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base);
  await page.waitForSelector('[data-testid="header-indicator"]:not([data-state="connecting"])', { timeout: 15_000 });
  await sleep(2500);
  await page.screenshot({ path: join(outDir, '01-home.png') });
  await page.goto(`${base}#/demo`);
  const localRoute = page.locator('[data-testid^="demo-route-"]', { has: page.locator('.chip.kind-local') }).first();
  const cut = localRoute.locator('[data-testid$="-refuse"]');
  await cut.waitFor({ timeout: 10_000 });
  const routeTestId = (await cut.getAttribute('data-testid'))!;
  // A cut only shows when the source is on its local route; after an earlier cut the monitor
  // returns to local on its own schedule, so wait for it.
  const sourceId = (await localRoute.getAttribute('data-testid'))!;
  const card = page.locator('[data-testid^="demo-source-"]', { has: page.locator(`[data-testid="${sourceId}"]`) });
  const status = card.locator('[data-route-kind]');
  for (let i = 0; i < 180 && (await status.getAttribute('data-route-kind')) !== 'local'; i++) await sleep(500);
  console.log(`cutting ${routeTestId}`);
  await cut.click();
  await sleep(3000);
  await page.screenshot({ path: join(outDir, '02-after-cut.png') });
  console.log('toasts after cut:', await page.locator('[data-sonner-toast]').allTextContents());
  await sleep(5000);
  await page.goto(base);
  await sleep(2500);
  await page.screenshot({ path: join(outDir, '03-sources-after-cut.png'), fullPage: true });
  await page.goto(`${base}#/demo`);
  await page.click(`[data-testid="${routeTestId.replace(/-refuse$/, '-up')}"]`);
  await sleep(4_000);
  await page.screenshot({ path: join(outDir, '04-after-restore.png') });
  console.log('toasts after restore:', await page.locator('[data-sonner-toast]').allTextContents());
} finally {
  await browser.close();
  await started?.close();
}
console.log(errors.length ? `Console errors:\n${errors.join('\n')}` : 'No console errors.');
