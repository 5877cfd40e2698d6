// Runs inside a private network namespace: misbehaves on purpose so the harness tests can prove
// that runInNetns reports failures with stderr and kills the whole process group on timeout.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runScenario } from '../../support/net/netns.js';

interface Args {
  behaviour: 'throw' | 'hang' | 'interfaces';
}

runScenario<Args, unknown>(async ({ behaviour }) => {
  if (behaviour === 'throw') throw new Error('scenario failed on purpose');
  if (behaviour === 'interfaces') return { netDev: readFileSync('/proc/self/net/dev', 'utf8') };
  // A grandchild that would outlive us if the harness only killed the direct child.
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  process.stderr.write(`grandchild-pid=${child.pid}\n`);
  await new Promise(() => {}); // never resolves
  return {};
});
