// Vitest global setup: the process tests run the `marquee` command as users do (bin/marquee.mjs →
// dist/node), so build the server from the current sources first (well under a second) — a stale
// or missing build would test yesterday's code.
import { buildServer } from './build-server.mjs';

export async function setup() {
  await buildServer({ quiet: true });
}
