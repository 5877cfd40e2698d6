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
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
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

// Escape sequences first (CSI `ESC [ … final`, OSC `ESC ] … BEL/ST`, any other `ESC x`), then
// every other C0/C1 control, DEL, and the bidi overrides that reorder what a terminal shows.
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|[\u001b\u009d]\][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[@-_]?/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * What may reach the terminal from a server's answer: a source name is whatever the media server
 * (or anyone who can rename it) chose, and raw escapes could rewrite the screen, the title or the
 * clipboard. Sequences are dropped, other controls shown as "?".
 */
function plainText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'symbol':
    case 'function':
      return '';
    case 'object':
      return value === null ? '' : JSON.stringify(value);
  }
}

export function terminalSafe(value: unknown): string {
  return plainText(value).replace(ANSI_SEQUENCE, '').replace(CONTROL, '?');
}

/**
 * JSON as before, with the characters JSON.stringify leaves raw but a terminal may act on (DEL, C1
 * controls, bidi overrides) written as \\u escapes: the same value for any JSON reader.
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A plain-text table: NAME, KIND, STATUS, ROUTE, LATENCY. Columns padded to the widest cell. */
export function formatStatusTable(sources: ApiSource[]): string {
  if (sources.length === 0) return 'No sources yet. Add a Plex or Jellyfin server in the web UI.\n';
  const header = ['NAME', 'KIND', 'STATUS', 'ROUTE', 'LATENCY'];
  const rows = sources.map((s) => {
    let status = STATUS_WORDS[s.status] ?? s.status;
    if (s.status === 'reconnecting' && s.attempt) status += ` (attempt ${s.attempt})`;
    return [s.name, s.kind, status, s.route?.kind ?? '-', formatLatency(s.route?.latencyMs)].map(terminalSafe);
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
