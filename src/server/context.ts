// What every route plugin receives: the engine and services, wired once in buildApp.
import type { LibraryLayer } from '../library/index.js';
import type { Engine, RoutedCaller } from '../monitor/engine-types.js';
import type { HlsService } from '../playback/hls-stream.js';
import type { PlayService } from '../playback/play-service.js';
import type { PlaySessions } from '../playback/sessions.js';
import type { AppConfig } from './config.js';
import type { DemoControl } from './demo-control.js';
import type { Metrics } from './metrics.js';
import type { SignInService } from './sign-in-service.js';
import type { SseHub } from './sse.js';
import type { NotificationsControl } from './routes/notifications.js';

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
  /** Null when the app was built without notifications (its routes then answer 503). */
  notifications: NotificationsControl | null;
  /** Library browsing (issue 14); null in apps built without it (its routes answer 503). */
  library: LibraryLayer | null;
  /** Playback (issue 15); null in an app built without it (its routes then answer 503). */
  play: PlayDeps | null;
  /** Null when the app was built without playback (tests of other parts): its routes answer 404. */
  playback: PlaybackDeps | null;
  now: () => number;
}

export interface PlayDeps {
  service: PlayService;
  /** The byte proxy streams over it (request failover on the engine's route). */
  caller: RoutedCaller;
}
