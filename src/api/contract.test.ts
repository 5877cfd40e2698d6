// The TypeScript types of the contract and its zod schemas must say the same thing. The type-level
// checks below fail `tsc` (npm run typecheck) when one changes without the other; the runtime
// checks pin the request schemas' behaviour clients rely on.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { EngineEvent, SourceStatus } from '../core/types.js';
import { addSourceBody, patchSourceBody, quickConnectBody, sessionBody, signInAgainBody } from './requests.js';
import type * as s from './responses.js';
import type * as T from './types.js';

type Out<S extends z.ZodType> = z.output<S>;
/**
 * Each assignable to the other: no field missing, extra, optional on one side only, or of another
 * type. (Mutual assignability rather than expectTypeOf's deep brand, which tells the core's
 * `EventBase & {…}` events apart from the same fields written flat.)
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('contract types equal their schemas', () => {
  it('answers', () => {
    expectTypeOf<Same<Out<typeof s.sourceStatusSchema>, SourceStatus>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.engineEventSchema>, EngineEvent>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiRouteRefSchema>, T.ApiRouteRef>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiLibrarySchema>, T.ApiLibrary>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSourceSchema>, T.ApiSource>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiRouteDetailSchema>, T.ApiRouteDetail>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiHistoryEntrySchema>, T.ApiHistoryEntry>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSourceDetailSchema>, T.ApiSourceDetail>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiRouteEditSchema>, T.ApiRouteEdit>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiHealthStateSchema>, T.ApiHealthState>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiHealthSchema>, T.ApiHealth>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSnapshotSchema>, T.ApiSnapshot>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiEventMessageSchema>, T.ApiEventMessage>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSourceUpdateSchema>, T.ApiSourceUpdate>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSourceRemovedSchema>, T.ApiSourceRemoved>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiErrorSchema>, T.ApiError>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiDemoRouteSchema>, T.ApiDemoRoute>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiPlexPinSchema>, T.ApiPlexPin>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiPlexServerSchema>, T.ApiPlexServer>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiPlexPinStateSchema>, T.ApiPlexPinState>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiJellyfinProbeSchema>, T.ApiJellyfinProbe>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiQuickConnectStartSchema>, T.ApiQuickConnectStart>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiQuickConnectStateSchema>, T.ApiQuickConnectState>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSessionStateSchema>, T.ApiSessionState>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiNotificationTargetSchema>, T.ApiNotificationTarget>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiNotificationTargetsSchema>, T.ApiNotificationTargets>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiNotificationTestResultSchema>, T.ApiNotificationTestResult>>().toEqualTypeOf<true>();
  });
});

describe('request schemas', () => {
  it('refuse unknown keys in bodies, so a misspelt field is an error, not silently ignored', () => {
    expect(patchSourceBody.safeParse({ name: 'A', nmae: 'B' }).success).toBe(false);
    expect(patchSourceBody.safeParse({ monitoring: { probeTimeoutMs: 1000, pushh: false } }).success).toBe(false);
    expect(addSourceBody.safeParse({ kind: 'plex', serverId: 'abc', pinId: 1, token: 'x' }).success).toBe(false);
    expect(signInAgainBody.safeParse({ pinId: 1, extra: true }).success).toBe(false);
    expect(quickConnectBody.safeParse({ url: 'http://a', more: 1 }).success).toBe(false);
    expect(sessionBody.safeParse({ apiKey: 'k', other: 1 }).success).toBe(false);
    // …and accept the documented ones.
    expect(patchSourceBody.safeParse({ name: 'A', monitoring: { enabled: true, push: false, probeTimeoutMs: 500 } }).success).toBe(true);
    expect(addSourceBody.safeParse({ kind: 'jellyfin', quickConnectHandle: 'h1', name: 'J' }).success).toBe(true);
  });

  it('say what is wrong in words', () => {
    const result = patchSourceBody.safeParse({ monitoring: { probeTimeoutMs: 100 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['monitoring', 'probeTimeoutMs'], message: 'must be at least 500 ms' });
  });
});

describe('library contract types equal their schemas', () => {
  it('answers', () => {
    expectTypeOf<Same<Out<typeof s.apiItemSchema>, T.ApiItem>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiItemDetailSchema>, T.ApiItemDetail>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiLibrarySyncSchema>, T.ApiLibrarySync>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiLibraryItemsSchema>, T.ApiLibraryItems>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiLibraryInfoSchema>, T.ApiLibraryInfo>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSourceAvailabilitySchema>, T.ApiSourceAvailability>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiHomeSchema>, T.ApiHome>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSearchSourceSchema>, T.ApiSearchSource>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSearchSchema>, T.ApiSearch>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiLibraryUpdateSchema>, T.ApiLibraryUpdate>>().toEqualTypeOf<true>();
  });
});

describe('playback contract types equal their schemas', () => {
  it('answers', () => {
    expectTypeOf<Same<Out<typeof s.apiPlayConnectionSchema>, T.ApiPlayConnection>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiSubtitleTrackSchema>, T.ApiSubtitleTrack>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiAudioTrackSchema>, T.ApiAudioTrack>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Out<typeof s.apiPlaySessionSchema>, T.ApiPlaySession>>().toEqualTypeOf<true>();
  });
});
