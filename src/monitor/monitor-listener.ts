// What the monitor reports, as one typed listener interface. The lead's engine wires it to the store
// (history, probe records, libraries) and to SSE. Every method is optional; a listener that throws
// never stops the monitor (the error goes to onError).
import type { Library, EngineEvent, ProbeResult } from '../core/types.js';
import type { MonitorState } from '../core/monitor-state.js';
import type { CheckKind, PlannedCheck } from '../core/scheduling.js';

export interface ProbeInfo {
  /** `return`: a re-check of a preferred route while the source is on a less preferred one. */
  check: CheckKind | 'return';
  /** True for a straggler that answered after the selection had already decided. */
  late: boolean;
}

export interface CheckInfo {
  kind: CheckKind;
  startedAt: number;
}

export interface CheckCompletedInfo extends CheckInfo {
  finishedAt: number;
  /** The state after the check (also carries latency refreshes that emit no event). */
  state: MonitorState;
  /** The check was cancelled before it finished (push loss, stop, removal): it decided nothing. */
  cancelled?: boolean;
}

export interface MonitorListener {
  /** Reducer events of one outcome, in order, with the state they led to. Never empty. */
  onEvents?(sourceId: string, events: readonly EngineEvent[], state: MonitorState): void;
  /** Every probe result, including late ones from routes that answered after the decision. */
  onProbe?(sourceId: string, result: ProbeResult, info: ProbeInfo): void;
  /** Libraries fetched through the current route. */
  onLibraries?(sourceId: string, libraries: Library[], routeId: string): void;
  /** A check (after waiting for a concurrency slot) starts. */
  onCheckStarted?(sourceId: string, info: CheckInfo): void;
  onCheckCompleted?(sourceId: string, info: CheckCompletedInfo): void;
  /** The next check is due at `next.at`. */
  onCheckScheduled?(sourceId: string, next: PlannedCheck): void;
  /** Unexpected failures (a throwing listener or credential lookup). Never carries a token. */
  onError?(sourceId: string | null, error: unknown): void;
}

/** Fan one listener call out to several listeners. */
export function combineListeners(...listeners: MonitorListener[]): MonitorListener {
  const call = <K extends keyof MonitorListener>(key: K) =>
    ((...args: unknown[]) => {
      // Every listener runs even if an earlier one throws; the first error is rethrown after.
      let failure: { error: unknown } | null = null;
      for (const listener of listeners) {
        try {
          (listener[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure) throw failure.error;
    }) as NonNullable<MonitorListener[K]>;
  return {
    onEvents: call('onEvents'),
    onProbe: call('onProbe'),
    onLibraries: call('onLibraries'),
    onCheckStarted: call('onCheckStarted'),
    onCheckCompleted: call('onCheckCompleted'),
    onCheckScheduled: call('onCheckScheduled'),
    onError: call('onError'),
  };
}
