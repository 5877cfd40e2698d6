// What every route plugin receives: the engine and services, wired once in buildApp.
import type { LibraryLayer } from '../library/index.js';
import type { Engine } from '../monitor/engine-types.js';
import type { AppConfig } from './config.js';
import type { DemoControl } from './demo-control.js';
import type { Metrics } from './metrics.js';
import type { SignInService } from './sign-in-service.js';
import type { SseHub } from './sse.js';
import type { NotificationsControl } from './routes/notifications.js';

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
  now: () => number;
}
