// The monitor's public API (the engine composes these in src/monitor/engine.ts).
export { realClock, type Clock, type TimerHandle } from './clock.js';
export { ConnectionService, type Selection, type SelectOptions, type SelectableSource } from './connection-service.js';
export { ConnectionMonitor, type ConnectionMonitorOptions, type InitialSourceState } from './connection-monitor.js';
export { combineListeners, type MonitorListener, type ProbeInfo, type CheckInfo, type CheckCompletedInfo } from './monitor-listener.js';
export { EventBus, busListener, type MonitorBus, type MonitorTopics, type Unsubscribe } from './event-bus.js';
export { Semaphore } from './semaphore.js';
export { PushSupervisor, DEFAULT_PUSH_SETTINGS, type PushState, type PushSupervisorOptions, type PushSupervisorSettings, type PushTarget } from './push-supervisor.js';
export { NetworkWatcher, interfaceFingerprint, type NetworkWatcherOptions } from './network-watcher.js';
