import { describe, expect, it } from 'vitest';
import type { ApiSource } from '../../api/types';
import { applySnapshot, createStore, initialState, removeSource, upsertSource } from './state';

function source(id: string, status: ApiSource['status'] = 'connected'): ApiSource {
  return {
    id,
    name: `Server ${id}`,
    kind: 'plex',
    status,
    route: status === 'connected' ? { id: 'r1', url: 'http://127.0.0.2:32400', kind: 'local', latencyMs: 3 } : null,
    lastCheckedAt: 1,
    nextCheckAt: 2,
    since: 0,
    push: 'off',
    libraries: [],
  };
}

describe('app state', () => {
  it('a snapshot replaces everything and records the clock offset', () => {
    const withOld = upsertSource(initialState, source('old'));
    const next = applySnapshot(withOld, { sources: [source('a'), source('b')], lastEventId: 7, demo: true, serverTime: 10_500 }, 10_000);
    expect(next.sources.map((s) => s.id)).toEqual(['a', 'b']);
    expect(next).toMatchObject({ loaded: true, link: 'open', demo: true, lastEventId: 7, clockOffsetMs: 500 });
    expect(next.revisions).not.toHaveProperty('old');
  });

  it('upserts keep order, append new sources and bump revisions', () => {
    let state = applySnapshot(initialState, { sources: [source('a'), source('b')], lastEventId: 0, demo: false, serverTime: 0 }, 0);
    const before = state.revisions.a!;
    state = upsertSource(state, source('a', 'reconnecting'));
    state = upsertSource(state, source('c'));
    expect(state.sources.map((s) => `${s.id}:${s.status}`)).toEqual(['a:reconnecting', 'b:connected', 'c:connected']);
    expect(state.revisions.a).toBe(before + 1);
  });

  it('removes a source, and ignores unknown ids', () => {
    const state = upsertSource(initialState, source('a'));
    expect(removeSource(state, 'a').sources).toEqual([]);
    expect(removeSource(state, 'zzz')).toBe(state);
  });

  it('the store notifies subscribers only on change', () => {
    const store = createStore(1);
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.set((n) => n);
    store.set((n) => n + 1);
    off();
    store.set((n) => n + 1);
    expect(calls).toBe(1);
    expect(store.get()).toBe(3);
  });
});
