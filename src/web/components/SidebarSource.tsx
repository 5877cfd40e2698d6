import { memo, type Ref } from 'react';
import type { ApiSource } from '../../api/types';
import { formatLatency } from '../lib/format';
import { href } from '../lib/hooks';
import { openSignIn, setNavOpen } from '../lib/ui-state';
import { LibraryIcon, SourceKindIcon } from './Icons';
import { StatusBadge } from './StatusBadge';

/**
 * One source in the sidebar. Memoized: while the sidebar scrolls, only entries that change (a
 * source updated, the active one) re-render, not every entry on screen each frame.
 */
export const SidebarSource = memo(function SidebarSource({
  source,
  active,
  activeLibraryId,
  rowIndex,
  rowOffset,
  ref,
}: {
  source: ApiSource;
  active: boolean;
  /** The library whose page is shown, when it is one of this source's. */
  activeLibraryId?: string;
  /** Set when the list is virtualized: the entry's index (to measure it through `ref`) and its offset in the list. */
  rowIndex?: number;
  rowOffset?: number;
  ref?: Ref<HTMLLIElement>;
}) {
  // Libraries stay listed while a server is away (last known), but dimmed so they do not look reachable.
  const usable = source.status === 'connected' || source.status === 'sync_failed';
  return (
    <li
      ref={ref}
      className={`sidebar-source${active ? ' active' : ''}${rowOffset === undefined ? '' : ' virtual-row'}`}
      data-testid={`sidebar-source-${source.id}`}
      data-index={rowIndex}
      style={rowOffset === undefined ? undefined : { transform: `translateY(${rowOffset}px)` }}
    >
      <div className="sidebar-source-head">
        <a
          className="sidebar-source-link"
          href={href({ page: 'sources', sourceId: source.id })}
          aria-current={active ? 'page' : undefined}
          onClick={() => setNavOpen(false)}
        >
          <SourceKindIcon kind={source.kind} />
          <span className="sidebar-source-name">{source.name}</span>
        </a>
        <div className="sidebar-source-meta">
          <StatusBadge source={source} testId={`source-status-${source.id}`} />
          {source.route && source.status === 'connected' && <span className="sidebar-latency">{formatLatency(source.route.latencyMs)}</span>}
        </div>
      </div>
      {source.status === 'auth_required' && (
        <button type="button" className="button small warn sidebar-signin" data-testid={`sidebar-signin-${source.id}`} onClick={() => openSignIn(source.id)}>
          Sign in again
        </button>
      )}
      {source.libraries.length > 0 ? (
        <ul className={`library-list${usable ? '' : ' stale'}`} aria-label={`${source.name} libraries${usable ? '' : ' (last known)'}`}>
          {source.libraries.map((library) => (
            <li key={library.id}>
              <a
                className={`library-item${activeLibraryId === library.id ? ' active' : ''}`}
                href={href({ page: 'library', sourceId: source.id, libraryId: library.id })}
                aria-current={activeLibraryId === library.id ? 'page' : undefined}
                onClick={() => setNavOpen(false)}
                data-testid={`library-${source.id}-${library.id}`}
                data-library-type={library.type}
              >
                <LibraryIcon type={library.type} />
                <span>{library.name}</span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <p className="library-empty">{source.status === 'connecting' ? 'Loading libraries…' : 'No libraries'}</p>
      )}
    </li>
  );
});
