// Screenshots of the UI against the real Marquee in demo mode (the simulators, through
// test/support/browser.ts), for eyeballing layout in dark/light, desktop/phone:
//   npm run build:web && npx tsx test/support/dev/screenshot.ts [only-name-substring]
// Writes PNGs under test-results/web-screens/ and prints any console error of the page.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from '../chromium.js';
import { FRIENDS_PLEX, HOME_JELLYFIN, LIVING_ROOM, startMarquee } from '../browser.js';
import { sleep } from '../wait.js';

const outDir = join(process.cwd(), 'test-results', 'web-screens');
mkdirSync(outDir, { recursive: true });
const only = process.argv[2];

const marquee = await startMarquee({ args: ['--base-url', '/marquee'] });
const living = marquee.sourceId(LIVING_ROOM);
const jellyfin = marquee.sourceId(HOME_JELLYFIN);
// Playwright gives every launch a fresh temporary profile.
const browser = await chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args] });
const errors: string[] = [];

async function open(scheme: 'dark' | 'light', width: number, height: number, hash = ''): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme, deviceScaleFactor: 1 });
  // Only loopback: the Plex wizard's auth link must not leave the machine.
  await context.route(/^https?:\/\/(?!127\.|localhost[:/]|\[::1\])/, (route) => route.abort('blockedbyclient'));
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${scheme} ${width}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${scheme} ${width}: ${e.message}`));
  await page.goto(`${marquee.url}${hash}`);
  await page.waitForSelector('[data-testid="header-indicator"][data-state]:not([data-state="connecting"])', { timeout: 10_000 });
  return page;
}

async function shot(page: Page, name: string, fullPage = false) {
  if (only && !name.includes(only)) return;
  await page.screenshot({ path: join(outDir, `${name}.png`), fullPage });
  console.log(`wrote ${name}.png`);
}

try {
  for (const scheme of ['dark', 'light'] as const) {
    const desk = await open(scheme, 1440, 900);
    await sleep(1200);
    await shot(desk, `01-desktop-${scheme}`);
    await shot(desk, `01b-desktop-${scheme}-full`, true);
    const phone = await open(scheme, 390, 844);
    await sleep(800);
    await shot(phone, `02-phone-${scheme}`);
    await phone.click('[data-testid="nav-toggle"]');
    await sleep(400);
    await shot(phone, `03-phone-${scheme}-menu`);
    await phone.context().close();
    await desk.context().close();
  }

  const page = await open('dark', 1440, 900);
  await marquee.sim.route('living-room-local').fault({ mode: 'refuse' });
  await sleep(2500);
  await shot(page, '04-remote-route');
  await marquee.sim.server('friends-plex').fault({ mode: 'stop' });
  await marquee.sim.server('jellyfin-home').fault({ mode: 'bad-token' });
  await sleep(2500);
  await shot(page, '05-reconnecting-auth');
  await page.goto(`${marquee.url}#/sources/${living}`);
  await sleep(2000);
  await shot(page, '06-source-card', true);
  // The link to Marquee drops: streams cut, new ones refused for a while.
  await page.route('**/api/events**', (route) => route.abort('connectionrefused'));
  marquee.dropConnections();
  await sleep(1500);
  await shot(page, '07-connection-banner');
  await page.unroute('**/api/events**');
  await sleep(4500);
  await shot(page, '07b-reconnected');

  await page.goto(`${marquee.url}#/add`);
  await sleep(500);
  await shot(page, '08-add-choose');
  await page.goto(`${marquee.url}#/add/jellyfin`);
  await page.fill('[data-testid="jellyfin-url-input"]', 'http://127.0.0.9:9');
  await page.click('[data-testid="jellyfin-probe-submit"]');
  await sleep(1500);
  await shot(page, '09-jellyfin-error');
  await page.fill('[data-testid="jellyfin-url-input"]', marquee.sim.servers.find((s) => s.id === 'jellyfin-home')!.routes[0]!.url);
  await page.click('[data-testid="jellyfin-probe-submit"]');
  await sleep(1000);
  await shot(page, '10-jellyfin-preview');
  await page.click('[data-testid="jellyfin-method-quickconnect"]');
  await page.click('[data-testid="jellyfin-qc-start"]');
  await sleep(800);
  await shot(page, '11-jellyfin-quickconnect');
  await page.goto(`${marquee.url}#/add/plex`);
  await page.click('[data-testid="plex-start"]');
  await sleep(800);
  await shot(page, '12-plex-pin');
  // The demo's simulated user approves a PIN after 4 s; the wizard polls every 2 s.
  await sleep(6500);
  await shot(page, '13-plex-servers');

  await page.goto(`${marquee.url}#/demo`);
  await sleep(1000);
  await shot(page, '14-demo', true);
  await page.click(`[data-testid="sidebar-signin-${jellyfin}"]`);
  await sleep(800);
  await shot(page, '15-signin-dialog');

  await page.keyboard.press('Escape');
  await page.goto(`${marquee.url}#/`);
  await sleep(800);
  await page.keyboard.press('Tab');
  await page.focus(`[data-testid="source-status-${marquee.sourceId(FRIENDS_PLEX)}"]`);
  await sleep(300);
  await shot(page, '17-tooltip-on-focus');

  const phone = await open('light', 390, 844, `#/sources/${jellyfin}`);
  await sleep(2000);
  await shot(phone, '16-phone-card-light', true);
  await phone.goto(`${marquee.url}#/demo`);
  await sleep(800);
  await shot(phone, '18-phone-demo-light');
  await phone.goto(`${marquee.url}#/add/plex`);
  await phone.click('[data-testid="plex-start"]');
  await sleep(800);
  await shot(phone, '19-phone-plex-pin-light');
} finally {
  await browser.close();
  await marquee.close();
}
console.log(errors.length ? `Console errors:\n${errors.join('\n')}` : 'No console errors.');
