// What the demo routes ask of the simulators. Implemented by the runtime over sim/'s control API;
// only present in demo mode, so the routes exist only then.
import type { ApiDemoRoute } from '../api/types.js';

export interface DemoControl {
  /** Every simulated route of every demo source. */
  listRoutes(): Promise<ApiDemoRoute[]>;
  /** Mode names the simulator accepts for one route (must include 'up', which restores). */
  routeModes(): readonly string[];
  /** Mode names the simulator accepts for a whole server (must include 'up'). */
  serverModes(): readonly string[];
  /** False when no demo route has this id. */
  setRouteFault(routeId: string, mode: string): Promise<boolean>;
  /** False when no demo server backs this source. */
  setServerFault(sourceId: string, mode: string): Promise<boolean>;
}
