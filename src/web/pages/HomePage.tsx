import type { ApiHome, ApiItem, ApiSourceAvailability } from '../../api/types';
import { ItemCard, ItemCardSkeleton } from '../components/ItemCard';
import { href, useApp } from '../lib/hooks';
import { offlineSince, useApiGet } from '../lib/library';

/**
 * Home: Continue watching and Recently added, merged across sources by the server (which never
 * waits for a hung server), each card saying its server; a source that is away shows its cached
 * cards marked offline. Refetched when a source's status changes (one coming back brings its
 * cards back to life).
 */
export function HomePage() {
  // Sources' status changes (not every revision): a reconnect or a loss refreshes the rows in place.
  const statusKey = useApp((s) => s.sources.map((source) => `${source.id}:${source.status}`).join('|'));
  const home = useApiGet<ApiHome>('home', statusKey);
  const sources = useApp((s) => s.sources);
  const loaded = useApp((s) => s.loaded);
  const data = home.data;
  return (
    <div className="page wide" data-testid="home-page">
      <div className="page-head">
        <div>
          <h1>Home</h1>
          <p className="muted">Every library of every server, in one place.</p>
        </div>
      </div>
      {loaded && sources.length === 0 && (
        <div className="empty-state">
          <h2>No servers yet</h2>
          <p className="muted">Add your Plex or Jellyfin server to browse its libraries here.</p>
          <a className="button primary" href={href({ page: 'add' })}>
            Add a server
          </a>
        </div>
      )}
      {home.error && !data && (
        <p className="inline-error" role="alert" data-testid="home-error">
          {home.error}
        </p>
      )}
      {data && <SourceNotes sources={data.sources} />}
      <ItemRow title="Continue watching" testId="home-continue" items={data?.continueWatching} loading={!data && !home.error} empty="Nothing in progress." />
      <ItemRow title="Recently added" testId="home-recent" items={data?.recentlyAdded} loading={!data && !home.error} empty="Nothing added lately." />
    </div>
  );
}

/** A line per source that did not answer now: away (cached cards shown), failed or timed out. */
function SourceNotes({ sources }: { sources: ApiSourceAvailability[] }) {
  const notes = sources.filter((s) => s.state !== 'online');
  if (notes.length === 0) return null;
  return (
    <ul className="source-notes" data-testid="home-source-notes">
      {notes.map((source) => (
        <li key={source.id} className={`source-note state-${source.state}`} data-testid={`home-source-${source.id}`} data-state={source.state}>
          <strong>{source.name}</strong>{' '}
          {source.state === 'offline'
            ? `is ${offlineSince(source.offlineSince)}: its cards come from what Marquee last saw.`
            : source.state === 'timeout'
              ? 'did not answer in time: its cards are missing for now.'
              : `could not answer${source.error ? `: ${source.error}` : '.'}`}
        </li>
      ))}
    </ul>
  );
}

function ItemRow({ title, items, loading, empty, testId }: { title: string; items: ApiItem[] | undefined; loading: boolean; empty: string; testId: string }) {
  const headingId = `${testId}-heading`;
  return (
    <section className="item-row-section" aria-labelledby={headingId} data-testid={testId}>
      <h2 id={headingId} className="row-heading">
        {title}
      </h2>
      {loading ? (
        <div className="item-row" aria-busy="true">
          {Array.from({ length: 6 }, (_, i) => (
            <ItemCardSkeleton key={i} />
          ))}
        </div>
      ) : items && items.length > 0 ? (
        <ul className="item-row" data-count={items.length}>
          {items.map((item) => (
            <li key={`${item.sourceId}/${item.id}`}>
              <ItemCard item={item} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted row-empty">{empty}</p>
      )}
    </section>
  );
}
