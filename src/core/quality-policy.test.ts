import { describe, expect, it } from 'vitest';
import { formatKbps, qualityAction, qualityFor, type QualityInput } from './quality-policy.js';

const base: QualityInput = { serverKind: 'plex', routeKind: 'local', plexPass: null };

describe('qualityFor', () => {
  it.each<[string, Partial<QualityInput>, number | null, string | null]>([
    ['Plex local: no cap', {}, null, null],
    ['Plex remote: no cap', { routeKind: 'remote' }, null, null],
    ['Plex relay, no Plex Pass: fits 1 Mbps', { routeKind: 'relay', plexPass: false }, 800, 'relay: Plex caps relayed streams at 1 Mbps'],
    ['Plex relay, Plex Pass unknown: the safe 1 Mbps', { routeKind: 'relay' }, 800, 'relay: Plex caps relayed streams at 1 Mbps'],
    ['Plex relay with Plex Pass: fits 2 Mbps', { routeKind: 'relay', plexPass: true }, 1600, 'relay: Plex caps relayed streams at 2 Mbps'],
    ['Plex relay, user cap lower', { routeKind: 'relay', plexPass: true, userCapKbps: 500 }, 500, 'your limit of 500 kb/s'],
    ['Plex relay, user cap higher: the relay wins', { routeKind: 'relay', plexPass: true, userCapKbps: 8000 }, 1600, 'relay: Plex caps relayed streams at 2 Mbps'],
    ['Jellyfin relay-kind route: no known cap', { serverKind: 'jellyfin', routeKind: 'relay' }, null, null],
    ['user cap on local', { userCapKbps: 4000 }, 4000, 'your limit of 4 Mbps'],
    ['offline', { routeKind: null }, null, null],
  ])('%s', (_what, patch, cap, reason) => {
    expect(qualityFor({ ...base, ...patch })).toEqual({ maxBitrateKbps: cap, reason });
  });

  it('never asks more than the relay carries', () => {
    for (const plexPass of [true, false, null]) {
      const cap = qualityFor({ ...base, routeKind: 'relay', plexPass }).maxBitrateKbps!;
      expect(cap).toBeLessThanOrEqual(plexPass ? 2000 : 1000);
    }
  });
});

describe('qualityAction', () => {
  it.each<[string, number | null, Partial<QualityInput>, 'keep' | number | null]>([
    ['direct on local, still local', null, {}, 'keep'],
    ['direct on local, moved to relay → transcode', null, { routeKind: 'relay', plexPass: true }, 1600],
    ['capped on relay, still relay', 1600, { routeKind: 'relay', plexPass: true }, 'keep'],
    ['capped on relay, back on local → original quality', 1600, {}, null],
    ['capped on relay, back on remote → original quality', 800, { routeKind: 'remote' }, null],
    ['capped on relay, source away → wait', 800, { routeKind: null }, 'keep'],
    ['direct, source away → wait', null, { routeKind: null }, 'keep'],
  ])('%s', (_what, inUse, patch, expected) => {
    const action = qualityAction(inUse, { ...base, ...patch });
    if (expected === 'keep') expect(action).toEqual({ action: 'keep' });
    else expect(action).toMatchObject({ action: 'switch', choice: { maxBitrateKbps: expected } });
  });
});

it('formatKbps', () => {
  expect([formatKbps(800), formatKbps(1000), formatKbps(1600), formatKbps(2000)]).toEqual(['800 kb/s', '1 Mbps', '1.6 Mbps', '2 Mbps']);
});
