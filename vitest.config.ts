import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; cross-module, process and browser tests live in test/.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'sim/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: simulators, the app and Chromium compete for them, so keep workers few.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Process tests run the built `marquee` command (bin/marquee.mjs → dist/node): build it first.
    globalSetup: ['./scripts/vitest-global-setup.mjs'],
  },
});
