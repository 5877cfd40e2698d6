import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'marquee-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(argv: string[], env: Record<string, string>): string {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('has safe defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({ port: 8844, host: '127.0.0.1', apiKey: null, basePath: '/', publicOrigin: null, plexTvUrl: 'https://plex.tv', logLevel: 'info', sseHeartbeatMs: 15000 });
    expect(c.dataDir).toBe(resolve('data'));
  });

  it('reads flags before env', () => {
    const c = loadConfig(['--port', '9000', '--host=localhost', '--data-dir', dir, '--log-level', 'debug'], {
      MARQUEE_PORT: '1234',
      MARQUEE_HOST: '127.0.0.5',
      MARQUEE_BASE_URL: '/marquee',
      MARQUEE_PLEX_TV_URL: 'http://127.0.0.9:4000/',
    });
    expect(c).toMatchObject({ port: 9000, host: 'localhost', dataDir: dir, logLevel: 'debug', basePath: '/marquee/', plexTvUrl: 'http://127.0.0.9:4000' });
    expect(loadConfig([], { MARQUEE_PORT: '1234', LOG_LEVEL: 'WARN' })).toMatchObject({ port: 1234, logLevel: 'warn' });
  });

  it('rejects a bad port, log level or plex.tv URL with the setting named', () => {
    expect(configError(['--port', 'abc'], {})).toBe('Invalid configuration:\n  --port / MARQUEE_PORT: must be a whole number between 0 and 65535 (got "abc")');
    expect(configError([], { MARQUEE_PORT: '70000' })).toContain('--port / MARQUEE_PORT: must be between 0 and 65535 (got "70000")');
    expect(configError([], { LOG_LEVEL: 'loud' })).toContain('--log-level / LOG_LEVEL: must be one of');
    expect(configError([], { MARQUEE_PLEX_TV_URL: 'plex.tv' })).toContain('MARQUEE_PLEX_TV_URL: must be an http(s) URL');
    expect(configError(['--bogus'], {})).toMatch(/^Invalid command line: Unknown option '--bogus'/);
  });

  it('refuses a non-loopback bind without an API key, with a clear message', () => {
    const message = configError(['--host', '0.0.0.0'], {});
    expect(message).toBe(
      'Refusing to start: binding to 0.0.0.0 exposes Marquee beyond this machine, but no API key is set. ' +
        'Set MARQUEE_API_KEY (or MARQUEE_API_KEY_FILE) to a long random secret, or bind to 127.0.0.1.',
    );
    expect(configError([], { MARQUEE_HOST: '192.168.1.10' })).toMatch(/^Refusing to start/);
    expect(loadConfig(['--host', '0.0.0.0'], { MARQUEE_API_KEY: '5c0f9e2a7b14d8e3c6a9f1b04d7e2c85' }).apiKey).toBe('5c0f9e2a7b14d8e3c6a9f1b04d7e2c85');
  });

  it('reads the API key from a file, trimmed, and never prints it', () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'Zq4vN8wT2kLx9RbJ7mHc3FsY\n');
    expect(loadConfig(['--host', '0.0.0.0'], { MARQUEE_API_KEY_FILE: file }).apiKey).toBe('Zq4vN8wT2kLx9RbJ7mHc3FsY');
    expect(configError([], { MARQUEE_API_KEY_FILE: join(dir, 'missing') })).toBe(
      `Invalid configuration: cannot read MARQUEE_API_KEY_FILE "${join(dir, 'missing')}" (ENOENT).`,
    );
    expect(configError([], { MARQUEE_API_KEY_FILE: file, MARQUEE_API_KEY: 'b7e1c94a2f6d08e3a5c7' })).toContain('not both');
    const short = configError([], { MARQUEE_API_KEY: 'short-key' });
    expect(short).toContain('at least 16 characters');
    expect(short).not.toContain('short-key');
  });

  it('normalises the base URL, path or full URL', () => {
    expect(loadConfig([], { MARQUEE_BASE_URL: 'marquee/' })).toMatchObject({ basePath: '/marquee/', publicOrigin: null });
    expect(loadConfig([], { MARQUEE_BASE_URL: 'https://media.example.com/apps/marquee' })).toMatchObject({
      basePath: '/apps/marquee/',
      publicOrigin: 'https://media.example.com',
    });
    expect(configError([], { MARQUEE_BASE_URL: '/a/../b' })).toContain('must be a plain path');
    expect(configError([], { MARQUEE_BASE_URL: 'ftp://x/y' })).toContain('http(s) URL or a path');
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'marquee.lan', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('the settings file (--settings / MARQUEE_SETTINGS_FILE)', () => {
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('defaults without one; a file overrides only what it names, flag before env', () => {
    const plain = loadConfig([], {});
    expect(plain.monitor.backoff).toMatchObject({ initialMs: 1000, recentCapMs: 4500, capMs: 30_000 });
    expect(plain.push).toMatchObject({ enabled: true, pingIntervalMs: 1000, pongTimeoutMs: 2000 });
    const custom = file('custom.json', JSON.stringify({ monitor: { baseTickMs: 20_000, backoff: { recentCapMs: 6000 } }, push: { pingIntervalMs: 2000, pongTimeoutMs: 4000 } }));
    const c = loadConfig(['--settings', custom], { MARQUEE_SETTINGS_FILE: file('other.json', '{"push":{"enabled":false}}') });
    expect(c.monitor).toMatchObject({ baseTickMs: 20_000, probeTimeoutMs: 5000, backoff: { recentCapMs: 6000, capMs: 30_000 } });
    expect(c.push).toMatchObject({ enabled: true, pingIntervalMs: 2000, pongTimeoutMs: 4000, suspectMinMs: 250 });
    expect(loadConfig([], { MARQUEE_SETTINGS_FILE: join(dir, 'other.json') }).push.enabled).toBe(false);
  });

  it('names the bad field: a misspelt key, a wrong type, an impossible combination', () => {
    expect(configError(['--settings', file('typo.json', '{"monitor":{"baseTick":5000}}')], {})).toMatch(/in settings file ".*typo\.json":\n  monitor: .*baseTick/);
    expect(configError(['--settings', file('type.json', '{"push":{"pingIntervalMs":"1s"}}')], {})).toContain('push.pingIntervalMs:');
    expect(configError(['--settings', file('cap.json', '{"monitor":{"backoff":{"initialMs":5000,"capMs":1000}}}')], {})).toContain('backoff.capMs must be >= backoff.initialMs');
    expect(configError(['--settings', file('pong.json', '{"push":{"pongTimeoutMs":1000,"suspectMinMs":1000}}')], {})).toContain('push.pongTimeoutMs must be greater than push.suspectMinMs');
    // Absurd values stop the start with the field and its range named (issue 11).
    expect(configError(['--settings', file('tick.json', '{"monitor":{"baseTickMs":1}}')], {})).toContain('monitor.baseTickMs: must be at least 1000 ms');
    expect(configError(['--settings', file('rate.json', '{"monitor":{"maxLightChecksPerS":1e-300}}')], {})).toContain('monitor.maxLightChecksPerS: must be at least 1 per second');
    expect(configError(['--settings', file('ping.json', '{"push":{"pingIntervalMs":10}}')], {})).toContain('push.pingIntervalMs: must be at least 250 ms');
    expect(configError(['--settings', file('top.json', '{"monitr":{}}')], {})).toContain('monitr');
  });

  it('reads the notifications section (hold-down, fallback minutes, rate limit) with its ranges', () => {
    expect(loadConfig([], {}).notifications).toMatchObject({ holdDownMs: 30_000, fallbackAfterMs: 600_000, windowMs: 60_000, ratePerMinute: 20, retryCapMs: 60_000 });
    const custom = file('notify.json', JSON.stringify({ notifications: { holdDownMs: 5_000, fallbackAfterMs: 120_000, ratePerMinute: 5 } }));
    expect(loadConfig(['--settings', custom], {}).notifications).toMatchObject({ holdDownMs: 5_000, fallbackAfterMs: 120_000, ratePerMinute: 5, timeoutMs: 10_000 });
    expect(configError(['--settings', file('hold.json', '{"notifications":{"holdDownMs":7200000}}')], {})).toContain('notifications.holdDownMs: must be at most 3600000 ms');
    expect(configError(['--settings', file('ntypo.json', '{"notifications":{"holdDown":1}}')], {})).toContain('holdDown');
  });

  it('refuses a file that is missing, not JSON, or too large, in plain words', () => {
    expect(configError(['--settings', join(dir, 'missing.json')], {})).toMatch(/cannot read settings file ".*missing\.json" \(ENOENT\)/);
    expect(configError(['--settings', file('bad.json', '{"monitor": ')], {})).toMatch(/is not valid JSON/);
    expect(configError(['--settings', file('array.json', '[]')], {})).toContain('(top level)');
    expect(configError(['--settings', file('huge.json', `{"monitor":{},"x":"${'a'.repeat(70_000)}"}`)], {})).toMatch(/larger than 64 KB/);
  });
});
