// The face the server sees: everything the HTTP layer may ask of the engine, nothing more.
// Implemented by src/monitor/engine.ts (monitor + store + backends wired together); tests of the
// server may use a fake that satisfies the same interface.
import type { Credentials, RouteCandidate } from '../backends/types.js';
import type { SourceKind, SourceMonitoringSettings } from '../core/types.js';
import type { ApiEventMessage, ApiSource, ApiSourceDetail } from '../server/api-types.js';

export interface NewSourceInput {
  name: string;
  kind: SourceKind;
  serverId: string;
  routes: RouteCandidate[];
  credentials: Credentials;
  monitoring?: SourceMonitoringSettings;
}

export interface SourcePatch {
  name?: string;
  monitoring?: SourceMonitoringSettings;
}

/** What flows to SSE clients, in order. `engine` messages carry a sequence number for resume. */
export type EngineStreamMessage =
  | { type: 'engine'; message: ApiEventMessage }
  | { type: 'source'; source: ApiSource }
  | { type: 'removed'; sourceId: string }
  /** Storage or monitor health changed (the UI shows a warning while degraded). */
  | { type: 'health'; health: EngineHealth };

export interface EngineHealth {
  database: 'ok' | 'degraded';
  monitor: 'running' | 'stopped';
  detail?: string;
}

export interface Engine {
  listSources(): ApiSource[];
  getSource(id: string): ApiSourceDetail | null;
  /** A source of this server (machineIdentifier / Jellyfin server id) exists; in memory, no I/O. */
  hasServer(serverId: string): boolean;
  /** Runs a full check now (coalesced with one in flight). False when the source is unknown. */
  checkNow(id: string): boolean;
  addSource(input: NewSourceInput): ApiSource;
  updateSource(id: string, patch: SourcePatch): ApiSource | null;
  /** New credentials after "Sign in again"; triggers a check. */
  updateCredentials(id: string, credentials: Credentials): boolean;
  /** Also returns the stored credentials (server-side only, e.g. for re-sign-in of Plex). */
  getCredentials(id: string): Credentials | null;
  removeSource(id: string): boolean;
  /** Subscribe to the ordered stream; returns an unsubscribe function. */
  subscribe(listener: (message: EngineStreamMessage) => void): () => void;
  /** Latest engine event sequence number. */
  lastSeq(): number;
  /** Engine messages after `seq`, or null when they are no longer retained (client must resync from a snapshot). */
  eventsSince(seq: number): ApiEventMessage[] | null;
  health(): EngineHealth;
  start(): Promise<void>;
  stop(): Promise<void>;
}
