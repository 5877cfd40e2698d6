import { describe, expect, it } from 'vitest';
import { interfaceFingerprint, NetworkWatcher, type InterfaceReader } from './network-watcher.js';
import { FakeClock } from '../../test/support/fake-clock.js';

const lo = { address: '127.0.0.1', family: 'IPv4', internal: true };
const eth = (address: string) => ({ address, family: 'IPv4', internal: false });

describe('NetworkWatcher', () => {
  it('fingerprints ignore ordering', () => {
    expect(interfaceFingerprint({ lo: [lo], eth0: [eth('10.0.0.2')] })).toBe(interfaceFingerprint({ eth0: [eth('10.0.0.2')], lo: [lo] }));
  });

  it('calls onChange once per change of addresses, not for an unchanged or unreadable list', async () => {
    const clock = new FakeClock();
    let current: ReturnType<InterfaceReader> = { lo: [lo], eth0: [eth('10.0.0.2')] };
    let fail = false;
    let changes = 0;
    const watcher = new NetworkWatcher({
      clock,
      intervalMs: 1000,
      onChange: () => changes++,
      read: () => {
        if (fail) throw new Error('EPERM');
        return current;
      },
    });
    watcher.start();
    await clock.advance(5000);
    expect(changes).toBe(0);
    current = { lo: [lo], eth0: [eth('10.0.0.3')] }; // new DHCP lease
    await clock.advance(1000);
    expect(changes).toBe(1);
    fail = true;
    await clock.advance(3000);
    expect(changes).toBe(1);
    fail = false;
    current = { lo: [lo] }; // cable pulled
    await clock.advance(1000);
    expect(changes).toBe(2);
    watcher.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
