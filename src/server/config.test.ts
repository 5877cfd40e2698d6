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
    expect(loadConfig(['--host', '0.0.0.0'], { MARQUEE_API_KEY: 'k'.repeat(24) }).apiKey).toBe('k'.repeat(24));
  });

  it('reads the API key from a file, trimmed, and never prints it', () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'file-secret-0123456789\n');
    expect(loadConfig(['--host', '0.0.0.0'], { MARQUEE_API_KEY_FILE: file }).apiKey).toBe('file-secret-0123456789');
    expect(configError([], { MARQUEE_API_KEY_FILE: join(dir, 'missing') })).toBe(
      `Invalid configuration: cannot read MARQUEE_API_KEY_FILE "${join(dir, 'missing')}" (ENOENT).`,
    );
    expect(configError([], { MARQUEE_API_KEY_FILE: file, MARQUEE_API_KEY: 'x'.repeat(20) })).toContain('not both');
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
