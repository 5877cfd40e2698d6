// A fake MediaBackend whose answers are scripted per route: ok / an error code after a delay, a
// hang that ends at the backend's own timeout, or a black hole that ignores timeout and abort.
import type { BackendTarget, CallOptions, Credentials, LibrariesResult, MediaBackend, PushChannel, PushHandlers, PushOptions } from '../../src/backends/types.js';
import type { Library, ProbeErrorCode, ProbeResult, Route, SourceKind } from '../../src/core/types.js';
import type { Clock } from '../../src/monitor/clock.js';

export type ProbeScript =
  | { answer: 'ok'; delayMs?: number }
  | { answer: ProbeErrorCode; delayMs?: number }
  /** Times out like a real backend (at options.timeoutMs), or earlier when aborted. */
  | { answer: 'hang' }
  /** Never settles, ignoring timeout and abort: only the monitor's own deadline ends it. */
  | { answer: 'black_hole' };

export type LibrariesScript = { ok: true; libraries: Library[]; delayMs?: number } | { ok: false; code: ProbeErrorCode; message?: string; delayMs?: number };

export interface ProbeCall {
  routeId: string;
  serverId: string;
  token: string;
  at: number;
}

/** A push channel opened on the scripted backend; the test drives its handlers. */
export interface FakePushChannel extends PushChannel {
  routeId: string;
  token: string;
  handlers: PushHandlers;
  options: PushOptions;
  closed: boolean;
}

export class ScriptedBackend implements MediaBackend {
  readonly pushChannels: FakePushChannel[] = [];
  private readonly probes = new Map<string, ProbeScript>();
  private librariesScript: LibrariesScript = { ok: true, libraries: [{ id: 'lib-1', name: 'Movies', type: 'movie' }] };
  readonly calls: ProbeCall[] = [];
  readonly libraryCalls: Array<{ routeId: string; at: number }> = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly clock: Clock,
    readonly kind: SourceKind = 'plex',
    private readonly defaultScript: ProbeScript = { answer: 'ok', delayMs: 5 },
  ) {}

  /** Script a route (by id); applies to every later probe of it. */
  route(routeId: string, script: ProbeScript): this {
    this.probes.set(routeId, script);
    return this;
  }

  setLibraries(script: LibrariesScript): this {
    this.librariesScript = script;
    return this;
  }

  probe(target: BackendTarget, route: Route, credentials: Credentials, options: CallOptions): Promise<ProbeResult> {
    const script = this.probes.get(route.id) ?? this.defaultScript;
    const start = this.clock.now();
    this.calls.push({ routeId: route.id, serverId: target.serverId, token: credentials.token, at: start });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = (result: ProbeResult) => {
      this.inFlight--;
      return result;
    };
    if (script.answer === 'black_hole') return new Promise(() => {});
    return new Promise<ProbeResult>((resolve) => {
      const delay = script.answer === 'hang' ? options.timeoutMs : (script.delayMs ?? 5);
      const finish = () => {
        options.signal?.removeEventListener('abort', onAbort);
        const latencyMs = this.clock.now() - start;
        if (script.answer === 'ok') resolve(done({ ok: true, routeId: route.id, at: this.clock.now(), latencyMs }));
        else {
          const code: ProbeErrorCode = script.answer === 'hang' ? 'timeout' : script.answer;
          resolve(done({ ok: false, routeId: route.id, at: this.clock.now(), latencyMs, error: { code, message: `${code} (scripted)` } }));
        }
      };
      const timer = this.clock.setTimeout(finish, delay);
      const onAbort = () => {
        this.clock.clearTimeout(timer);
        resolve(done({ ok: false, routeId: route.id, at: this.clock.now(), latencyMs: this.clock.now() - start, error: { code: 'timeout', message: 'aborted' } }));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  openPush(_target: BackendTarget, route: Route, credentials: Credentials, handlers: PushHandlers, options: PushOptions): PushChannel {
    const channel: FakePushChannel = {
      routeId: route.id,
      token: credentials.token,
      // Like a real socket, a channel that reports itself lost is gone.
      handlers: {
        ...handlers,
        onLost: (detail) => {
          channel.closed = true;
          handlers.onLost(detail);
        },
      },
      options,
      closed: false,
      close() {
        channel.closed = true;
      },
    };
    this.pushChannels.push(channel);
    return channel;
  }

  /** Channels neither closed by us nor reported lost. */
  openChannels(): FakePushChannel[] {
    return this.pushChannels.filter((c) => !c.closed);
  }

  libraries(_target: BackendTarget, route: Route, _credentials: Credentials, options: CallOptions): Promise<LibrariesResult> {
    this.libraryCalls.push({ routeId: route.id, at: this.clock.now() });
    const script = this.librariesScript;
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(script.ok ? { ok: true, libraries: script.libraries } : { ok: false, error: { code: script.code, message: script.message ?? `${script.code} (scripted)` } });
      }, script.delayMs ?? 5);
      const onAbort = () => {
        this.clock.clearTimeout(timer);
        resolve({ ok: false, error: { code: 'timeout', message: 'aborted' } });
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
