// Thousands of route listeners need thousands of file descriptors. Node cannot call setrlimit,
// but as root `prlimit` can raise this very process's limit (soft and hard) from outside.
import { execFileSync } from 'node:child_process';

/** Best effort: returns the soft limit afterwards, or undefined when it cannot be read. */
export function raiseFdLimit(wanted: number): number | undefined {
  const current = readSoftLimit();
  if (current !== undefined && current >= wanted) return current;
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${wanted}:${wanted}`], { stdio: 'ignore' });
  } catch {
    // not root, or prlimit missing: the caller reports the limit it got
  }
  return readSoftLimit();
}

export function readSoftLimit(): number | undefined {
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output=SOFT', '--noheadings'], { encoding: 'utf8' });
    const n = Number(out.trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
