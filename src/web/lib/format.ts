// Small, locale-aware formatting helpers shared by the components.

export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** "in 12 s", "3 min ago", "just now". */
export function formatRelative(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  const delta = at - now;
  const abs = Math.abs(delta);
  if (abs < 1500) return delta >= 0 ? 'now' : 'just now';
  const seconds = Math.round(abs / 1000);
  let text: string;
  if (seconds < 60) text = `${seconds} s`;
  else if (seconds < 3600) text = `${Math.round(seconds / 60)} min`;
  else if (seconds < 86_400) text = `${Math.round(seconds / 3600)} h`;
  else text = `${Math.round(seconds / 86_400)} d`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatClock(at: number | null | undefined): string {
  if (at === null || at === undefined) return '—';
  return new Date(at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Whole seconds until `at`, never negative. */
export function secondsUntil(at: number | undefined, now: number): number {
  if (at === undefined) return 0;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
