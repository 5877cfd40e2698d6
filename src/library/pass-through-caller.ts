// The simplest RoutedCaller: the source's current connected route (engine.getSource), its
// credentials (engine.getCredentials), one try, no failover. The runtime uses it until the
// engine's own caller (request failover, issue 14) is merged; swap it in src/cli/runtime.ts then.
import type { BrowseResult, MediaBackend } from '../backends/types.js';
import type { SourceKind } from '../core/types.js';
import type { Engine, RoutedCaller, RoutedOutcome, RouteUse } from '../monitor/engine-types.js';

/**
 * The simplest RoutedCaller: the source's current connected route (engine.getSource), its
 * credentials (engine.getCredentials), one try, no failover.
 */
export class PassThroughCaller implements RoutedCaller {
  constructor(
    private readonly engine: Pick<Engine, 'getSource' | 'getCredentials'>,
    private readonly backendFor: (kind: SourceKind) => MediaBackend | undefined,
  ) {}

  async call<T>(
    sourceId: string,
    run: (use: RouteUse, signal: AbortSignal) => Promise<BrowseResult<T>>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<RoutedOutcome<T>> {
    const snapshot = this.engine.getSource(sourceId);
    if (!snapshot) return { ok: false, reason: 'unknown_source', message: 'no such source' };
    const status = snapshot.status;
    const route = status.state === 'connected' || status.state === 'sync_failed' ? snapshot.source.routes.find((r) => r.id === status.routeId) : undefined;
    const credentials = this.engine.getCredentials(sourceId);
    const backend = this.backendFor(snapshot.source.kind);
    if (!route || !credentials || !backend) return { ok: false, reason: 'offline', message: `${snapshot.source.name} has no working connection right now` };
    const controller = new AbortController();
    const timer = options.timeoutMs !== undefined ? setTimeout(() => controller.abort(), options.timeoutMs) : null;
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const use: RouteUse = { target: { kind: snapshot.source.kind, serverId: snapshot.source.serverId }, route, credentials, source: snapshot.source, backend };
      const result = await run(use, controller.signal).catch((error: unknown) => ({ ok: false as const, error: { code: 'timeout' as const, message: error instanceof Error ? error.message : String(error) } }));
      if (result.ok) return { ok: true, value: result.value, routeId: route.id, routeKind: route.kind, retried: false };
      return { ok: false, reason: 'failed', message: result.error.message, error: result.error };
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
