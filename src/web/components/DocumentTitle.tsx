import { useEffect } from 'react';
import { useApp } from '../lib/hooks';
import { overallStatus } from '../lib/status';

/** Keeps the tab title truthful too: a background tab shows when something needs attention. */
export function DocumentTitle() {
  const sources = useApp((s) => s.sources);
  const loaded = useApp((s) => s.loaded);
  const link = useApp((s) => s.link);
  useEffect(() => {
    if (!loaded) return;
    const view = overallStatus(sources);
    const prefix = link === 'lost' ? '⟳ ' : view.state === 'ok' || view.state === 'empty' ? '' : view.state === 'offline' ? '✕ ' : '⚠ ';
    document.title = `${prefix}Marquee — ${link === 'lost' ? 'reconnecting to Marquee' : view.label}`;
  }, [sources, loaded, link]);
  return null;
}
