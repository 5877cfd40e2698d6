// A library page's sort and filters, kept in its URL (`/library/s/l?sort=year&order=desc&genre=Drama`)
// so a reload or a shared link shows the same grid. Pure: parsed leniently (an unknown value is
// ignored, never an error), written with the defaults left out.
// The contract's lists, restated without importing src/api/requests at run time (that would
// bring zod into the bundle); `satisfies` keeps them in step with the contract's types.
import type { LIBRARY_FILTERS as CONTRACT_FILTERS, LIBRARY_SORTS as CONTRACT_SORTS } from '../../api/requests';

type ContractSort = (typeof CONTRACT_SORTS)[number];
type ContractFilter = (typeof CONTRACT_FILTERS)[number];
const LIBRARY_SORTS = ['title', 'added', 'year', 'rating'] as const satisfies readonly ContractSort[];
const LIBRARY_FILTERS = ['unwatched', 'watched', 'in_progress'] as const satisfies readonly ContractFilter[];

export type LibrarySort = ContractSort;
export type LibraryFilter = ContractFilter;

export interface LibraryQuery {
  sort: LibrarySort;
  order: 'asc' | 'desc';
  filter?: LibraryFilter;
  genre?: string;
  year?: number;
}

/** Titles A→Z; dates, years and ratings newest/highest first. */
export function defaultOrder(sort: LibrarySort): 'asc' | 'desc' {
  return sort === 'title' ? 'asc' : 'desc';
}

export function parseLibraryQuery(search: string): LibraryQuery {
  const params = new URLSearchParams(search);
  const rawSort = params.get('sort');
  const sort: LibrarySort = (LIBRARY_SORTS as readonly string[]).includes(rawSort ?? '') ? (rawSort as LibrarySort) : 'title';
  const rawOrder = params.get('order');
  const order = rawOrder === 'asc' || rawOrder === 'desc' ? rawOrder : defaultOrder(sort);
  const rawFilter = params.get('filter');
  const filter = (LIBRARY_FILTERS as readonly string[]).includes(rawFilter ?? '') ? (rawFilter as LibraryFilter) : undefined;
  const genre = params.get('genre')?.trim() || undefined;
  const year = Number(params.get('year'));
  return { sort, order, filter, genre: genre && genre.length <= 100 ? genre : undefined, year: Number.isInteger(year) && year >= 1800 && year <= 3000 ? year : undefined };
}

/** The query string (no `?`) of a library page, which is also the items request's filter part. `order: undefined` means the sort's default. */
export function libraryQueryString(query: Omit<LibraryQuery, 'order'> & { order?: 'asc' | 'desc' }): string {
  const params = new URLSearchParams();
  params.set('sort', query.sort);
  params.set('order', query.order ?? defaultOrder(query.sort));
  if (query.filter) params.set('filter', query.filter);
  if (query.genre) params.set('genre', query.genre);
  if (query.year !== undefined) params.set('year', String(query.year));
  return params.toString();
}
