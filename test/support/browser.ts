// Browser end-to-end rig: the real Marquee server (Fastify app, engine, store, backends) started
// in-process over the protocol simulators, and Debian's Chromium driven by playwright-core.
//
// The server is `marquee demo` itself (startRuntime in src/cli/runtime.ts, through
// test/support/start.ts: the simulated servers are added through the real sign-in flows, the
// simulated user approves new Plex PINs), but with short monitor cadences and with the Simulation
// handle in the test's hands, so a test can cut, flap or restore any route and revoke tokens directly.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_LAUNCH } from './chromium.js';
import type { SimConfig, Simulation } from '../../sim/index.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import type { RouteKind, SourceKind } from '../../src/core/types.js';
import type { MediaBackend } from '../../src/backends/types.js';
import type { MarqueeEngine } from '../../src/monitor/engine.js';
import type { ApiSource } from '../../src/api/types.js';
import { sourceToastId } from '../../src/web/toast-policy.js';
import { startTestRuntime, type TestRuntime } from './start.js';
import { waitUntil } from './wait.js';
import { toApiSource } from '../../src/server/views.js';
import type { AppConfig } from '../../src/server/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB_INDEX = join(ROOT, 'dist/web/index.html');
export const SCREENSHOT_DIR = join(ROOT, 'test-results/browser');

import { BROWSER_MONITOR } from './browser-monitor.js';

export { BROWSER_MONITOR };

/** Names in sim/example.json (the demo's servers). */
export const LIVING_ROOM = 'Living-room Plex';
export const FRIENDS_PLEX = "Friend's Plex";
export const HOME_JELLYFIN = 'Home Jellyfin';

export interface MarqueeUnderTest {
  /** e.g. http://127.0.0.1:41234/ (with the base path, e.g. …/marquee/, under `--base-url`) */
  url: string;
  /** The runtime's config (API key, base path, …). */
  config: AppConfig;
  sim: Simulation;
  engine: MarqueeEngine;
  /** The runtime's real backends (ranged media GETs included), for play-session rigs. */
  backends: Record<SourceKind, MediaBackend>;
  sources(): ApiSource[];
  /** Source id by display name (throws when absent). */
  sourceId(name: string): string;
  /** Simulated route id of a source's route kind, from the sim config (`living-room-local`, …). */
  simRouteIds(simServerId: string, kind?: RouteKind): string[];
  /** Every route and server back to `up`, then every source connected on its best route. */
  restoreAll(timeoutMs?: number): Promise<void>;
  /** Cuts every open HTTP connection to the app, event streams included (the browser's link drops). */
  dropConnections(): void;
  close(): Promise<void>;
}

async function ensureWebBuilt(): Promise<void> {
  if (existsSync(WEB_INDEX)) return;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'src/web/vite.config.ts'), logLevel: 'warn' });
}

const RANK: Record<RouteKind, number> = { local: 0, remote: 1, relay: 2 };

/** Connected on the best route kind it has: the steady state every scenario starts from. */
export function onBestRoute(source: ApiSource): boolean {
  return source.status === 'connected' && !!source.route && RANK[source.route.kind] === RANK[source.preferredRouteKind ?? 'local'];
}

export interface StartMarqueeOptions {
  simConfig?: SimConfig;
  monitor?: MonitorSettingsInput;
  /** More command-line flags (e.g. `['--base-url', '/marquee']`). */
  args?: string[];
  /** Environment for the config (e.g. `MARQUEE_API_KEY`). */
  env?: Record<string, string | undefined>;
}

export async function startMarquee(options: StartMarqueeOptions = {}): Promise<MarqueeUnderTest> {
  await ensureWebBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'marquee-browser-'));
  let simConfigPath: string | undefined;
  if (options.simConfig) {
    simConfigPath = join(dir, 'sim.json');
    writeFileSync(simConfigPath, JSON.stringify(options.simConfig));
  }
  let runtime: TestRuntime;
  try {
    runtime = await startTestRuntime({
      demo: simConfigPath ? { simConfigPath } : true,
      dataDir: join(dir, 'data'),
      monitor: { ...BROWSER_MONITOR, ...options.monitor },
      // The wizard opens the auth page in a new tab: keep it on loopback (no internet here).
      plexAuthAppUrl: (plexTvUrl) => `${plexTvUrl}/auth`,
      listen: true,
      ...(options.args ? { args: options.args } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { engine, simulation: sim } = runtime;
  const close = async () => {
    try {
      await runtime.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    if (!sim || !runtime.url) throw new Error('the demo runtime did not start its simulators or did not listen');

    // The API view of every source, as GET /api/sources serves it.
    const views = () => engine.listSources().map(toApiSource);
    const under: MarqueeUnderTest = {
      url: runtime.url,
      config: runtime.config,
      sim,
      engine,
      backends: runtime.backends.backends,
      sources: () => views(),
      sourceId(name) {
        const found = views().find((s) => s.name === name);
        if (!found) throw new Error(`no source named ${name}; have ${views().map((s) => s.name).join(', ')}`);
        return found.id;
      },
      simRouteIds(simServerId, kind) {
        const server = sim.servers.find((s) => s.id === simServerId);
        if (!server) throw new Error(`no simulated server ${simServerId}`);
        return server.routes.filter((r) => !kind || r.kind === kind).map((r) => r.id);
      },
      async restoreAll(timeoutMs = 20_000) {
        for (const server of sim.servers) {
          await sim.server(server.id).fault({ mode: 'up' });
          for (const route of server.routes) await sim.route(route.id).fault({ mode: 'up' });
        }
        for (const source of views()) engine.checkNow(source.id);
        const offBest = () => views().filter((s) => !onBestRoute(s));
        await waitUntil(() => offBest().length === 0, {
          what: 'every source on its best route',
          timeoutMs,
          intervalMs: 200,
          detail: () => `not on their best route: ${offBest().map((s) => `${s.name} ${s.status} ${s.route?.kind ?? ''}`).join(', ')}`,
        });
      },
      dropConnections: () => runtime.app.server.closeAllConnections(),
      close,
    };
    await under.restoreAll(30_000);
    return under;
  } catch (error) {
    await close();
    throw error;
  }
}

// ---------------------------------------------------------------- browser

/**
 * One toast as the user saw it: a DOM element, from creation to removal. Marquee rewrites a
 * source's toast in place (one slot per source, sonner id `source-<id>`), so a record is one NEW
 * toast, and `texts` is everything it said, in order.
 */
export interface ToastRecord {
  /** When it appeared. */
  at: number;
  /** What it says now (or said last). */
  text: string;
  /** sonner's data-type now (or last): success, warning, error, … */
  type: string | null;
  /** Every distinct text it showed, first = at creation. */
  texts: string[];
  /** data-testid: `source-<sourceId>` for a source's status toast, null for others. */
  testId: string | null;
}

export interface StatusRecord {
  at: number;
  testId: string;
  state: string | null;
  routeKind: string | null;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far (excluding allowed "Failed to load resource" lines). */
  consoleErrors: string[];
  /** Every toast ever created on the page, in order (sonner removes them after a few seconds). */
  toasts(): Promise<ToastRecord[]>;
  /** The toasts created for one source's status (its slot, `source-<sourceId>`). */
  sourceToasts(sourceId: string): Promise<ToastRecord[]>;
  /** Every data-state / data-route-kind value a status badge took, in order. */
  statusHistory(testId: string): Promise<StatusRecord[]>;
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Recorders installed before the app's scripts run: toasts are short-lived and states such as
 * "reconnecting" may last only a second, so the page remembers everything it showed.
 */
function installRecorders(): void {
  const w = window as unknown as { __mqToasts: ToastRecord[]; __mqStatus: StatusRecord[] };
  w.__mqToasts = [];
  w.__mqStatus = [];
  const toastRecords = new WeakMap<Element, ToastRecord>();
  const lastStatus = new Map<string, string>();
  const scan = () => {
    for (const el of document.querySelectorAll('[data-sonner-toast]')) {
      const text = el.textContent ?? '';
      const type = el.getAttribute('data-type');
      const record = toastRecords.get(el);
      if (!record) {
        const created: ToastRecord = { at: Date.now(), text, type, texts: [text], testId: el.getAttribute('data-testid') };
        toastRecords.set(el, created);
        w.__mqToasts.push(created);
        continue;
      }
      // Rewritten in place (the same element): an update, not a new toast.
      if (record.text !== text) {
        record.text = text;
        record.texts.push(text);
      }
      record.type = type;
    }
    for (const el of document.querySelectorAll('[data-testid^="source-status-"], [data-testid^="card-status-"]')) {
      const testId = el.getAttribute('data-testid') ?? '';
      const state = el.getAttribute('data-state');
      const routeKind = el.getAttribute('data-route-kind');
      const key = `${state}|${routeKind}`;
      if (lastStatus.get(testId) === key) continue;
      lastStatus.set(testId, key);
      w.__mqStatus.push({ at: Date.now(), testId, state, routeKind });
    }
  };
  new MutationObserver(scan).observe(document, {
    childList: true,
    subtree: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['data-state', 'data-route-kind', 'data-sonner-toast', 'data-type'],
  });
}

/**
 * One Chromium per test file, started by the file's first session: launching one costs ~1 s of
 * two busy cores, a new context ~0.2 s. Each session still gets a context of its own — its own
 * cookies, storage, cache and service workers, as a fresh profile had — so tests stay isolated.
 */
let fileBrowser: Promise<Browser> | undefined;

function browserForThisFile(): Promise<Browser> {
  fileBrowser ??= chromium.launch({ ...CHROMIUM_LAUNCH, args: [...CHROMIUM_LAUNCH.args], timeout: 30_000 }).then(
    (browser) => {
      // A Chromium that crashed or was closed is started again by the next session.
      browser.on('disconnected', () => {
        fileBrowser = undefined;
      });
      return browser;
    },
    (error: unknown) => {
      fileBrowser = undefined;
      throw error;
    },
  );
  return fileBrowser;
}

// Registered while the test file that imports this module is collected, so it is that file's
// last afterAll (after hooks run in reverse order): its sessions are closed by then.
afterAll(async () => {
  const browser = fileBrowser;
  fileBrowser = undefined;
  await (await browser?.catch(() => undefined))?.close();
});

export async function openBrowser(
  url: string,
  options: { toastWindowMs?: number; width?: number; /** Runs before the first page load, e.g. to answer some API paths with fixtures (`context.route`). */ beforeLoad?: (context: BrowserContext) => Promise<void> } = {},
): Promise<BrowserSession> {
  const context = await (await browserForThisFile()).newContext({
    viewport: { width: options.width ?? 1280, height: 860 },
    colorScheme: 'dark',
  });
  // Only loopback is ever reachable: anything else (e.g. a stray external link) is refused here
  // rather than leaving the machine.
  await context.route(/^https?:\/\/(?!127\.|localhost[:/]|\[::1\])/, (route) => route.abort('blockedbyclient'));
  await context.addInitScript(installRecorders);
  if (options.toastWindowMs !== undefined) {
    await context.addInitScript((ms) => window.localStorage.setItem('marquee:toastWindowMs', String(ms)), options.toastWindowMs);
  }
  if (options.beforeLoad) await options.beforeLoad(context);
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    consoleErrors,
    toasts: () => page.evaluate(() => (window as unknown as { __mqToasts: ToastRecord[] }).__mqToasts),
    sourceToasts: (sourceId) =>
      page.evaluate((id) => (window as unknown as { __mqToasts: ToastRecord[] }).__mqToasts.filter((t) => t.testId === id), sourceToastId(sourceId)),
    statusHistory: (testId) =>
      page.evaluate((id) => (window as unknown as { __mqStatus: StatusRecord[] }).__mqStatus.filter((r) => r.testId === id), testId),
    async screenshot(name) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
    },
  };
}

/** What a toast is about, from its words (src/web/lib/notifications.ts and live.ts). */
export function toastKind(text: string): string {
  if (text.includes('is unstable')) return 'unstable';
  if (text.includes('is now on a remote route')) return 'remote';
  if (text.includes('is now on a relay route')) return 'relay';
  if (text.includes('is back on its local route')) return 'local';
  if (text.includes('lost its connection')) return 'lost';
  if (text.includes('is back')) return 'restored';
  if (/^Sign in to .* again/.test(text)) return 'auth';
  if (text.includes(' added')) return 'added';
  return `other: ${text}`;
}

/**
 * Issues 5 and 7: at most one toast-worthy notification — one NEW toast — per source per window.
 * Returns the pairs of toasts created less than `windowMs` apart (none when the rule holds).
 */
export function toastsTooClose(toasts: ToastRecord[], windowMs: number): string[] {
  const close: string[] = [];
  for (let i = 1; i < toasts.length; i++) {
    if (toasts[i]!.at - toasts[i - 1]!.at < windowMs) close.push(`${JSON.stringify(toasts[i - 1]!.texts)} then ${JSON.stringify(toasts[i]!.texts)} ${toasts[i]!.at - toasts[i - 1]!.at} ms later`);
  }
  return close;
}
