// One Marquee per data dir (issue 11): the lock is refused while held, names the holder's pid and
// the data dir, is free again after close(), and leaves the database alone when refused. The real
// two-process case and kill -9 are in test/process/data-dir-lock.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME, openDatabase, StoreOpenError, type Store } from './index.js';
import { PID_FILE_NAME, lockDataDir } from './data-dir-lock.js';
import { silentLogger } from './logger.js';

const dirs: string[] = [];
const stores: Store[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'marquee-lock-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the data dir lock', () => {
  it('a second open of a locked data dir is refused with the holder pid and the dir in words', () => {
    const dataDir = freshDir();
    stores.push(openDatabase({ dataDir, lockDataDir: true }));
    expect(JSON.parse(readFileSync(join(dataDir, PID_FILE_NAME), 'utf8'))).toMatchObject({ pid: process.pid });

    let refused: unknown;
    try {
      stores.push(openDatabase({ dataDir, lockDataDir: true }));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StoreOpenError);
    expect((refused as StoreOpenError).code).toBe('locked');
    expect((refused as Error).message).toContain(`pid ${process.pid}`);
    expect((refused as Error).message).toContain(dataDir);
    expect((refused as Error).message).toMatch(/already using the data directory/);
  });

  it('close() releases the lock and removes its own pid file; the next open gets it', () => {
    const dataDir = freshDir();
    const first = openDatabase({ dataDir, lockDataDir: true });
    first.sources.list();
    first.close();
    expect(existsSync(join(dataDir, PID_FILE_NAME))).toBe(false);
    const second = openDatabase({ dataDir, lockDataDir: true });
    stores.push(second);
    expect(second.sources.list()).toEqual([]);
  });

  it('without a pid file the message still names the data dir', () => {
    const dataDir = freshDir();
    const held = lockDataDir(dataDir, silentLogger);
    rmSync(join(dataDir, PID_FILE_NAME));
    try {
      expect(() => lockDataDir(dataDir, silentLogger)).toThrow(/Another Marquee process is already using the data directory .*marquee-lock-.*pid is not known/);
    } finally {
      held.release();
    }
  });

  it('a refused open touches nothing: no database file is created', () => {
    const dataDir = freshDir();
    const held = lockDataDir(dataDir, silentLogger);
    try {
      expect(() => openDatabase({ dataDir, lockDataDir: true })).toThrow(StoreOpenError);
      expect(existsSync(join(dataDir, DATABASE_FILE_NAME))).toBe(false);
    } finally {
      held.release();
    }
  });

  it('stores opened without the option (tools, tests) are not locked out', () => {
    const dataDir = freshDir();
    stores.push(openDatabase({ dataDir, lockDataDir: true }));
    const reader = openDatabase({ dataDir });
    stores.push(reader);
    expect(reader.sources.list()).toEqual([]);
  });
});
