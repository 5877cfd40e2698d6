// CPU time of other processes, for the playback benches' cost-per-byte figures: a throughput ratio
// between two paths on a 2-core machine is noisy (rounds spread ±30 %), but the CPU each process
// spends per megabyte is steady, and with it the ratio any proxy can reach here follows (see
// cpuBoundRatio). Linux /proc only; ticks are CLK_TCK (100 on Linux) per second.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** user + system time of one process (all its threads), and of children it has waited for. */
function statTicks(pid: number): { own: number; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields start after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17; ppid is field 4.
    const n = (field: number) => Number(fields[field - 3]);
    return { own: n(14) + n(15) + n(16) + n(17), ppid: n(4) };
  } catch {
    return null; // gone
  }
}

/**
 * CPU milliseconds used so far by `pid` and its live children (socat forks one per connection; the
 * kept-alive connection's child is alive while it is measured).
 */
export function processCpuMs(pid: number): number {
  let ticks = statTicks(pid)?.own ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = statTicks(Number(entry));
    if (child && child.ppid === pid) ticks += child.own;
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** This process's CPU milliseconds so far (all threads: the proxy and the worker "browser"). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The best one-stream throughput ratio (proxied / direct) that CPU allows on `cores` cores, from
 * each party's CPU per byte: direct runs the server and the client on their own cores, so it moves
 * at 1 / max(server, client); a proxied stream adds a third busy party, so it moves at most at
 * 1 / max(server, client, proxy) and, sharing the cores, at cores / (server + client + proxy).
 */
export function cpuBoundRatio(cost: { server: number; client: number; proxy: number }, cores: number): number {
  const direct = 1 / Math.max(cost.server, cost.client);
  const proxied = Math.min(1 / Math.max(cost.server, cost.client, cost.proxy), cores / (cost.server + cost.client + cost.proxy));
  return Math.min(1, proxied / direct);
}

/** The most CPU per byte a proxy may cost for the ratio to reach `goal` (0–1), under cpuBoundRatio's model. */
export function proxyBudgetFor(goal: number, cost: { server: number; client: number }, cores: number): number {
  const direct = 1 / Math.max(cost.server, cost.client);
  return Math.min(1 / (goal * direct), cores / (goal * direct) - cost.server - cost.client);
}
