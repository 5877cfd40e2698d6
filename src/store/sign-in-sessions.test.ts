// Sign-ins in progress in SQLite (issue 13 item 4): they survive closing and reopening the store,
// expire, are pruned, stay bounded, and keep their secrets in the secret column only.
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Store } from './database.js';
import { MAX_SIGN_IN_SESSIONS, type PlexPinSession, type QuickConnectSession } from './repos/sign-in-sessions-repo.js';
import { makeTempDir, recordingLogger } from '../../test/support/store.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

let clock = 1_800_000_000_000;
function openAt(dir: string, logger = recordingLogger()): Store {
  const store = openDatabase({ dataDir: dir, maintenanceIntervalMs: 0, now: () => clock, logger });
  cleanups.push(() => store.close());
  return store;
}
function tempDir(): string {
  const t = makeTempDir();
  cleanups.push(t.remove);
  return t.dir;
}

const ACCOUNT_TOKEN = 'acct-token-5d1e0c9b7a3f2e81';
const SERVER_TOKEN = 'server-token-9f8e7d6c5b4a3921';
const QC_SECRET = 'qc-secret-0a1b2c3d4e5f60718293';
const JELLYFIN_TOKEN = 'jf-token-77aa66bb55cc44dd33ee';

const authorizedPin = (pinId: number, expiresAt: number): PlexPinSession => ({
  pinId,
  expiresAt,
  accountToken: ACCOUNT_TOKEN,
  servers: [
    {
      serverId: 'a'.repeat(40),
      name: 'Living-room Plex',
      owned: true,
      presence: true,
      routes: [{ url: 'http://192.168.1.20:32400', kind: 'local', priority: 0, origin: 'plex.tv' }],
      refusedRoutes: [{ url: 'http://169.254.1.1:32400', reason: 'link-local' }],
      credentials: { token: SERVER_TOKEN, accountToken: ACCOUNT_TOKEN },
    },
  ],
});

const approvedQuickConnect = (handle: string, expiresAt: number): QuickConnectSession => ({
  handle,
  url: 'http://127.0.0.5:8096',
  code: '123456',
  secret: QC_SECRET,
  expiresAt,
  result: {
    serverId: 'b'.repeat(32),
    serverName: 'Attic Jellyfin',
    userName: 'alice',
    routes: [{ url: 'http://127.0.0.5:8096', kind: 'local', priority: 0 }],
    credentials: { token: JELLYFIN_TOKEN, userId: 'u1', deviceId: 'd1' },
  },
});

describe('SignInSessionsRepo', () => {
  it('keeps a pending and an authorized Plex PIN across a close and reopen', () => {
    const dir = tempDir();
    const first = openAt(dir);
    first.signIns.putPlexPin({ pinId: 7, expiresAt: clock + 60_000 });
    first.signIns.putPlexPin(authorizedPin(8, clock + 60_000));
    first.close();
    const second = openAt(dir);
    expect(second.signIns.getPlexPin(7, clock)).toEqual({ pinId: 7, expiresAt: clock + 60_000 });
    expect(second.signIns.getPlexPin(8, clock)).toEqual(authorizedPin(8, clock + 60_000));
    expect(second.signIns.getPlexPin(9, clock)).toBeNull();
  });

  it('keeps a pending and an approved Quick Connect request across a close and reopen', () => {
    const dir = tempDir();
    const first = openAt(dir);
    const pending: QuickConnectSession = { handle: 'h-pending', url: 'http://127.0.0.5:8096', code: '654321', secret: QC_SECRET, expiresAt: clock + 60_000 };
    first.signIns.putQuickConnect(pending);
    first.signIns.putQuickConnect(approvedQuickConnect('h-approved', clock + 60_000));
    first.close();
    const second = openAt(dir);
    expect(second.signIns.getQuickConnect('h-pending', clock)).toEqual(pending);
    expect(second.signIns.getQuickConnect('h-approved', clock)).toEqual(approvedQuickConnect('h-approved', clock + 60_000));
    expect(second.signIns.getQuickConnect('h-unknown', clock)).toBeNull();
  });

  it('answers nothing for a session at or past its expiry, and prunes expired rows', () => {
    const store = openAt(tempDir());
    store.signIns.putPlexPin({ pinId: 1, expiresAt: clock + 1000 });
    store.signIns.putQuickConnect(approvedQuickConnect('h1', clock + 5000));
    expect(store.signIns.getPlexPin(1, clock + 999)).not.toBeNull();
    expect(store.signIns.getPlexPin(1, clock + 1000)).toBeNull();
    expect(store.signIns.getQuickConnect('h1', clock + 4999)).not.toBeNull();
    expect(store.signIns.getQuickConnect('h1', clock + 5000)).toBeNull();

    const rows = () => store.sqlite.prepare('SELECT count(*) FROM sign_in_sessions').pluck().get() as number;
    expect(rows()).toBe(2);
    expect(store.signIns.pruneExpired(clock + 1000)).toBe(1);
    expect(rows()).toBe(1);
    // The store's retention run prunes them too (startup and every maintenance period).
    clock += 10_000;
    expect(store.prune().signIns).toBe(1);
    expect(rows()).toBe(0);
  });

  it('drops expired sessions on every write, so they never pile up', () => {
    const store = openAt(tempDir());
    store.signIns.putPlexPin({ pinId: 1, expiresAt: clock + 1000 });
    clock += 2000;
    store.signIns.putPlexPin({ pinId: 2, expiresAt: clock + 1000 });
    expect(store.sqlite.prepare('SELECT key FROM sign_in_sessions').pluck().all()).toEqual(['2']);
  });

  it(`keeps at most ${MAX_SIGN_IN_SESSIONS} of each kind, evicting the oldest`, () => {
    const store = openAt(tempDir());
    for (let i = 0; i < MAX_SIGN_IN_SESSIONS + 5; i++) {
      clock += 1;
      store.signIns.putPlexPin({ pinId: i, expiresAt: clock + 600_000 });
    }
    store.signIns.putQuickConnect(approvedQuickConnect('h', clock + 600_000));
    const count = (kind: string) => store.sqlite.prepare('SELECT count(*) FROM sign_in_sessions WHERE kind = ?').pluck().get(kind) as number;
    expect(count('plex_pin')).toBe(MAX_SIGN_IN_SESSIONS);
    expect(count('quick_connect')).toBe(1);
    expect(store.signIns.getPlexPin(0, clock)).toBeNull();
    expect(store.signIns.getPlexPin(4, clock)).toBeNull();
    expect(store.signIns.getPlexPin(5, clock)).not.toBeNull();
  });

  it('stores the secrets only in the secret column, and never logs them when a row is unreadable', () => {
    const logger = recordingLogger();
    const store = openAt(tempDir(), logger);
    store.signIns.putPlexPin(authorizedPin(8, clock + 60_000));
    store.signIns.putQuickConnect(approvedQuickConnect('h1', clock + 60_000));
    const rows = store.sqlite.prepare('SELECT kind, key, state, secret FROM sign_in_sessions').all() as Array<Record<string, string>>;
    const secrets = [ACCOUNT_TOKEN, SERVER_TOKEN, QC_SECRET, JELLYFIN_TOKEN];
    const publicText = rows.map((r) => `${r.kind} ${r.key} ${r.state}`).join('\n');
    const secretText = rows.map((r) => r.secret).join('\n');
    for (const secret of secrets) {
      expect(publicText).not.toContain(secret);
      expect(secretText).toContain(secret);
    }
    expect(publicText).toContain('Living-room Plex');

    // A damaged secret column: the session is skipped with a warning that names no value.
    store.sqlite.prepare("UPDATE sign_in_sessions SET secret = json_set(secret, '$.secret', 42) WHERE kind = 'quick_connect'").run();
    expect(store.signIns.getQuickConnect('h1', clock)).toBeNull();
    const logged = JSON.stringify(logger.lines);
    expect(logged).toContain('skipping unreadable sign-in row');
    for (const secret of [...secrets, 'h1']) expect(logged).not.toContain(secret);
  });
});
