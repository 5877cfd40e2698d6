// Public surface of src/server.
export { buildApp, BODY_LIMIT_BYTES, type AppDeps } from './app.js';
export { startServer, type RunningServer } from './start.js';
export { loadConfig, isLoopbackHost, ConfigError, DEFAULT_PORT, type AppConfig, type LogLevel } from './config.js';
export { createLogger, scrubSecrets, REDACT_PATHS, type Logger, type LoggerOptions } from './logger.js';
export { createMetrics, type Metrics, type MetricsOptions, type ProbeOutcome } from './metrics.js';
export type { DemoControl } from './demo-control.js';
export type * from '../api/types.js';
