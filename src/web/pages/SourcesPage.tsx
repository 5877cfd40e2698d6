import { useEffect } from 'react';
import { SourceCard } from '../components/SourceCard';
import { PlusIcon, ServerIcon } from '../components/Icons';
import { href, useApp } from '../lib/hooks';
import { overallStatus } from '../lib/status';

export function SourcesPage({ focusId }: { focusId?: string }) {
  const sources = useApp((s) => s.sources);
  const loaded = useApp((s) => s.loaded);
  const overall = overallStatus(sources);

  useEffect(() => {
    if (!focusId) return;
    const card = document.getElementById(`source-${focusId}`);
    if (card) {
      card.scrollIntoView({ behavior: 'smooth', block: 'start' });
      card.focus({ preventScroll: true });
    }
  }, [focusId, loaded]);

  return (
    <div className="page" data-testid="sources-page">
      <div className="page-head">
        <div>
          <h1>Servers</h1>
          <p className="muted">{loaded ? overall.sentence : 'Loading…'}</p>
        </div>
        <a className="button primary" href={href({ page: 'add' })} data-testid="add-source-page-button">
          <PlusIcon size={16} /> Add a server
        </a>
      </div>
      {loaded && sources.length === 0 && (
        <div className="empty-state">
          <ServerIcon size={40} />
          <h2>No servers yet</h2>
          <p className="muted">Add your Plex or Jellyfin server: Marquee finds every way to reach it and keeps watching.</p>
          <a className="button primary" href={href({ page: 'add' })}>
            <PlusIcon size={16} /> Add a server
          </a>
        </div>
      )}
      {!loaded && (
        <div className="card-list">
          <div className="skeleton card" />
          <div className="skeleton card" />
        </div>
      )}
      <div className="card-list">
        {sources.map((source) => (
          <SourceCard key={source.id} source={source} highlighted={focusId === source.id} />
        ))}
      </div>
    </div>
  );
}
