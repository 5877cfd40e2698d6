// The pure domain's public API.
export * from './types.js';
export * from './selection.js';
export * from './settings.js';
export * from './backoff.js';
export * from './scheduling.js';
export * from './check-planner.js';
export * from './monitor-state.js';
export * from './outcomes.js';
export * from './reducer.js';
export * from './redact.js';
export * from './addresses.js';
