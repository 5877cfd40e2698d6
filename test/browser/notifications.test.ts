// The Notifications page (issue 16), in Chromium against the real runtime in demo mode and a real
// loopback webhook receiver: add a target, see its redacted URL, send a test and see the target's
// real answer, then a failing test with the error in words, then delete it.
// Screenshots: test-results/browser/notifications-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, startMarquee, type BrowserSession, type MarqueeUnderTest } from '../support/browser.js';
import { startHttpReceiver, type HttpReceiver } from '../support/notify-receivers.js';
import { poll } from '../support/wait.js';

let marquee: MarqueeUnderTest;
let receiver: HttpReceiver;
let session: BrowserSession | undefined;

beforeAll(async () => {
  marquee = await startMarquee();
  receiver = await startHttpReceiver();
}, 60_000);

afterAll(async () => {
  await session?.close();
  await receiver?.close();
  await marquee?.close();
});

describe('Notifications page (real server, Chromium)', () => {
  it('adds a target, sends a test with its real answer, shows a failure in words, deletes it', async () => {
    session = await openBrowser(`${marquee.url}#/`);
    const { page, screenshot } = session;
    await page.getByTestId('nav-notifications').click();
    await page.getByTestId('notifications-page').waitFor();
    await page.getByTestId('notifications-empty').waitFor();

    await page.getByTestId('notification-add').click();
    await page.getByTestId('notification-name').fill('Phone');
    // A refused scheme: the server's message names the supported ones.
    await page.getByTestId('notification-url').fill('ftp://example.org/x');
    await page.getByTestId('notification-save').click();
    await poll(() => page.getByTestId('form-error').textContent()).toMatch(/json:\/\//);
    await page.getByTestId('notification-url').fill(receiver.webhookUrl('/hook').replace('json://', 'json://me:pa55word@'));
    await page.getByTestId('notification-event-fallback').uncheck();
    await page.getByTestId('notification-quiet').check();
    await screenshot('notifications-form');
    await page.getByTestId('notification-save').click();

    const card = page.locator('[data-testid^="notification-target-"]');
    await poll(() => card.count()).toBe(1);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain(`json://me:***@127.0.0.1:${receiver.port}/hook`);
    expect(text).not.toContain('pa55word');
    expect(text).toContain('22:00–07:00');
    expect(await page.content()).not.toContain('pa55word');

    await page.getByTestId('notification-test').click();
    await poll(() => page.getByTestId('notification-test-result').textContent()).toBe(`Test sent: the webhook at 127.0.0.1:${receiver.port} accepted the message (HTTP 200)`);
    expect(receiver.webhookMessages()).toMatchObject([{ event: 'test' }]);
    await poll(() => page.getByTestId('notification-last-success').textContent()).not.toBe('never');
    await screenshot('notifications-test-ok');

    await receiver.down();
    await page.getByTestId('notification-test').click();
    await poll(() => page.getByTestId('notification-test-result').textContent()).toBe(`Test failed: the webhook: connection refused by 127.0.0.1:${receiver.port}`);
    await poll(() => page.getByTestId('notification-last-error').textContent()).toContain(`Test message: the webhook: connection refused by 127.0.0.1:${receiver.port}`);
    await screenshot('notifications-test-failed');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('notification-delete').click();
    await page.getByTestId('notifications-empty').waitFor();
  });
});
