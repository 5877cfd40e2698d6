// nftables faults for one route, applied only inside a private network namespace (see netns.ts).
//
//   drop(addr, port)   pulled cable: every packet to addr:port AND every packet from it is dropped,
//                      so new connects time out and established (kept-alive) connections go silent.
//                      Without a port, all traffic to and from the address (any protocol).
//   reset(addr, port)  dead host: packets to addr:port are answered with a TCP reset (connects fail
//                      with ECONNREFUSED, established connections with ECONNRESET) and whatever the
//                      server still sends is dropped.
//   clear(addr, port)  remove the fault for that target; clear() removes all.
//   cleanup()          delete the table (also done automatically at process exit).
//
// All rules live in the dedicated table `ip marquee_test`, rewritten atomically with `nft -f -` on
// every change. Only 127.0.0.0/8 addresses are accepted, and nothing is applied unless the process
// is in a namespace whose only interface is loopback — the host's firewall is never touched.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { interfacesFromNetDev } from './netns.js';

export const NFT_TABLE = 'marquee_test';

export type FaultMode = 'drop' | 'reset';

export interface FaultTarget {
  addr: string;
  /** Omit to affect every TCP port of the address. */
  port?: number;
}

const faults = new Map<string, { target: FaultTarget; mode: FaultMode }>();
let exitHookInstalled = false;
let tableExists = false;

/** Throws unless `addr` is a dotted IPv4 address inside 127.0.0.0/8. */
export function assertLoopbackAddress(addr: string): void {
  if (net.isIPv4(addr) && addr.split('.')[0] === '127') return;
  throw new Error(`refusing nft rule for ${JSON.stringify(addr)}: only 127.0.0.0/8 addresses are allowed`);
}

function assertPort(port: number | undefined): void {
  if (port === undefined) return;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`refusing nft rule: invalid port ${String(port)}`);
}

/**
 * Throws unless this process sits in a network namespace that holds only `lo`. `netDev` (the text
 * of /proc/net/dev) is read from this process's namespace unless given.
 */
export function assertPrivateNamespace(netDev?: string): void {
  let interfaces: string[];
  try {
    interfaces = interfacesFromNetDev(netDev ?? readFileSync('/proc/self/net/dev', 'utf8'));
  } catch (error) {
    throw new Error(`refusing nft rules: cannot read /proc/self/net/dev (${(error as Error).message})`);
  }
  const others = interfaces.filter((name) => name !== 'lo');
  if (others.length > 0) {
    throw new Error(`refusing nft rules outside a private network namespace (this one has ${others.join(', ')}); use runInNetns`);
  }
}

function key(target: FaultTarget): string {
  return `${target.addr}:${target.port ?? '*'}`;
}

function match(target: FaultTarget, direction: 'to' | 'from', tcpOnly: boolean): string {
  const addr = direction === 'to' ? `ip daddr ${target.addr}` : `ip saddr ${target.addr}`;
  if (target.port === undefined) return tcpOnly ? `${addr} meta l4proto tcp` : addr;
  return `${addr} tcp ${direction === 'to' ? 'dport' : 'sport'} ${target.port}`;
}

/** The full nft script for the current fault set (exported for tests and debugging). */
export function renderRuleset(): string {
  const rules: string[] = [];
  for (const { target, mode } of faults.values()) {
    if (mode === 'drop') {
      // A pulled cable silences everything, not only TCP (when no port narrows it).
      rules.push(`${match(target, 'to', false)} drop`);
      rules.push(`${match(target, 'from', false)} drop`);
    } else {
      rules.push(`${match(target, 'to', true)} reject with tcp reset`);
      // The reset nft itself sends back carries the target as source: let it through.
      rules.push(`${match(target, 'from', true)} tcp flags ! rst drop`);
    }
  }
  // Loopback traffic passes the output hook once per packet, so one output chain sees both
  // directions of every connection.
  return [
    `table ip ${NFT_TABLE}`,
    `delete table ip ${NFT_TABLE}`,
    `table ip ${NFT_TABLE} {`,
    '  chain output {',
    '    type filter hook output priority filter; policy accept;',
    ...rules.map((rule) => `    ${rule}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

function apply(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'], timeout: 5_000 });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    try {
      cleanup();
    } catch {
      // the namespace dies with us anyway
    }
  });
}

function setFault(target: FaultTarget, mode: FaultMode): void {
  assertLoopbackAddress(target.addr);
  assertPort(target.port);
  assertPrivateNamespace();
  const previous = faults.get(key(target));
  faults.set(key(target), { target: { addr: target.addr, port: target.port }, mode });
  try {
    apply(renderRuleset());
  } catch (error) {
    if (previous) faults.set(key(target), previous);
    else faults.delete(key(target));
    throw error;
  }
  tableExists = true;
  installExitHook();
}

/** Pulled cable on addr[:port]: packets in both directions are silently dropped. */
export function drop(addr: string, port?: number): void {
  setFault({ addr, port }, 'drop');
}

/** Dead host on addr[:port]: TCP resets for everything sent to it. */
export function reset(addr: string, port?: number): void {
  setFault({ addr, port }, 'reset');
}

/** Removes the fault on addr[:port] (exactly as it was set), or every fault when called without arguments. */
export function clear(addr?: string, port?: number): void {
  if (addr === undefined) {
    faults.clear();
  } else {
    assertLoopbackAddress(addr);
    assertPort(port);
    faults.delete(key({ addr, port }));
  }
  if (!tableExists) return;
  assertPrivateNamespace();
  apply(renderRuleset());
}

/** Currently applied faults. */
export function activeFaults(): Array<{ addr: string; port?: number; mode: FaultMode }> {
  return [...faults.values()].map(({ target, mode }) => ({ ...target, mode }));
}

/** Deletes the table and forgets all faults. */
export function cleanup(): void {
  faults.clear();
  if (!tableExists) return;
  assertPrivateNamespace();
  apply(`table ip ${NFT_TABLE}\ndelete table ip ${NFT_TABLE}\n`);
  tableExists = false;
}

/** The live ruleset of our table (for assertions and debugging). */
export function listTable(): string {
  assertPrivateNamespace();
  try {
    return execFileSync('nft', ['list', 'table', 'ip', NFT_TABLE], { encoding: 'utf8', timeout: 5_000 });
  } catch {
    return '';
  }
}
