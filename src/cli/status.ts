// `marquee status`: ask a running server for its sources and print them.
import type { ApiSource } from '../api/types.js';

export class StatusError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

const STATUS_WORDS: Record<string, string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  disconnected: 'disconnected',
  auth_required: 'sign-in needed',
  sync_failed: 'sync failed',
};

/** A plain-text table: NAME, KIND, STATUS, ROUTE, LATENCY. Columns padded to the widest cell. */
export function formatStatusTable(sources: ApiSource[]): string {
  if (sources.length === 0) return 'No sources yet. Add a Plex or Jellyfin server in the web UI.\n';
  const header = ['NAME', 'KIND', 'STATUS', 'ROUTE', 'LATENCY'];
  const rows = sources.map((s) => {
    let status = STATUS_WORDS[s.status] ?? s.status;
    if (s.status === 'reconnecting' && s.attempt) status += ` (attempt ${s.attempt})`;
    return [s.name, s.kind, status, s.route?.kind ?? '-', formatLatency(s.route?.latencyMs)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export interface StatusOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8844/ or https://host/marquee/ */
  url: string;
  apiKey?: string | undefined;
  timeoutMs?: number;
}

export async function fetchSources(options: StatusOptions): Promise<ApiSource[]> {
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  let target: URL;
  try {
    target = new URL('api/sources', base);
  } catch {
    throw new StatusError(`Not a valid URL: ${options.url}`, 2);
  }
  let res: Response;
  try {
    res = await fetch(target, {
      headers: { accept: 'application/json', ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (err as Error).message;
    throw new StatusError(`Cannot reach Marquee at ${base} (${cause}). Is it running? Try --url.`, 2);
  }
  if (res.status === 401) {
    throw new StatusError(`Marquee at ${base} needs its API key: pass --api-key or set MARQUEE_API_KEY.`, 3);
  }
  if (!res.ok) throw new StatusError(`Marquee at ${base} answered HTTP ${res.status}.`, 2);
  const body: unknown = await res.json().catch(() => null);
  if (!Array.isArray(body)) throw new StatusError(`The server at ${base} did not answer like Marquee.`, 2);
  return body as ApiSource[];
}
