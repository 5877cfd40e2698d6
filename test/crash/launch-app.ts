// `marquee serve` that can be held before it opens the database: it does what src/cli/cli.ts
// runServe does (same config parsing incl. the settings file, startRuntime, and the "listening" log
// line). With MARQUEE_TEST_HOLD=1 it loads every module, then waits for a line on stdin: the
// kill -9 suite pre-loads later runs while the current one writes, so 20 cycles cost 20 × the
// write window rather than 20 × Node's module loading. MARQUEE_TEST_MONITOR (JSON) hands the engine
// monitor settings faster than a settings file may hold (its ranges are for people, not tests).
//   node --import tsx test/crash/launch-app.ts --port 0 --data-dir DIR
import { createInterface } from 'node:readline';
import { startRuntime } from '../../src/cli/runtime.js';
import type { MonitorSettingsInput } from '../../src/core/settings.js';
import { loadConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { createMetrics } from '../../src/server/metrics.js';

if (process.env.MARQUEE_TEST_HOLD === '1') {
  const lines = createInterface({ input: process.stdin });
  const released = await new Promise<boolean>((resolve) => {
    lines.once('line', () => resolve(true));
    lines.once('close', () => resolve(false)); // the test went away: never open the database
  });
  lines.close();
  if (!released) process.exit(0);
}
const config = loadConfig(process.argv.slice(2), process.env);
const logger = createLogger({ level: config.logLevel });
const metrics = createMetrics();
const testMonitor = process.env.MARQUEE_TEST_MONITOR ? (JSON.parse(process.env.MARQUEE_TEST_MONITOR) as MonitorSettingsInput) : undefined;
const runtime = await startRuntime(config, { metrics, logger, ...(testMonitor ? { monitor: testMonitor } : {}) });
logger.info({ url: runtime.url, dataDir: config.dataDir }, `Marquee is listening on ${runtime.url}`);

process.once('SIGTERM', () => {
  void (async () => {
    let code = 0;
    try {
      await runtime.close();
    } catch (err) {
      logger.error({ err }, 'error while stopping');
      code = 1;
    }
    logger.info('stopped');
    setTimeout(() => process.exit(code), 100);
  })();
});
