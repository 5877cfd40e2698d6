import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { applyHealth, applySnapshot, initialState, storageWarning } from '../lib/state';
import { StorageBannerView } from './StorageBanner';

describe('storage banner', () => {
  it('warns while the database is degraded, naming the detail', () => {
    const html = renderToStaticMarkup(<StorageBannerView health={{ database: 'degraded', monitor: 'running', detail: 'disk full' }} />);
    expect(html).toContain('data-testid="storage-banner"');
    expect(html).toContain('role="alert"');
    expect(html).toContain("Marquee can&#x27;t save to its data folder (disk full). Monitoring continues; recent history may not be kept.");
  });

  it('is absent while storage is fine or health is unknown', () => {
    expect(renderToStaticMarkup(<StorageBannerView health={{ database: 'ok', monitor: 'running' }} />)).toBe('');
    expect(renderToStaticMarkup(<StorageBannerView health={null} />)).toBe('');
  });

  it('words a degraded database without detail', () => {
    expect(storageWarning({ database: 'degraded', monitor: 'running' })).toBe("Marquee can't save to its data folder. Monitoring continues; recent history may not be kept.");
  });

  it('follows the snapshot, then health events; ignores malformed ones', () => {
    let state = applySnapshot(initialState, { sources: [], lastEventId: 0, demo: false, serverTime: 0, health: { database: 'ok', monitor: 'running' } }, 0);
    expect(storageWarning(state.health)).toBeNull();
    state = applyHealth(state, { database: 'degraded', monitor: 'running', detail: 'data directory is read-only' });
    expect(storageWarning(state.health)).toContain('(data directory is read-only)');
    expect(applyHealth(state, { database: 'broken' })).toBe(state);
    expect(applyHealth(state, null)).toBe(state);
    state = applyHealth(state, { database: 'ok', monitor: 'running' });
    expect(storageWarning(state.health)).toBeNull();
    // A snapshot from an older server without health clears it rather than keeping a stale warning.
    state = applyHealth(state, { database: 'degraded', monitor: 'running' });
    expect(applySnapshot(state, { sources: [], lastEventId: 0, demo: false, serverTime: 0 }, 0).health).toBeNull();
  });
});
