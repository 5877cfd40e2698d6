import { describe, expect, it } from 'vitest';
import { busListener, EventBus, type MonitorTopics } from './event-bus.js';
import { combineListeners } from './monitor-listener.js';
import { Semaphore } from './semaphore.js';

describe('EventBus', () => {
  it('delivers typed payloads to subscribers of a topic, in subscription order', () => {
    const bus = new EventBus<{ a: number; b: string }>();
    const seen: string[] = [];
    bus.on('a', (n) => seen.push(`1:${n}`));
    bus.on('a', (n) => seen.push(`2:${n}`));
    bus.on('b', (s) => seen.push(`b:${s}`));
    bus.emit('a', 7);
    bus.emit('b', 'x');
    expect(seen).toEqual(['1:7', '2:7', 'b:x']);
  });

  it('unsubscribe and once', () => {
    const bus = new EventBus<{ a: number }>();
    const seen: number[] = [];
    const off = bus.on('a', (n) => seen.push(n));
    bus.once('a', (n) => seen.push(n * 10));
    bus.emit('a', 1);
    off();
    bus.emit('a', 2);
    expect(seen).toEqual([1, 10]);
    expect(bus.listenerCount()).toBe(0);
  });

  it('a throwing subscriber does not stop the others and is reported', () => {
    const errors: unknown[] = [];
    const bus = new EventBus<{ a: number }>((error) => errors.push(error));
    const seen: number[] = [];
    bus.on('a', () => {
      throw new Error('sse client gone');
    });
    bus.on('a', (n) => seen.push(n));
    bus.emit('a', 3);
    expect(seen).toEqual([3]);
    expect(errors).toHaveLength(1);
  });

  it('busListener publishes monitor reports as topics', () => {
    const bus = new EventBus<MonitorTopics>();
    const got: string[] = [];
    bus.on('probe', (p) => got.push(`${p.sourceId}:${p.result.routeId}:${p.info.late}`));
    bus.on('checkScheduled', (p) => got.push(`${p.sourceId}@${p.next.at}`));
    const listener = busListener(bus);
    listener.onProbe?.('s1', { ok: true, routeId: 'r1', at: 1, latencyMs: 2 }, { check: 'full', late: true });
    listener.onCheckScheduled?.('s1', { kind: 'light', at: 99 });
    expect(got).toEqual(['s1:r1:true', 's1@99']);
  });

  it('combineListeners calls every listener even if one throws, then rethrows', () => {
    const seen: string[] = [];
    const combined = combineListeners(
      { onError: () => seen.push('a') },
      {
        onError: () => {
          throw new Error('b failed');
        },
      },
      { onError: () => seen.push('c') },
    );
    expect(() => combined.onError?.(null, 'x')).toThrow('b failed');
    expect(seen).toEqual(['a', 'c']);
  });
});

describe('Semaphore', () => {
  it('grants at most `limit` slots, FIFO, and releases idempotently', async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    const b = await sem.acquire();
    const order: string[] = [];
    const c = sem.acquire().then((r) => (order.push('c'), r));
    const d = sem.acquire().then((r) => (order.push('d'), r));
    expect(sem.inUse).toBe(2);
    expect(sem.waiting).toBe(2);
    a!();
    a!(); // a second release of the same slot is ignored
    await Promise.resolve();
    expect(order).toEqual(['c']);
    expect(sem.inUse).toBe(2);
    b!();
    (await c)!();
    (await d)!();
    expect(order).toEqual(['c', 'd']);
    expect(sem.inUse).toBe(0);
  });

  it('a waiter whose signal aborts gets null and leaves the queue', async () => {
    const sem = new Semaphore(1);
    const held = await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeNull();
    expect(sem.waiting).toBe(0);
    held!();
    expect(sem.inUse).toBe(0);
    expect(await sem.acquire(AbortSignal.abort())).toBeNull();
  });
});
