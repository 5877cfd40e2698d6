// The UI's view of Marquee, fed by the SSE stream. Pure transitions (tested) + a tiny external
// store for React's useSyncExternalStore.
import type { ApiSnapshot, ApiSource } from '../../api/types';

export type StorageHealth = NonNullable<ApiSnapshot['health']>;

export type LinkState = 'connecting' | 'open' | 'lost' | 'unauthorized';

export interface AppState {
  /** False until the first snapshot arrived. */
  loaded: boolean;
  link: LinkState;
  sources: ApiSource[];
  demo: boolean;
  lastEventId: number;
  /** serverTime - Date.now() at the last snapshot, so countdowns use the server's clock. */
  clockOffsetMs: number;
  /** Bumped whenever a source changes: detail views refetch on it. */
  revisions: Record<string, number>;
  /** Storage/monitor health from the snapshot and `event: health`; null until known (older servers never send it). */
  health: StorageHealth | null;
}

export const initialState: AppState = {
  loaded: false,
  link: 'connecting',
  sources: [],
  demo: false,
  lastEventId: 0,
  clockOffsetMs: 0,
  revisions: {},
  health: null,
};

export function applySnapshot(state: AppState, snapshot: ApiSnapshot, localNow: number): AppState {
  const revisions: Record<string, number> = {};
  for (const source of snapshot.sources) revisions[source.id] = (state.revisions[source.id] ?? 0) + 1;
  return {
    ...state,
    loaded: true,
    link: 'open',
    sources: snapshot.sources,
    demo: snapshot.demo,
    lastEventId: snapshot.lastEventId,
    clockOffsetMs: Number.isFinite(snapshot.serverTime) ? snapshot.serverTime - localNow : 0,
    revisions,
    health: isHealth(snapshot.health) ? snapshot.health : null,
  };
}

function isHealth(value: unknown): value is StorageHealth {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.database === 'ok' || v.database === 'degraded') && (v.detail === undefined || typeof v.detail === 'string');
}

/** `event: health`: a malformed message leaves the last known health in place. */
export function applyHealth(state: AppState, health: unknown): AppState {
  return isHealth(health) ? { ...state, health } : state;
}

/** The storage warning's text, or null when the data folder is fine. */
export function storageWarning(health: StorageHealth | null): string | null {
  if (!health || health.database !== 'degraded') return null;
  const detail = health.detail?.trim();
  return `Marquee can't save to its data folder${detail ? ` (${detail})` : ''}. Monitoring continues; recent history may not be kept.`;
}

export function upsertSource(state: AppState, source: ApiSource): AppState {
  const index = state.sources.findIndex((s) => s.id === source.id);
  const sources = index === -1 ? [...state.sources, source] : state.sources.map((s, i) => (i === index ? source : s));
  return { ...state, sources, revisions: { ...state.revisions, [source.id]: (state.revisions[source.id] ?? 0) + 1 } };
}

export function removeSource(state: AppState, sourceId: string): AppState {
  if (!state.sources.some((s) => s.id === sourceId)) return state;
  const revisions = { ...state.revisions };
  delete revisions[sourceId];
  return { ...state, sources: state.sources.filter((s) => s.id !== sourceId), revisions };
}

/** What a change of a source's status means in words, for the live region; null if nothing changed that a person would notice. */
export function statusKey(source: ApiSource): string {
  return `${source.status}|${source.route?.kind ?? ''}`;
}

// Function properties, not methods: none uses `this`, so `store.subscribe` may be passed on alone.
export interface Store<T> {
  get: () => T;
  set: (update: (state: T) => T) => void;
  subscribe: (listener: () => void) => () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(update) {
      const next = update(state);
      if (next === state) return;
      state = next;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
