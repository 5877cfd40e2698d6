// /api/notifications against the real runtime (store, service, the real json:// webhook sender) and a
// real loopback receiver: strict bodies, refused URLs, redacted URLs, "Send test" with the target's real answer.
import { afterEach, describe, expect, it } from 'vitest';
import { API_ERROR, API_ROUTES } from '../api/routes.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/start.js';
import { startHttpReceiver, type HttpReceiver } from '../../test/support/notify-receivers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(): Promise<{ rt: TestRuntime; receiver: HttpReceiver }> {
  const rt = await startTestRuntime();
  cleanups.push(() => rt.close());
  const receiver = await startHttpReceiver();
  cleanups.push(() => receiver.close());
  return { rt, receiver };
}

const json = { 'content-type': 'application/json' };

describe('/api/notifications/targets', () => {
  it('adds, lists (URL redacted), changes, tests and deletes a target', async () => {
    const { rt, receiver } = await start();
    const secretUrl = receiver.webhookUrl('/hook').replace('json://', 'json://alice:s3cret-pass@');
    const created = await rt.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name: 'Phone', url: secretUrl, events: ['lost', 'back'] } });
    expect(created.statusCode).toBe(201);
    expect(API_ROUTES.addNotificationTarget.response.safeParse(created.json()).success).toBe(true);
    expect(created.body).not.toContain('s3cret-pass');
    const target = created.json<{ id: string; url: string }>();
    // The password is a secret; the user name is shown (docs/NOTIFICATIONS.md, redaction).
    expect(target.url).toBe(`json://alice:***@127.0.0.1:${receiver.port}/hook`);

    const list = await rt.app.inject({ method: 'GET', url: '/api/notifications/targets' });
    expect(API_ROUTES.listNotificationTargets.response.safeParse(list.json()).success).toBe(true);
    expect(list.json()).toMatchObject({ targets: [{ id: target.id, name: 'Phone', events: ['lost', 'back'], sources: null, pending: 0 }], supportedSchemes: ['json://', 'jsons://', 'ntfy://', 'ntfys://', 'gotify://', 'gotifys://', 'discord://', 'slack://', 'tgram://', 'mailto://', 'mailtos://', 'pover://'] });
    expect(list.body).not.toContain('s3cret-pass');

    const patched = await rt.app.inject({ method: 'PATCH', url: `/api/notifications/targets/${target.id}`, headers: json, payload: { quietHours: { start: '22:00', end: '07:00' } } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ quietHours: { start: '22:00', end: '07:00' } });

    const test = await rt.app.inject({ method: 'POST', url: `/api/notifications/targets/${target.id}/test` });
    expect(test.statusCode).toBe(200);
    expect(test.json()).toEqual({ ok: true, message: `the webhook at 127.0.0.1:${receiver.port} accepted the message (HTTP 200)`, status: 200 });
    expect(receiver.webhookMessages()).toMatchObject([{ event: 'test', title: 'Marquee test message' }]);
    expect(receiver.accepted()[0]!.path).toBe('/hook');
    // The credentials in the URL were used (basic auth), not shown.
    expect(receiver.accepted()[0]!.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret-pass').toString('base64')}`);

    await receiver.down();
    const failed = await rt.app.inject({ method: 'POST', url: `/api/notifications/targets/${target.id}/test` });
    expect(failed.json()).toEqual({ ok: false, message: `the webhook: connection refused by 127.0.0.1:${receiver.port}`, status: null });
    const after = (await rt.app.inject({ method: 'GET', url: '/api/notifications/targets' })).json<{ targets: Array<{ lastError: string; lastSuccessAt: number }> }>();
    expect(after.targets[0]!.lastError).toBe(`Test message: the webhook: connection refused by 127.0.0.1:${receiver.port}`);
    expect(after.targets[0]!.lastSuccessAt).toBeGreaterThan(0);

    expect((await rt.app.inject({ method: 'DELETE', url: `/api/notifications/targets/${target.id}` })).statusCode).toBe(204);
    expect((await rt.app.inject({ method: 'DELETE', url: `/api/notifications/targets/${target.id}` })).statusCode).toBe(404);
    expect((await rt.app.inject({ method: 'POST', url: `/api/notifications/targets/${target.id}/test` })).statusCode).toBe(404);
  });

  it('refuses an unsupported URL with a message naming the supported schemes, and unknown or bad fields', async () => {
    const { rt } = await start();
    const refused = await rt.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name: 'Chat', url: 'ftp://example.org/x' } });
    expect(refused.statusCode).toBe(400);
    expect(API_ERROR.safeParse(refused.json()).success).toBe(true);
    expect(refused.json()).toMatchObject({ error: 'invalid_url' });
    expect(refused.json<{ message: string }>().message).toContain('json://');
    const unknown = await rt.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name: 'A', url: 'json://127.0.0.1:1/x', colour: 'red' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ message: string }>().message).toContain('body.colour');
    const badHours = await rt.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name: 'A', url: 'json://127.0.0.1:1/x', quietHours: { start: '25:00', end: '07:00' } } });
    expect(badHours.statusCode).toBe(400);
    const badEvent = await rt.app.inject({ method: 'POST', url: '/api/notifications/targets', headers: json, payload: { name: 'A', url: 'json://127.0.0.1:1/x', events: ['explode'] } });
    expect(badEvent.statusCode).toBe(400);
    expect((await rt.app.inject({ method: 'GET', url: '/api/notifications/targets' })).json()).toMatchObject({ targets: [] });
  });
});
