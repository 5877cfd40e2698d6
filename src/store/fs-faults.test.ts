// Real storage faults, not simulated ones: each scenario runs in a child inside a private mount
// namespace (`unshare -m`, needs root) on a tiny tmpfs, so ENOSPC and EROFS come from the kernel.
// Where the namespace cannot be made, this fails loudly rather than silently passing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tsxLoaderUrl } from '../../test/support/store.js';

const runner = join(import.meta.dirname, '../../test/support/store-fs-fault-runner.ts');

function runScenario(scenario: string): Record<string, any> {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-fsfault-'));
  try {
    const result = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, '--import', tsxLoaderUrl(), runner, scenario, dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.error) throw new Error(`cannot run unshare (root and util-linux are required): ${result.error.message}`);
    const line = result.stdout.trim().split('\n').pop() ?? '';
    if (result.status !== 0 || !line.startsWith('{')) throw new Error(`scenario ${scenario} failed (exit ${result.status}): ${result.stderr}`);
    return JSON.parse(line) as Record<string, any>;
  } finally {
    rmdirSync(dir); // the tmpfs lived only in the child's namespace
  }
}

describe('real file-system faults (tmpfs in a private mount namespace)', () => {
  it('full disk: degraded with a plain reason, monitor writes never throw, all lands after space returns', { timeout: 60_000 }, () => {
    const r = runScenario('full');
    expect(r.degraded.state).toBe('degraded');
    expect(r.degraded.code).toMatch(/^SQLITE_FULL|^SQLITE_IOERR/);
    expect(r.degraded.detail).toMatch(/full|input\/output/);
    expect(r.threw).toBe(0);
    expect(r.configWrite).toMatch(/^refused: Cannot save the change/);
    expect(r.recovered).toBe(true);
    expect(r.after).toEqual({ state: 'ok' });
    expect(r.lastStatus).toEqual(r.expectedLastStatus);
    expect(r.integrity).toBe('ok');
  });

  it.each(['readonly-start', 'readonly-start-wal'])('read-only data dir at startup (%s): serves the last saved state degraded, recovers when writable', { timeout: 60_000 }, (scenario) => {
    const r = runScenario(scenario);
    // -wal: the last stop could not leave a plain rollback-journal file (its disk was full), so
    // SQLite opens the database as if writable and only the first write would fail.
    if (scenario === 'readonly-start-wal') expect(r.walLeftBehind).toBe(true);
    expect(r.degraded.state).toBe('degraded');
    expect(r.degraded.detail).toMatch(/read-only/);
    expect(r.sources).toEqual(r.expectedSources);
    expect(r.credentialsReadable).toBe(true);
    expect(r.lastStatus).toMatchObject({ state: 'connected', latencyMs: 1 });
    expect(r.threw).toBe(0);
    expect(r.configWrite).toMatch(/^refused: .*read-only/);
    expect(r.stillReadOnly).toBe(false);
    expect(r.recovered).toBe(true);
    expect(r.after).toEqual({ state: 'ok' });
    // The writes made while read-only were kept in memory and landed after recovery.
    expect(r.statusAfter).toMatchObject({ state: 'connected', latencyMs: 2 });
    expect(r.historyAfter).toBe(1);
    expect(r.eventsAfter).toBe(1);
    expect(r.journalMode).toBe('wal');
  });

  it('read-only data dir without a database: a clear error, no stack', { timeout: 60_000 }, () => {
    const r = runScenario('readonly-empty');
    expect(r.error).toEqual({ code: 'read_only', message: expect.stringMatching(/^Cannot create the database .*read-only/) });
  });
});
