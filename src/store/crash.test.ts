// kill -9 during heavy writes must leave an intact database with every source and credential.
// (The 20-times version with the whole app lives in the crash suite; this is the store alone.)
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE_NAME, openDatabase } from './database.js';
import { makeTempDir, recordingLogger, sampleSource, tsxLoaderUrl } from '../../test/support/store.js';

const CYCLES = 5;
const writer = join(import.meta.dirname, '../../test/support/store-crash-writer.ts');
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

/** Starts the writer, waits until it is writing, SIGKILLs it after `delayMs`. */
function runAndKill(dataDir: string, delayMs: number): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoaderUrl(), writer, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer never became ready: ${stderr}`));
    }, 20_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (killTimer === undefined && d.toString().includes('ready')) killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (killTimer) clearTimeout(killTimer);
      resolve({ signal, stderr });
    });
    child.on('error', reject);
  });
}

describe('kill -9 during heavy writes', () => {
  it(`leaves an intact database with every source and credential, ${CYCLES} times`, { timeout: 120_000 }, async () => {
    const t = makeTempDir();
    cleanups.push(t.remove);
    const seed = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0 });
    const seeded = [1, 2, 3].map((n) => seed.sources.create(sampleSource(n)));
    seed.close();

    let lastSeq = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const delayMs = 30 + Math.floor(Math.random() * 300);
      const { signal, stderr } = await runAndKill(t.dir, delayMs);
      expect(signal, `writer died by itself in cycle ${cycle}: ${stderr}`).toBe('SIGKILL');
      // Killed mid-flight: the WAL holds committed work that no checkpoint has merged yet.
      const wal = join(t.dir, `${DATABASE_FILE_NAME}-wal`);
      expect(existsSync(wal) && statSync(wal).size > 0).toBe(true);

      const logger = recordingLogger();
      const store = openDatabase({ dataDir: t.dir, maintenanceIntervalMs: 0, logger });
      try {
        expect(store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(store.sqlite.pragma('foreign_key_check')).toEqual([]);
        const sources = store.sources.list();
        for (const s of seeded) expect(sources.find((x) => x.id === s.id)).toEqual(s);
        for (const s of sources) {
          expect(s.routes.length, `routes of ${s.id}`).toBeGreaterThan(0);
          expect(store.credentials.get(s.credentialRef), `credentials of ${s.id}`).not.toBeNull();
        }
        expect(store.sqlite.prepare('SELECT count(*) FROM credentials').pluck().get()).toBe(sources.length);
        expect(store.status.loadAll().length).toBeGreaterThan(0);
        // The writer made progress this cycle, and seqs stay increasing and gap-free on disk.
        const seq = store.events.latestSeq();
        expect(seq).toBeGreaterThan(lastSeq);
        lastSeq = seq;
        // Read the rows directly: retention (newest 10,000, pruned at open) may have dropped the
        // oldest, and since(0) then rightly answers "resync" (null) instead of a partial list.
        const seqs = store.sqlite.prepare('SELECT seq FROM events ORDER BY seq').pluck().all() as number[];
        expect(seqs.length).toBeGreaterThan(0);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
        expect(logger.lines.filter((l) => l.level !== 'info')).toEqual([]);
      } finally {
        store.close();
      }
    }
  });
});
