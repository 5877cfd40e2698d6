// One Marquee per data dir (issue 11): two real `marquee serve` on one data directory. The second
// must exit non-zero at once, naming the first one's pid and the directory; the first keeps
// serving. After a kill -9 of the first (no shutdown code runs) the kernel has dropped the lock and
// a new one starts on the same directory immediately.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess, startApp } from '../support/app-process.js';

describe('two marquee serve on one data dir', () => {
  const work = mkdtempSync(join(tmpdir(), 'marquee-lock-process-'));
  const dataDir = join(work, 'data');
  const apps: AppProcess[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.kill9()));
    rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('the second exits non-zero naming the holder pid and the dir; after SIGKILL of the first a new one starts', { timeout: 90_000 }, async () => {
    const first = await startApp({ dataDir, name: 'marquee (first)' }, (app) => apps.push(app));

    const second = new AppProcess({ dataDir, name: 'marquee (second)' });
    apps.push(second);
    const exit = await second.waitForExit(30_000);
    expect(exit.code, second.tail()).not.toBe(0);
    expect(exit.code).not.toBeNull();
    // The plain sentence on stderr, and the same words in the fatal log line.
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toContain(dataDir);
    expect(second.stderr).toMatch(/already using the data directory/);
    const fatal = second.stdout.split('\n').filter((line) => line.includes('"level":60'));
    expect(fatal.join('\n')).toContain(`pid ${first.pid}`);
    expect(second.stdout).not.toContain('Marquee is listening on');

    // The first was not disturbed.
    expect((await first.request('GET', 'healthz')).status).toBe(200);

    expect(await first.kill9()).toEqual({ code: null, signal: 'SIGKILL' });
    const third = await startApp({ dataDir, name: 'marquee (after kill -9)' }, (app) => apps.push(app));
    expect((await third.request('GET', 'healthz')).status).toBe(200);
    expect((await third.stop()).code).toBe(0);
  });
});
