// Cost at scale (issue 6): the engine streams a source's view after a check only when something a
// viewer would notice changed — on large installations. Small ones stream every check (times move).
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineStreamMessage } from './engine-types.js';
import { startScriptedEngine } from '../../test/support/scripted-engine.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function engineWith(sources: number) {
  const { engine, clock, backend } = await startScriptedEngine(cleanups);
  const ids: string[] = [];
  for (let i = 0; i < sources; i++) {
    const b = (i % 250) + 1;
    const view = engine.addSource({
      name: `Server ${i}`,
      kind: 'plex',
      serverId: i.toString(16).padStart(40, '0'),
      routes: [
        { url: `http://127.10.0.${b}:32400`, kind: 'local', priority: 0 },
        { url: `http://127.11.0.${b}:${32400 + Math.floor(i / 250)}`, kind: 'remote', priority: 1 },
      ],
      credentials: { token: `token-${i}-0123456789` },
    });
    ids.push(view.source.id);
  }
  const messages: EngineStreamMessage[] = [];
  engine.subscribe((m) => messages.push(m));
  await clock.advance(2_000);
  expect(engine.listSources().every((s) => s.status.state === 'connected')).toBe(true);
  return { engine, clock, backend, messages, ids };
}

const sourceMessages = (messages: EngineStreamMessage[]) => messages.filter((m): m is Extract<EngineStreamMessage, { type: 'source' }> => m.type === 'source');

describe('engine stream at scale', () => {
  it('a small installation streams every check (its check times move)', async () => {
    const ctx = await engineWith(3);
    ctx.messages.length = 0;
    const calls = ctx.backend.calls.length;
    await ctx.clock.advance(60_000);
    expect(ctx.backend.calls.length).toBeGreaterThan(calls + 10);
    expect(sourceMessages(ctx.messages).length).toBeGreaterThanOrEqual(3 * 5);
  });

  it('a large installation streams nothing for checks that change nothing, and the view that changed when one does', async () => {
    const ctx = await engineWith(250);
    ctx.messages.length = 0;
    const calls = ctx.backend.calls.length;
    await ctx.clock.advance(60_000);
    expect(ctx.backend.calls.length).toBeGreaterThan(calls + 250); // checks ran…
    expect(sourceMessages(ctx.messages)).toHaveLength(0); // …and changed nothing anyone would see

    // One source's route becomes slow: that source's view is streamed (once), nobody else's.
    const slow = ctx.engine.getSource(ctx.ids[7]!)!.status;
    if (slow.state !== 'connected') throw new Error(`expected connected, got ${slow.state}`);
    ctx.backend.route(slow.routeId, { answer: 'ok', delayMs: 400 });
    await ctx.clock.advance(60_000);
    const streamed = sourceMessages(ctx.messages);
    expect(streamed.map((m) => m.source.source.id)).toEqual([ctx.ids[7]]);
    const status = streamed[0]!.source.status;
    expect(status.state === 'connected' && status.latencyMs).toBeGreaterThanOrEqual(400);
  });
});
