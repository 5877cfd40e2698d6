// Search across every source: the server answers with what has arrived, and asking again with the
// same q brings more until `complete`. Pure merging here (tested); the loop lives in SearchPage.
import type { ApiItem, ApiSearch, ApiSearchSource } from '../../api/types';

export interface SearchView {
  query: string;
  /** Results per source, in the order sources answered. */
  results: ApiItem[];
  sources: ApiSearchSource[];
  complete: boolean;
}

export const emptySearch = (query: string): SearchView => ({ query, results: [], sources: [], complete: false });

/** Merges a new answer: results keyed by source and id (a repeated one replaced, not doubled), sources' states from the latest answer. */
export function mergeSearch(view: SearchView, answer: ApiSearch): SearchView {
  if (answer.query.trim() !== view.query.trim()) return view;
  const byKey = new Map(view.results.map((item) => [`${item.sourceId}/${item.id}`, item]));
  for (const item of answer.results) byKey.set(`${item.sourceId}/${item.id}`, item);
  const sources = new Map(view.sources.map((s) => [s.id, s]));
  for (const source of answer.sources) sources.set(source.id, source);
  return { query: view.query, results: [...byKey.values()], sources: [...sources.values()], complete: answer.complete };
}

/** A source's state in words for the results page. */
export function searchStateWords(source: ApiSearchSource): string {
  switch (source.state) {
    case 'searching':
      return 'still searching…';
    case 'done':
      return source.count === 1 ? '1 result' : `${source.count} results`;
    case 'offline':
      return `offline — ${source.count === 1 ? '1 result' : `${source.count} results`} from what Marquee last saw`;
    case 'failed':
      return `no answer${source.error ? ` (${source.error})` : ''}`;
    case 'timeout':
      return 'no answer in time';
  }
}

/** How long each round asks the server to wait for more answers (ms): quick first, then patient. */
export function searchWaitMs(round: number): number {
  return round === 0 ? 250 : 1500;
}

/** Rounds at most per query (a server that never completes cannot make the page ask forever). */
export const SEARCH_MAX_ROUNDS = 30;
