// Runs inside a private network namespace (see test/net/harness.test.ts): proves that the nft
// faults behave like a pulled cable (drop) and a dead host (reset) at the socket level, for new
// connections and for an already-established keep-alive connection, and that clear() restores.
import http from 'node:http';
import { activeFaults, clear, cleanup, drop, listTable, reset } from '../../support/net/nft.js';
import { runScenario } from '../../support/net/netns.js';
import { httpGet, startNamedHttpServer, tcpConnect } from '../../support/net/sockets.js';

interface Args {
  mode: 'drop' | 'reset';
  /** How long a silent peer is waited for before calling it silent. */
  waitMs: number;
  /** Fault the whole address (no port) instead of the server's address:port. */
  wholeAddress?: boolean;
}

runScenario<Args, unknown>(async ({ mode, waitMs, wholeAddress = false }) => {
  const target = await startNamedHttpServer('127.0.0.2', 'target');
  const bystander = await startNamedHttpServer('127.0.0.3', 'bystander');
  // Same address, another port: hit only when the whole address is faulted.
  const neighbour = await startNamedHttpServer('127.0.0.2', 'neighbour');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const before = await httpGet(`${target.url}/one`, waitMs, agent);

    const port = wholeAddress ? undefined : target.port;
    if (mode === 'drop') drop('127.0.0.2', port);
    else reset('127.0.0.2', port);
    const table = listTable();
    const faults = activeFaults();

    const keptAlive = await httpGet(`${target.url}/two`, waitMs, agent);
    const freshConnect = await tcpConnect('127.0.0.2', target.port, waitMs);
    const [bystanderDuring, neighbourDuring] = await Promise.all([httpGet(`${bystander.url}/`, waitMs), httpGet(`${neighbour.url}/`, waitMs)]);

    clear('127.0.0.2', port);
    const tableAfterClear = listTable();
    const afterClear = await httpGet(`${target.url}/three`, waitMs);
    cleanup();
    const tableAfterCleanup = listTable();

    return { before, table, faults, keptAlive, freshConnect, bystanderDuring, neighbourDuring, tableAfterClear, afterClear, tableAfterCleanup };
  } finally {
    agent.destroy();
    await Promise.all([target.close(), bystander.close(), neighbour.close()]);
  }
});
