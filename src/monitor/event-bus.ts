// A small typed publish/subscribe bus: the monitor publishes, the store and the server's SSE hub
// subscribe. A subscriber that throws never stops the others or the publisher.
import type { MonitorState } from '../core/monitor-state.js';
import type { PlannedCheck } from '../core/scheduling.js';
import type { EngineEvent, Library, ProbeResult } from '../core/types.js';
import type { CheckCompletedInfo, CheckInfo, MonitorListener, ProbeInfo } from './monitor-listener.js';

export type Unsubscribe = () => void;

export class EventBus<M extends object> {
  private readonly handlers = new Map<keyof M, Set<(payload: never) => void>>();

  constructor(private readonly onHandlerError: (error: unknown, topic: keyof M) => void = () => {}) {}

  on<K extends keyof M>(topic: K, handler: (payload: M[K]) => void): Unsubscribe {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    const stored = handler as (payload: never) => void;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  /** Subscribe for one delivery only. */
  once<K extends keyof M>(topic: K, handler: (payload: M[K]) => void): Unsubscribe {
    const off = this.on(topic, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  emit<K extends keyof M>(topic: K, payload: M[K]): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as (p: M[K]) => void)(payload);
      } catch (error) {
        try {
          this.onHandlerError(error, topic);
        } catch {
          // nowhere left to report
        }
      }
    }
  }

  listenerCount(topic?: keyof M): number {
    if (topic !== undefined) return this.handlers.get(topic)?.size ?? 0;
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

/** The monitor's reports as bus topics. */
export interface MonitorTopics {
  events: { sourceId: string; events: readonly EngineEvent[]; state: MonitorState };
  probe: { sourceId: string; result: ProbeResult; info: ProbeInfo };
  libraries: { sourceId: string; libraries: Library[]; routeId: string };
  checkStarted: { sourceId: string; info: CheckInfo };
  checkCompleted: { sourceId: string; info: CheckCompletedInfo };
  checkScheduled: { sourceId: string; next: PlannedCheck };
  error: { sourceId: string | null; error: unknown };
}

export type MonitorBus = EventBus<MonitorTopics>;

/** A MonitorListener that publishes every report on `bus`. */
export function busListener(bus: MonitorBus): MonitorListener {
  return {
    onEvents: (sourceId, events, state) => bus.emit('events', { sourceId, events, state }),
    onProbe: (sourceId, result, info) => bus.emit('probe', { sourceId, result, info }),
    onLibraries: (sourceId, libraries, routeId) => bus.emit('libraries', { sourceId, libraries, routeId }),
    onCheckStarted: (sourceId, info) => bus.emit('checkStarted', { sourceId, info }),
    onCheckCompleted: (sourceId, info) => bus.emit('checkCompleted', { sourceId, info }),
    onCheckScheduled: (sourceId, next) => bus.emit('checkScheduled', { sourceId, next }),
    onError: (sourceId, error) => bus.emit('error', { sourceId, error }),
  };
}
