import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTargetUrl, redactTargetUrl, SUPPORTED_SCHEMES, targetSecrets, type NotificationTarget } from './notification-targets.js';

const TG_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const PO_USER = 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG';
const PO_TOKEN = 'azGDORePK8gMaC0QOYAMyEEuzJnyUi';

function parsed(url: string): NotificationTarget {
  const result = parseTargetUrl(url);
  if (!result.ok) throw new Error(`expected ${url} to parse, got: ${result.message}`);
  return result.target;
}

describe('parseTargetUrl: valid Apprise URLs', () => {
  const cases: Array<[string, NotificationTarget]> = [
    ['json://127.0.0.1:8080/hooks/marquee', { service: 'webhook', url: 'http://127.0.0.1:8080/hooks/marquee', headers: {} }],
    [
      'jsons://bob:pa%3Ass@hooks.example.org/in?secret=0123456789abcdef&+X-Team=ops&keep=1',
      { service: 'webhook', url: 'https://hooks.example.org/in?keep=1', secret: '0123456789abcdef', basicAuth: { user: 'bob', password: 'pa:ss' }, headers: { 'X-Team': 'ops' } },
    ],
    ['ntfy://alerts', { service: 'ntfy', baseUrl: null, topic: 'alerts', tags: [] }],
    [
      'ntfys://me:secretpw@ntfy.example.org:8443/plex-alerts?priority=high&tags=warning,tv',
      { service: 'ntfy', baseUrl: 'https://ntfy.example.org:8443', topic: 'plex-alerts', priority: 4, tags: ['warning', 'tv'], auth: { kind: 'basic', user: 'me', password: 'secretpw' } },
    ],
    ['ntfy://tk_abcdef123@10.0.0.5/alerts?priority=5', { service: 'ntfy', baseUrl: 'http://10.0.0.5', topic: 'alerts', priority: 5, tags: [], auth: { kind: 'token', token: 'tk_abcdef123' } }],
    ['ntfy://host.lan/t?token=tk_zz9', { service: 'ntfy', baseUrl: 'http://host.lan', topic: 't', tags: [], auth: { kind: 'token', token: 'tk_zz9' } }],
    ['gotify://gotify.lan/AzyoeNS.D4iJLVa', { service: 'gotify', baseUrl: 'http://gotify.lan', token: 'AzyoeNS.D4iJLVa', priority: 5 }],
    ['gotifys://example.com:8443/sub/path/AbCdEf123?priority=high', { service: 'gotify', baseUrl: 'https://example.com:8443/sub/path', token: 'AbCdEf123', priority: 8 }],
    ['gotify://g.lan/tok123?priority=0', { service: 'gotify', baseUrl: 'http://g.lan', token: 'tok123', priority: 0 }],
    ['discord://123456789012345678/AbC-def_GhI', { service: 'discord', webhookId: '123456789012345678', webhookToken: 'AbC-def_GhI' }],
    ['discord://Marquee@123456789012345678/AbC-def_GhI', { service: 'discord', webhookId: '123456789012345678', webhookToken: 'AbC-def_GhI', username: 'Marquee' }],
    ['slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ', { service: 'slack', tokenA: 'T1JJ3T3L2', tokenB: 'A1BRTD4JD', tokenC: 'TIiajkdnlazkcOXrIdevi7FQ' }],
    ['slack://bot@T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ', { service: 'slack', tokenA: 'T1JJ3T3L2', tokenB: 'A1BRTD4JD', tokenC: 'TIiajkdnlazkcOXrIdevi7FQ', username: 'bot' }],
    [`tgram://${TG_TOKEN}/-1001234567`, { service: 'telegram', botToken: TG_TOKEN, chatIds: ['-1001234567'] }],
    [`tgram://${TG_TOKEN}/12345/@mychannel`, { service: 'telegram', botToken: TG_TOKEN, chatIds: ['12345', '@mychannel'] }],
    ['mailto://alice:pw@mail.example.org', { service: 'email', host: 'mail.example.org', port: 25, security: 'plain', user: 'alice', password: 'pw', from: 'alice@mail.example.org', to: ['alice@mail.example.org'] }],
    [
      'mailtos://alice:pw@example.org?smtp=smtp.example.org&to=bob@example.org,carol@example.org&from=marquee@example.org',
      { service: 'email', host: 'smtp.example.org', port: 587, security: 'starttls', user: 'alice', password: 'pw', from: 'marquee@example.org', to: ['bob@example.org', 'carol@example.org'] },
    ],
    ['mailtos://a:b@example.org:465', { service: 'email', host: 'example.org', port: 465, security: 'ssl', user: 'a', password: 'b', from: 'a@example.org', to: ['a@example.org'] }],
    ['mailtos://a:b@example.org:2465?mode=ssl', { service: 'email', host: 'example.org', port: 2465, security: 'ssl', user: 'a', password: 'b', from: 'a@example.org', to: ['a@example.org'] }],
    ['mailto://127.0.0.1:2525/ops@example.org?from=m@example.org', { service: 'email', host: '127.0.0.1', port: 2525, security: 'plain', from: 'm@example.org', to: ['ops@example.org'] }],
    [`pover://${PO_USER}@${PO_TOKEN}`, { service: 'pushover', userKey: PO_USER, token: PO_TOKEN, devices: [] }],
    [`pover://${PO_USER}@${PO_TOKEN}/phone?priority=high`, { service: 'pushover', userKey: PO_USER, token: PO_TOKEN, priority: 1, devices: ['phone'] }],
  ];
  it.each(cases)('%s', (url, expected) => {
    expect(parsed(url)).toEqual(expected);
  });

  it('keeps a webhook path\'s trailing slash (a receiver may redirect without it)', () => {
    expect(parsed('json://example.org/hooks/in/')).toMatchObject({ url: 'http://example.org/hooks/in/' });
  });

  it('accepts schemes in any case and IPv6 hosts', () => {
    expect(parsed('JSON://[::1]:9000/x')).toMatchObject({ service: 'webhook', url: 'http://[::1]:9000/x' });
  });
});

describe('parseTargetUrl: refusals in plain words, never echoing the URL', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['hooks.example.org/x', /must start with a scheme/],
    ['https://example.org/hook', /https:\/\/ is not supported — supported: json:\/\/, jsons:\/\/, ntfy:\/\/.*pover:\/\//],
    ['xmpp://user:SECRETPW@example.org', /xmpp:\/\/ is not supported/],
    ['json://', /needs a host name/],
    ['json://exa_mple.org/x', /host name is not valid/],
    ['json://example.org:0/x', /port must be a number from 1 to 65535/],
    ['json://example.org:70000/x', /port must be a number from 1 to 65535/],
    ['json://example.org:80a/x', /port must be a number/],
    ['json://example.org/x?method=GET', /POST/],
    ['json://example.org/x?secret=short', /at least 8 characters/],
    ['json://example.org/x?+Bad Header=1', /spaces/],
    ['json://example.org/x?+X-Name=caf%C3%A9', /printable ASCII/],
    ['json://example.org/x?+X-Name=a%0D%0AInjected:%201', /printable ASCII/],
    ['ntfys://ntfy.example.org/a/b', /exactly one topic/],
    ['ntfy://example.org/ok?priority=loud', /priority must be/],
    ['ntfy://example.org/bad topic!', /spaces|topic/],
    ['gotify://gotify.lan', /application token is missing/],
    ['gotify://gotify.lan/tok?priority=11', /priority must be/],
    ['discord://notanumber/token', /numeric webhook id/],
    ['discord://123456789012345678', /webhook token is missing/],
    ['slack://T1JJ3T3L2/A1BRTD4JD', /TokenA\/TokenB\/TokenC/],
    ['tgram://notatoken/123', /bot token/],
    [`tgram://${TG_TOKEN}`, /chat id is missing/],
    [`tgram://${TG_TOKEN}/not-a-chat`, /chat id must be/],
    ['mailto://mail.example.org', /sender is missing/],
    ['mailto://a:b@mail.example.org?mode=ssl', /only applies to mailtos/],
    ['mailtos://a:b@mail.example.org?mode=tls12', /mode must be ssl or starttls/],
    ['mailto://a:b@mail.example.org/not-an-address', /recipient is not an email address/],
    ['pover://onlyatoken', /USER_KEY@APP_TOKEN/],
    [`pover://${PO_USER}@${PO_TOKEN}?priority=2`, /emergency is not offered/],
    ['json://example.org/%zz', /broken %-escape/],
    [`json://example.org/${'a'.repeat(3000)}`, /longer than 2048/],
  ];
  it.each(cases)('%s', (url, expected) => {
    const result = parseTargetUrl(url);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toMatch(expected);
    expect(result.message).not.toContain('SECRETPW');
  });

  it('names every supported scheme', () => {
    const result = parseTargetUrl('foo://bar');
    expect(result.ok).toBe(false);
    for (const scheme of SUPPORTED_SCHEMES) expect(result.ok ? '' : result.message).toContain(`${scheme}://`);
  });
});

describe('redactTargetUrl', () => {
  const cases: Array<[string, string]> = [
    ['jsons://bob:hunter22@hooks.example.org/in?secret=0123456789abcdef&+Authorization=Bearer%20xyz&keep=1', 'jsons://bob:***@hooks.example.org/in?secret=***&%2BAuthorization=***&keep=1'],
    ['ntfys://me:secretpw@ntfy.example.org/alerts?priority=high', 'ntfys://me:***@ntfy.example.org/alerts?priority=high'],
    ['ntfy://tk_abcdef123@ntfy.lan/alerts', 'ntfy://***@ntfy.lan/alerts'],
    ['ntfy://ntfy.lan/alerts?token=tk_abcdef123', 'ntfy://ntfy.lan/alerts?token=***'],
    ['gotify://gotify.lan/sub/AzyoeNS.D4iJLVa?priority=8', 'gotify://gotify.lan/sub/***?priority=8'],
    ['discord://Bot@123456789012345678/AbC-def_GhI', 'discord://Bot@123456789012345678/***'],
    ['slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ', 'slack://T1JJ3T3L2/***/***'],
    [`tgram://${TG_TOKEN}/-1001234567`, 'tgram://***/-1001234567'],
    ['mailtos://alice:pw0rd@example.org?to=bob@example.org', 'mailtos://alice:***@example.org?to=bob%40example.org'],
    ['mailto://example.org?user=alice&pass=pw0rd', 'mailto://example.org?user=alice&pass=***'],
    [`pover://${PO_USER}@${PO_TOKEN}/phone`, `pover://${PO_USER}@***/phone`],
    ['xmpp://user:pw@host/secretpath', 'xmpp://***'],
    ['not a url at all with pw', '***'],
  ];
  it.each(cases)('%s', (url, expected) => {
    expect(redactTargetUrl(url)).toBe(expected);
  });

  // Every secret part of every scheme, generated: the redacted URL never contains it, in clear or
  // %-encoded, and it is among the target's secrets (so senders scrub it from answers too).
  const secretText = fc.stringMatching(/^[A-Za-z0-9]{12,30}$/).map((s) => `Zq${s}`);
  const passwordText = fc.string({ minLength: 6, maxLength: 20, unit: 'grapheme-ascii' }).map((s) => `Pw!${s}`);
  const urlsWithSecrets = fc.oneof(
    fc.tuple(passwordText, secretText, secretText).map(([pw, secret, header]) => ({
      url: `jsons://user:${encodeURIComponent(pw)}@hooks.example.org/p?secret=${secret}&+X-Token=${header}`,
      secrets: [pw, secret, header],
    })),
    fc.tuple(passwordText).map(([pw]) => ({ url: `ntfys://u:${encodeURIComponent(pw)}@ntfy.example.org/topic`, secrets: [pw] })),
    fc.tuple(secretText).map(([token]) => ({ url: `ntfy://tk_${token}@ntfy.example.org/topic`, secrets: [`tk_${token}`] })),
    fc.tuple(secretText).map(([token]) => ({ url: `ntfys://ntfy.example.org/topic?token=tk_${token}`, secrets: [`tk_${token}`] })),
    fc.tuple(secretText).map(([token]) => ({ url: `gotifys://gotify.example.org/${token}?priority=4`, secrets: [token] })),
    fc.tuple(secretText).map(([token]) => ({ url: `discord://123456789012345678/${token}`, secrets: [token] })),
    fc.tuple(secretText, secretText).map(([b, c]) => ({ url: `slack://T1JJ3T3L2/${b}/${c}`, secrets: [b, c] })),
    fc.tuple(secretText).map(([token]) => ({ url: `tgram://987654321:${token}AAAAAAAA/-100123`, secrets: [`${token}AAAAAAAA`] })),
    fc.tuple(passwordText).map(([pw]) => ({ url: `mailtos://alice:${encodeURIComponent(pw)}@example.org?to=bob@example.org`, secrets: [pw] })),
    fc.tuple(passwordText).map(([pw]) => ({ url: `mailto://example.org?user=alice&pass=${encodeURIComponent(pw)}`, secrets: [pw] })),
    fc.tuple(secretText).map(([token]) => ({ url: `pover://${PO_USER}@${token.slice(0, 30).padEnd(30, 'x')}`, secrets: [token.slice(0, 30).padEnd(30, 'x')] })),
  );

  it('never lets a secret part through (property)', () => {
    fc.assert(
      fc.property(urlsWithSecrets, ({ url, secrets }) => {
        const result = parseTargetUrl(url);
        expect(result.ok, url).toBe(true);
        const redacted = redactTargetUrl(url);
        for (const secret of secrets) {
          expect(redacted).not.toContain(secret);
          expect(redacted).not.toContain(encodeURIComponent(secret));
          if (result.ok) expect(targetSecrets(result.target)).toContain(secret);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never repeats an unparseable or unknown URL (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), secretText, (junk, secret) => {
        const url = `${junk}${secret}`;
        const result = parseTargetUrl(url);
        if (!result.ok) expect(result.message).not.toContain(secret);
        if (!result.ok) expect(redactTargetUrl(url)).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });
});
