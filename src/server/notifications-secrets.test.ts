// Issue 16: passwords and tokens in notification target URLs are secrets like server tokens. A
// runtime whose targets of every kind carry secrets, delivering through failures (targets that
// answer 401/500 echoing what they were sent, an SMTP port that refuses), must never show them in
// its logs (pino, at trace level) nor in any API answer (create, list, get by change, test, errors).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { appriseNotificationParts } from '../notifications/apprise-parts.js';
import { RUNNING_MARKER_KEY } from '../notifications/service.js';
import { openDatabase } from '../store/index.js';
import { startHttpReceiver } from '../../test/support/notify-receivers.js';
import { startTestRuntime } from '../../test/support/start.js';
import { waitUntil } from '../../test/support/wait.js';
import { createLogger } from './logger.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SECRETS = {
  webhookPassword: 'WebhookPassw0rd-91f2',
  webhookSecret: 'HmacSecret-7c1e9a33',
  webhookHeader: 'HeaderToken-5d0b77aa',
  ntfyToken: 'tk_NtfyAccessToken4b9c2e7d1f0a6',
  gotifyToken: 'GotifyAppTok3n.x9',
  discordToken: 'DiscordWebhookTokenQ2w3E4r5T6y7',
  slackTokenB: 'B0SLACKBB',
  slackTokenC: 'SlackTokenCcccccc9x8y7z6',
  telegramToken: '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw',
  pushoverToken: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi',
  smtpPassword: 'SmtpAppPassword-3e8d',
};

function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', destination }) };
}

describe('notification target secrets never leave the server', () => {
  it('keeps every password and token of target URLs out of logs and API answers, through failing deliveries', async () => {
    const receiver = await startHttpReceiver();
    cleanups.push(() => receiver.close());
    // Failing answers that echo what was sent (path, auth headers, body): a careless sender would quote them.
    receiver.reply((req) => ({
      status: req.path.includes('sendMessage') || req.path.includes('messages.json') || req.path.includes('webhooks') ? 401 : 500,
      body: `refused ${req.path} ${req.headers['authorization'] ?? ''} ${req.headers['x-gotify-key'] ?? ''} ${req.headers['x-token'] ?? ''} ${req.body}`,
    }));
    const base = `http://127.0.0.1:${receiver.port}`;
    const parts = appriseNotificationParts({ serviceBaseUrls: { ntfy: base, discord: base, slack: base, telegram: base, pushover: base } });
    const urls = {
      webhook: `json://alice:${SECRETS.webhookPassword}@127.0.0.1:${receiver.port}/hook?secret=${SECRETS.webhookSecret}&+X-Token=${SECRETS.webhookHeader}`,
      ntfy: `ntfy://${SECRETS.ntfyToken}@127.0.0.1:${receiver.port}/plex-alerts`,
      gotify: `gotify://127.0.0.1:${receiver.port}/${SECRETS.gotifyToken}`,
      discord: `discord://123456789012345678/${SECRETS.discordToken}`,
      slack: `slack://T1JJ3T3L2/${SECRETS.slackTokenB}/${SECRETS.slackTokenC}`,
      telegram: `tgram://${SECRETS.telegramToken}/-1001234567`,
      pushover: `pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@${SECRETS.pushoverToken}`,
      email: `mailto://alice:${SECRETS.smtpPassword}@example.org?smtp=127.0.0.1&port=1&to=ops@example.org`,
    };
    const dir = mkdtempSync(join(tmpdir(), 'marquee-notify-secrets-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    const answers: string[] = [];
    const json = { 'content-type': 'application/json' };

    // 1. A first run adds the targets through the API.
    const { lines, logger } = captureLogs();
    const first = await startTestRuntime({ dataDir, logger, notificationParts: parts });
    const ids: string[] = [];
    for (const [name, url] of Object.entries(urls)) {
      const created = await first.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name, url } });
      answers.push(created.body);
      expect(created.statusCode, `${name}: ${created.body}`).toBe(201);
      ids.push(created.json<{ id: string }>().id);
    }
    // A refused URL carrying a secret: the refusal does not repeat it.
    const refused = await first.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name: 'x', url: `xmpp://bob:${SECRETS.webhookPassword}@example.org` } });
    expect(refused.statusCode).toBe(400);
    answers.push(refused.body);
    await first.close();

    // 2. The clean-stop marker left behind (as after a crash): the next run queues "restarted after
    //    a crash" to every target, and every delivery fails.
    const store = openDatabase({ dataDir });
    store.settings.set(RUNNING_MARKER_KEY, String(Date.now() - 60_000));
    store.close();
    const second = await startTestRuntime({ dataDir, logger, notificationParts: parts, notifications: { retryCapMs: 1_000, timeoutMs: 2_000 } });
    cleanups.push(() => second.close());
    const listTargets = async () => {
      const res = await second.app.inject({ method: 'GET', url: '/api/notifications/targets' });
      answers.push(res.body);
      return res.json<{ targets: Array<{ id: string; lastError: string | null }> }>().targets;
    };
    await waitUntil(async () => (await listTargets()).every((t) => t.lastError !== null), { what: 'every delivery failed', timeoutMs: 15_000 });
    for (const id of ids) {
      const tested = await second.app.inject({ method: 'POST', url: `/api/notifications/targets/${id}/test` });
      answers.push(tested.body);
      expect(tested.json<{ ok: boolean }>().ok).toBe(false);
      const renamed = await second.app.inject({ method: 'PATCH', url: `/api/notifications/targets/${id}`, headers: json, payload: { name: 'renamed' } });
      answers.push(renamed.body);
    }
    await listTargets();
    await second.close();

    const logs = lines.join('');
    // Not vacuous: the failures were logged, with their reasons, and the receiver saw the secrets.
    expect(logs).toContain('notification not delivered; will retry');
    expect(logs).toContain('notification refused by its target; dropped');
    expect(receiver.requests.some((r) => r.path.includes(SECRETS.telegramToken))).toBe(true);
    expect(answers.join('\n')).toContain('***');
    for (const [name, secret] of Object.entries(SECRETS)) {
      expect(logs.includes(secret), `${name} leaked into the logs`).toBe(false);
      expect(answers.join('\n').includes(secret), `${name} leaked into an API answer`).toBe(false);
    }
  });
});
