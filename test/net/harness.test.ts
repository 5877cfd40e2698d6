// The network-fault harness itself, at the socket level (no Marquee code): namespaces, nftables
// drop/reset, and failure handling. Every scenario runs in its own private namespace.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertLoopbackAddress, assertPrivateNamespace, renderRuleset } from '../support/net/nft.js';
import { interfacesFromNetDev, NetnsUnavailableError, runInNetns, ScenarioError } from '../support/net/netns.js';
import type { Outcome } from '../support/net/sockets.js';
import { waitAtMost } from '../support/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scenario = (name: string) => path.join(here, 'scenarios', name);

interface FaultResult {
  before: Outcome;
  table: string;
  faults: Array<{ addr: string; port?: number; mode: string }>;
  keptAlive: Outcome;
  freshConnect: Outcome;
  bystanderDuring: Outcome;
  neighbourDuring: Outcome;
  tableAfterClear: string;
  afterClear: Outcome;
  tableAfterCleanup: string;
}

const WAIT_MS = 1_500;

/** True while `pid` exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('network namespace', () => {
  it('gives the scenario a namespace with only loopback', async () => {
    const result = await runInNetns<{ netDev: string }>(scenario('misbehave.ts'), { behaviour: 'interfaces' });
    expect(interfacesFromNetDev(result.netDev)).toEqual(['lo']);
  });

  it('fails loudly when the namespace cannot be made', async () => {
    const run = runInNetns(scenario('misbehave.ts'), { behaviour: 'interfaces' }, { unshareBinary: '/nonexistent/unshare' });
    await expect(run).rejects.toThrow(NetnsUnavailableError);
    await expect(run).rejects.toThrow(/^network namespace unavailable: .*not found/);
  });

  it('returns the scenario stderr when it fails', async () => {
    const run = runInNetns(scenario('misbehave.ts'), { behaviour: 'throw' });
    await expect(run).rejects.toThrow(ScenarioError);
    await expect(run).rejects.toThrow(/scenario failed on purpose/);
  });

  it('kills the whole process group on timeout', async () => {
    const error = await runInNetns(scenario('misbehave.ts'), { behaviour: 'hang' }, { timeoutMs: 2_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).toMatch(/timed out after 2500 ms/);
    const pid = Number(/grandchild-pid=(\d+)/.exec((error as ScenarioError).stderr)?.[1]);
    expect(pid).toBeGreaterThan(0);
    // SIGKILL of the group is delivered at once; reaping by init may take a moment.
    await waitAtMost(() => !isRunning(pid), 3_000, 50);
    expect(isRunning(pid)).toBe(false);
  });
});

describe('nft safety', () => {
  it('accepts only 127.0.0.0/8 addresses', () => {
    expect(() => assertLoopbackAddress('127.0.0.2')).not.toThrow();
    expect(() => assertLoopbackAddress('127.255.1.9')).not.toThrow();
    for (const bad of ['10.0.0.1', '128.0.0.1', '0.0.0.0', '::1', 'localhost', '127.0.0.1; flush ruleset', '']) {
      expect(() => assertLoopbackAddress(bad), bad).toThrow(/only 127\.0\.0\.0\/8/);
    }
  });

  it('refuses to apply rules in a namespace with other interfaces', () => {
    const header = 'Inter-|   Receive\n face |bytes\n';
    expect(() => assertPrivateNamespace(`${header}    lo: 0 0\n  eth0: 0 0\n`)).toThrow(/outside a private network namespace.*eth0/);
    expect(() => assertPrivateNamespace(`${header}    lo: 0 0\n`)).not.toThrow();
  });

  it('renders an empty table when no fault is set', () => {
    expect(renderRuleset()).toContain('table ip marquee_test {');
    expect(renderRuleset()).not.toMatch(/drop|reject/);
  });
});

describe('nft faults inside a namespace', () => {
  it('drop: new connects time out and a kept-alive connection goes silent; clear restores', async () => {
    const r = await runInNetns<FaultResult>(scenario('nft-faults.ts'), { mode: 'drop', waitMs: WAIT_MS });
    expect(r.before).toMatchObject({ kind: 'ok', status: 200, body: 'target' });
    expect(r.faults).toEqual([expect.objectContaining({ addr: '127.0.0.2', mode: 'drop' })]);
    expect(r.table).toMatch(/ip daddr 127\.0\.0\.2 tcp dport \d+ drop/);
    expect(r.table).toMatch(/ip saddr 127\.0\.0\.2 tcp sport \d+ drop/);
    // The request went out on the same kept-alive socket and nothing came back.
    expect(r.keptAlive).toMatchObject({ kind: 'timeout', reusedSocket: true });
    expect(r.freshConnect.kind).toBe('timeout');
    // Other addresses, and other ports of the same address, are untouched.
    expect(r.bystanderDuring).toMatchObject({ kind: 'ok', body: 'bystander' });
    expect(r.neighbourDuring).toMatchObject({ kind: 'ok', body: 'neighbour' });
    expect(r.tableAfterClear).not.toMatch(/drop|reject/);
    expect(r.afterClear).toMatchObject({ kind: 'ok', body: 'target' });
    expect(r.tableAfterCleanup).toBe('');
  });

  it('reset: connects are refused at once and a kept-alive connection is reset; clear restores', async () => {
    const r = await runInNetns<FaultResult>(scenario('nft-faults.ts'), { mode: 'reset', waitMs: WAIT_MS });
    expect(r.before).toMatchObject({ kind: 'ok', body: 'target' });
    expect(r.table).toMatch(/ip daddr 127\.0\.0\.2 tcp dport \d+ reject with tcp reset/);
    expect(r.keptAlive).toMatchObject({ kind: 'error', reusedSocket: true });
    expect((r.keptAlive as { code: string }).code).toMatch(/^(ECONNRESET|ECONNREFUSED|EPIPE)$/);
    expect(r.freshConnect).toMatchObject({ kind: 'error' });
    expect((r.freshConnect as { code: string }).code).toMatch(/^(ECONNREFUSED|ECONNRESET)$/);
    // "Fast" means well inside the time a dropped packet would take to be noticed.
    expect(r.freshConnect.ms).toBeLessThan(WAIT_MS / 2);
    expect(r.keptAlive.ms).toBeLessThan(WAIT_MS / 2);
    expect(r.bystanderDuring).toMatchObject({ kind: 'ok', body: 'bystander' });
    expect(r.afterClear).toMatchObject({ kind: 'ok', body: 'target' });
    expect(r.tableAfterCleanup).toBe('');
  });

  it('drop of a whole address silences every port of it, and only it', async () => {
    const r = await runInNetns<FaultResult>(scenario('nft-faults.ts'), { mode: 'drop', waitMs: WAIT_MS, wholeAddress: true });
    expect(r.table).toMatch(/ip daddr 127\.0\.0\.2 drop/);
    expect(r.table).toMatch(/ip saddr 127\.0\.0\.2 drop/);
    expect(r.keptAlive).toMatchObject({ kind: 'timeout', reusedSocket: true });
    expect(r.freshConnect.kind).toBe('timeout');
    expect(r.neighbourDuring.kind).toBe('timeout');
    expect(r.bystanderDuring).toMatchObject({ kind: 'ok', body: 'bystander' });
    expect(r.afterClear).toMatchObject({ kind: 'ok', body: 'target' });
  });
});
