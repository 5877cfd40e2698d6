// Issue 16 against the simulators: the real runtime (engine, store, NotificationService, outbox)
// sending through the real json:// webhook sender to a real loopback HTTP receiver. Short settings keep it fast: a 1.5 s hold-down.
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceKind } from '../../src/core/types.js';
import { EngineHarness, JELLYFIN_ID, JELLYFIN_NAME, PLEX_ID, PLEX_NAME } from '../support/engine-harness.js';
import { startHttpReceiver, type HttpReceiver } from '../support/notify-receivers.js';
import { sleep, waitAtMost } from '../support/wait.js';

const KINDS: SourceKind[] = ['plex', 'jellyfin'];
const SERVER: Record<SourceKind, string> = { plex: PLEX_ID, jellyfin: JELLYFIN_ID };
const NAMES: Record<SourceKind, string> = { plex: PLEX_NAME, jellyfin: JELLYFIN_NAME };
const HOLD_DOWN_MS = 1_500;

let h: EngineHarness | undefined;
let receiver: HttpReceiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
  h = undefined;
  receiver = undefined;
});

describe('notifications against the simulators (issue 16)', () => {
  it('crash → one "lost" after the hold-down; restore → one "back" with the outage length', async () => {
    receiver = await startHttpReceiver();
    h = await EngineHarness.start({ notifications: { holdDownMs: HOLD_DOWN_MS, windowMs: 2_000 } });
    const added = h.notifications.addTarget({ name: 'Phone', url: receiver.webhookUrl() });
    expect(added.ok).toBe(true);
    await h.waitForSteadyState();

    const crash = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'crash' })));
    for (const kind of KINDS) {
      const lostEvent = await h.waitForEvent(kind, 'ConnectionLost', { from: crash });
      const sourceId = kind === 'plex' ? h.plexSourceId : h.jellyfinSourceId;
      expect(await waitAtMost(() => receiver!.webhookMessages().some((m) => m.sourceId === sourceId && m.event === 'lost'), 10_000)).toBe(true);
      const lost = receiver.webhookMessages().find((m) => m.sourceId === sourceId && m.event === 'lost')!;
      // Not before the hold-down (counted from the event's own time), and not much after it (the
      // tick fires on time, delivery is local).
      expect(lost.receivedAt - lostEvent.at).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
      expect(lost.receivedAt - lostEvent.receivedAt).toBeLessThan(HOLD_DOWN_MS + 1_000);
      expect(lost.title).toBe(`${NAMES[kind]} lost its connection`);
      expect(lost.sourceName).toBe(NAMES[kind]);
    }
    await sleep(2_000); // the window passes: "back" is not held by it
    const up = h.mark();
    await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'up' })));
    for (const kind of KINDS) {
      await h.waitForEvent(kind, 'ConnectionRestored', { from: up });
      const sourceId = kind === 'plex' ? h.plexSourceId : h.jellyfinSourceId;
      expect(await waitAtMost(() => receiver!.webhookMessages().some((m) => m.sourceId === sourceId && m.event === 'back'), 10_000)).toBe(true);
      const back = receiver.webhookMessages().find((m) => m.sourceId === sourceId && m.event === 'back')!;
      expect(back.body).toMatch(new RegExp(`^${NAMES[kind]} is back after \\d+ s — local route$`));
    }
    await sleep(500);
    for (const kind of KINDS) {
      const sourceId = kind === 'plex' ? h.plexSourceId : h.jellyfinSourceId;
      expect(receiver.webhookMessages().filter((m) => m.sourceId === sourceId).map((m) => m.event)).toEqual(['lost', 'back']);
    }
    // Every message has its own id (the idempotency key), sent as a header too.
    const ids = receiver.webhookMessages().map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(receiver.accepted().map((r) => r.headers['idempotency-key'])).toEqual(ids);
    // Delivery is visible per target.
    expect(h.notifications.listTargets()[0]).toMatchObject({ name: 'Phone', lastError: null, pending: 0 });
    expect(h.notifications.listTargets()[0]!.lastSuccessAt).not.toBeNull();
  });

  it('a receiver that is down gets the "lost" once it is back; the error shows meanwhile', async () => {
    receiver = await startHttpReceiver();
    h = await EngineHarness.start({ notifications: { holdDownMs: HOLD_DOWN_MS, retryCapMs: 1_000 } });
    const added = h.notifications.addTarget({ name: 'Phone', url: receiver.webhookUrl() });
    if (!added.ok) throw new Error(added.message);
    await h.waitForSteadyState();
    await receiver.down();
    const crash = h.mark();
    await h.sim.server(PLEX_ID).fault({ mode: 'crash' });
    await h.waitForEvent('plex', 'ConnectionLost', { from: crash });
    await h.waitFor('a failed delivery recorded', () => h!.notifications.listTargets()[0]?.lastError?.includes(`connection refused by 127.0.0.1:${receiver!.port}`) === true, 10_000);
    expect(h.notifications.listTargets()[0]!.pending).toBeGreaterThanOrEqual(1);
    await receiver.up();
    expect(await waitAtMost(() => receiver!.webhookMessages().some((m) => m.sourceId === h!.plexSourceId && m.event === 'lost'), 10_000)).toBe(true);
    await h.waitFor('the outbox empty', () => h!.notifications.listTargets()[0]?.pending === 0, 5_000);
    expect(receiver.webhookMessages().filter((m) => m.sourceId === h!.plexSourceId).map((m) => m.event)).toEqual(['lost']);
  });

  it('flapping at 1 Hz: at most one message per source, however long it flaps', async () => {
    receiver = await startHttpReceiver();
    const windowMs = 20_000;
    // No hold-down: every loss would be told at once without the damping, so only it keeps this quiet.
    h = await EngineHarness.start({ notifications: { holdDownMs: 0, windowMs } });
    h.notifications.addTarget({ name: 'Phone', url: receiver.webhookUrl() });
    await h.waitForSteadyState();
    const flapStart = h.mark();
    // 1 Hz: down for half a second, up for half a second, for 12 s.
    for (let i = 0; i < 12; i++) {
      await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'crash' })));
      await sleep(500);
      await Promise.all(KINDS.map((k) => h!.sim.server(SERVER[k]).fault({ mode: 'up' })));
      await sleep(500);
    }
    await sleep(1_000);
    const changes = KINDS.map((k) => h!.eventsOf(k, 'ConnectionLost', flapStart).length + h!.eventsOf(k, 'ConnectionRestored', flapStart).length);
    // The engine saw the flapping (the indicator tells the truth at once)…
    expect(changes.some((n) => n >= 4)).toBe(true);
    // …but each source sent at most one message (its "unstable").
    for (const sourceId of [h.plexSourceId, h.jellyfinSourceId]) {
      const sent = receiver.webhookMessages().filter((m) => m.sourceId === sourceId);
      expect(sent.length).toBeLessThanOrEqual(1);
      if (sent.length === 1) expect(['unstable', 'lost']).toContain(sent[0]!.event);
    }
  });
});
