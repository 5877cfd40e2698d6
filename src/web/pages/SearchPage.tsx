import { useEffect, useState } from 'react';
import type { ApiItem, ApiSearch } from '../../api/types';
import { ItemCard } from '../components/ItemCard';
import { SpinnerIcon } from '../components/Icons';
import { apiFetch, errorMessage } from '../lib/api';
import { emptySearch, mergeSearch, SEARCH_MAX_ROUNDS, searchStateWords, searchWaitMs, type SearchView } from '../lib/search';

/**
 * Results page: every source searched at once, results merged as they arrive and grouped by
 * server; a slow source says "still searching", a failed or hung one "no answer" — neither holds
 * the others back.
 */
export function SearchPage({ query }: { query: string }) {
  const q = query.trim();
  const [view, setView] = useState<SearchView>(() => emptySearch(q));
  const [error, setError] = useState<string | null>(null);
  if (view.query !== q) {
    setView(emptySearch(q));
    setError(null);
  }

  useEffect(() => {
    if (!q) return;
    const controller = new AbortController();
    const run = async () => {
      for (let round = 0; round < SEARCH_MAX_ROUNDS && !controller.signal.aborted; round++) {
        const answer = await apiFetch<ApiSearch>(`search?q=${encodeURIComponent(q)}&wait=${searchWaitMs(round)}`, { signal: controller.signal });
        setView((v) => mergeSearch(v, answer));
        if (answer.complete) return;
      }
    };
    run().catch((e: unknown) => {
      if ((e as Error).name !== 'AbortError') setError(errorMessage(e));
    });
    return () => controller.abort();
  }, [q]);

  const bySource = new Map<string, ApiItem[]>();
  for (const item of view.results) bySource.set(item.sourceId, [...(bySource.get(item.sourceId) ?? []), item]);
  const searching = q !== '' && !view.complete && !error;

  return (
    <div className="page wide" data-testid="search-page" data-complete={view.complete ? 'true' : 'false'}>
      <div className="page-head">
        <div>
          <h1>{q ? `Results for “${q}”` : 'Search'}</h1>
          <p className="muted" aria-live="polite" data-testid="search-summary">
            {!q
              ? 'Type in the search box above (press / to get there).'
              : `${view.results.length} ${view.results.length === 1 ? 'result' : 'results'} from ${bySource.size} ${bySource.size === 1 ? 'server' : 'servers'}${searching ? ' so far' : ''}`}
          </p>
        </div>
        {searching && (
          <span className="chip tone-busy" data-testid="search-busy">
            <SpinnerIcon size={14} /> Searching
          </span>
        )}
      </div>
      {error && (
        <p className="inline-error" role="alert" data-testid="search-error">
          {error}
        </p>
      )}
      {view.sources.length > 0 && (
        <ul className="search-sources" aria-label="Servers searched" data-testid="search-sources">
          {view.sources.map((source) => (
            <li key={source.id} className={`search-source state-${source.state}`} data-testid={`search-source-${source.id}`} data-state={source.state}>
              {source.state === 'searching' && <SpinnerIcon size={13} />}
              <strong>{source.name}</strong> <span>{searchStateWords(source)}</span>
            </li>
          ))}
        </ul>
      )}
      {view.sources.map((source) => {
        const items = bySource.get(source.id);
        if (!items || items.length === 0) return null;
        return (
          <section key={source.id} className="item-row-section" aria-labelledby={`search-${source.id}-heading`} data-testid={`search-results-${source.id}`}>
            <h2 id={`search-${source.id}-heading`} className="row-heading">
              {source.name} <span className="muted">({items.length})</span>
            </h2>
            <ul className="item-grid">
              {items.map((item) => (
                <li key={item.id}>
                  <ItemCard item={item} />
                </li>
              ))}
            </ul>
          </section>
        );
      })}
      {view.complete && view.results.length === 0 && q && (
        <div className="empty-state" data-testid="search-empty">
          <h2>Nothing found</h2>
          <p className="muted">No server has anything called “{q}”.</p>
        </div>
      )}
    </div>
  );
}
