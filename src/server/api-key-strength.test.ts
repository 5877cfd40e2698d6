import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { estimateKeyBits, MIN_API_KEY_BITS, weakKeyReason } from './api-key-strength.js';
import { ConfigError, loadConfig } from './config.js';

const WEAK_KEYS = [
  'aaaaaaaaaaaaaaaaaaaaaaaa', // one character repeated
  '0101010101010101010101', // two characters
  'abcabcabcabcabcabc', // a repeated block
  'abcdefghijklmnopqrstuvwx', // a sequence
  '0123456789012345',
  '1234567890abcdef',
  '2468024680246802', // a step
  'qwertyuiopasdfghjkl', // keyboard rows
  'password12345678', // a dictionary word and a sequence
  'PasswordPassword',
  'correcthorsebatterystaple', // words
  'MyMarqueeServerKey',
  'marquee-api-key-123',
  'test-api-key-1234567890',
  'APIKEY-0123456789abcdef',
  'file-secret-0123456789',
  '9999999999999999999999999999', // short alphabet
];

describe('API key strength', () => {
  it.each(WEAK_KEYS)('refuses %s', (key) => {
    expect(estimateKeyBits(key)).toBeLessThan(MIN_API_KEY_BITS);
    expect(weakKeyReason(key)).toContain('openssl rand -hex 24');
  });

  it('accepts every key that `openssl rand -hex 24` or `openssl rand -base64 24` makes (10,000 of each)', () => {
    const refused: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      for (const key of [randomBytes(24).toString('hex'), randomBytes(24).toString('base64'), randomBytes(24).toString('base64url')]) {
        if (weakKeyReason(key) !== null) refused.push(key);
      }
    }
    expect(refused).toEqual([]);
  });

  it('refuses a weak key at start with a message that says how to make one, without the key', () => {
    let message = '';
    try {
      loadConfig(['--host', '0.0.0.0'], { MARQUEE_API_KEY: 'password12345678' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration: the API key is too easy to guess \(about \d+ bits/);
    expect(message).toContain('`openssl rand -hex 24`');
    expect(message).not.toContain('password12345678');
    const strong = randomBytes(24).toString('base64');
    expect(loadConfig(['--host', '0.0.0.0'], { MARQUEE_API_KEY: strong }).apiKey).toBe(strong);
  });
});
