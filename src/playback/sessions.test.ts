// Play sessions tell who started something on the server when they end: deleted, expired or evicted.
import { describe, expect, it } from 'vitest';
import { PlaySessions, type PlaySessionEnd } from './sessions.js';

const input = { sourceId: 's', itemId: 'i', mediaPath: '/p' };

describe('PlaySessions.onEnded', () => {
  it('is told once per ending, with why: deleted, expired (on get and on sweep), evicted', () => {
    let now = 0;
    const sessions = new PlaySessions({ now: () => now, idleMs: 1_000, maxSessions: 2 });
    const ended: Array<[string, PlaySessionEnd]> = [];
    sessions.onEnded((s, why) => ended.push([s.id, why]));
    const a = sessions.createDirect(input);
    expect(sessions.delete(a.id)).toBe(true);
    expect(sessions.delete(a.id)).toBe(false); // no second telling
    const b = sessions.createDirect(input);
    now = 2_000;
    expect(sessions.get(b.id)).toBeNull();
    const c = sessions.createDirect(input);
    now = 4_000;
    sessions.sweepExpired();
    const d = sessions.createDirect(input);
    sessions.createDirect(input);
    sessions.createDirect(input); // the third pushes the least recently used out
    expect(ended).toEqual([
      [a.id, 'deleted'],
      [b.id, 'expired'],
      [c.id, 'expired'],
      [d.id, 'evicted'],
    ]);
  });

  it('a throwing listener does not keep the session alive nor stop the others; unsubscribe works', () => {
    const sessions = new PlaySessions();
    const seen: string[] = [];
    sessions.onEnded(() => {
      throw new Error('boom');
    });
    const off = sessions.onEnded((s) => seen.push(s.id));
    const a = sessions.createDirect(input);
    sessions.delete(a.id);
    off();
    sessions.delete(sessions.createDirect(input).id);
    expect(seen).toEqual([a.id]);
    expect(sessions.size).toBe(0);
  });
});
