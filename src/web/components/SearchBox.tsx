import { useEffect, useRef, useState } from 'react';
import { navigate, useRoute } from '../lib/hooks';
import { SearchIcon } from './Icons';

/** Typing settles this long before the results page follows it. */
export const SEARCH_DEBOUNCE_MS = 300;

/** True when a key press belongs to a field the user is typing in. */
function typingInField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/**
 * The header's search: `/` focuses it (unless typing elsewhere), typing shows results after a
 * pause (the results page follows the words, one history entry per search), Enter goes at once.
 */
export function SearchBox() {
  const route = useRoute();
  const routeQuery = route.page === 'search' ? (route.query ?? '') : null;
  const [text, setText] = useState(routeQuery ?? '');
  const inputRef = useRef<HTMLInputElement>(null);
  const timer = useRef<number | undefined>(undefined);

  // The address bar (back, a link) changes the search: the box says the same words.
  const [shownQuery, setShownQuery] = useState(routeQuery);
  if (routeQuery !== shownQuery) {
    setShownQuery(routeQuery);
    if (routeQuery !== null && routeQuery !== text.trim()) setText(routeQuery);
  }

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || typingInField(event.target)) return;
      event.preventDefault();
      inputRef.current?.focus();
      inputRef.current?.select();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const go = (words: string, immediate: boolean) => {
    window.clearTimeout(timer.current);
    const q = words.trim();
    const run = () => {
      if (!q) return;
      // Already on the results page: rewrite it as the words change; otherwise open it.
      navigate({ page: 'search', query: q }, { replace: route.page === 'search' && !immediate });
      if (immediate) {
        // Enter: the results are where the user is going — move focus to their heading.
        requestAnimationFrame(() => {
          const heading = document.querySelector<HTMLElement>('main h1');
          if (heading) {
            heading.tabIndex = -1;
            heading.focus({ preventScroll: true });
          }
        });
      }
    };
    if (immediate) run();
    else timer.current = window.setTimeout(run, SEARCH_DEBOUNCE_MS);
  };

  return (
    <form
      className="header-search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        go(text, true);
      }}
    >
      <SearchIcon size={16} />
      <input
        ref={inputRef}
        type="search"
        value={text}
        placeholder="Search all libraries"
        aria-label="Search all libraries"
        aria-keyshortcuts="/"
        enterKeyHint="search"
        autoComplete="off"
        spellCheck={false}
        maxLength={200}
        data-testid="search-input"
        onChange={(e) => {
          setText(e.target.value);
          go(e.target.value, false);
        }}
      />
      <kbd className="search-hint" aria-hidden="true">
        /
      </kbd>
    </form>
  );
}
