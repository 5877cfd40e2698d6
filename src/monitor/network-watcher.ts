// Notices when the host's network interfaces change (a cable, Wi-Fi, VPN or DHCP lease) so every
// source is re-checked at once (issue 6). Node has no interface-change event, so the address list
// is sampled cheaply on a timer and compared with the last fingerprint.
import { networkInterfaces } from 'node:os';
import { realClock, type Clock, type TimerHandle } from './clock.js';

export type InterfaceReader = () => NodeJS.Dict<Array<{ address: string; family: string | number; internal: boolean }>>;

export interface NetworkWatcherOptions {
  onChange(): void;
  clock?: Clock;
  /** How often to sample (default 2 s). */
  intervalMs?: number;
  read?: InterfaceReader;
}

/** A stable description of which addresses are up on which interfaces. */
export function interfaceFingerprint(interfaces: ReturnType<InterfaceReader>): string {
  const entries: string[] = [];
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const a of addresses ?? []) entries.push(`${name}|${String(a.family)}|${a.address}`);
  }
  return entries.sort().join(',');
}

export class NetworkWatcher {
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly read: InterfaceReader;
  private timer: TimerHandle | null = null;
  private last: string | null = null;

  constructor(private readonly options: NetworkWatcherOptions) {
    this.clock = options.clock ?? realClock;
    this.intervalMs = options.intervalMs ?? 2_000;
    this.read = options.read ?? networkInterfaces;
  }

  start(): void {
    if (this.timer !== null) return;
    this.last = this.sample();
    this.arm();
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => {
      const now = this.sample();
      if (now !== null && this.last !== null && now !== this.last) this.options.onChange();
      if (now !== null) this.last = now;
      this.arm();
    }, this.intervalMs);
  }

  private sample(): string | null {
    try {
      return interfaceFingerprint(this.read());
    } catch {
      return null; // a failed read is not a change
    }
  }
}
