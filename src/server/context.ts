// What every route plugin receives: the engine and services, wired once in buildApp.
import type { Engine } from '../monitor/engine-types.js';
import type { HlsService } from '../playback/hls-stream.js';
import type { PlaySessions } from '../playback/sessions.js';
import type { AppConfig } from './config.js';
import type { DemoControl } from './demo-control.js';
import type { Metrics } from './metrics.js';
import type { SignInService } from './sign-in-service.js';
import type { SseHub } from './sse.js';

/** Playback (issue 15): the play sessions and the HLS streams of their transcodes. */
export interface PlaybackDeps {
  sessions: PlaySessions;
  hls: HlsService;
}

export interface AppContext {
  engine: Engine;
  config: AppConfig;
  signIn: SignInService;
  hub: SseHub;
  metrics: Metrics;
  demo: DemoControl | null;
  /** Null when the app was built without playback (tests of other parts): its routes answer 404. */
  playback: PlaybackDeps | null;
  now: () => number;
}
