// The decisions of a library sync (issue 14), pure: which kind of sync is due, and after each page
// whether to ask for the next one, stop, or give up. A server whose paging loops or lies about its
// total can never make the loop run on: every page must bring new items, and the items received
// may not exceed the total first claimed plus a slack.

export interface SyncHistory {
  /** Last complete (cold) sync, null when never. */
  fullSyncAt: number | null;
  /** Highest updatedAt seen so far. */
  highWaterMs: number | null;
}

export type SyncPlan = { mode: 'full' } | { mode: 'incremental'; sinceMs: number };

/** Full when never synced, when the server gave no change times, or when the last full sync is older than `fullSyncMs` (deletions). */
export function planSync(history: SyncHistory | null, now: number, fullSyncMs: number): SyncPlan {
  if (!history || history.fullSyncAt === null || history.highWaterMs === null) return { mode: 'full' };
  if (now - history.fullSyncAt >= fullSyncMs) return { mode: 'full' };
  return { mode: 'incremental', sinceMs: history.highWaterMs };
}

export interface PagingState {
  pageSize: number;
  /** Next start index to ask for. */
  next: number;
  /** The total the first page claimed (null before it). */
  claimedTotal: number | null;
  /** Distinct items received so far. */
  received: number;
  pages: number;
}

export type PagingStep =
  | { action: 'fetch'; state: PagingState }
  | { action: 'done'; state: PagingState }
  /** Plain words: why the answers cannot be trusted (the old cache stays). */
  | { action: 'fail'; reason: string };

export function startPaging(pageSize: number): PagingState {
  return { pageSize, next: 0, claimedTotal: null, received: 0, pages: 0 };
}

/** Room beyond the claimed total (items added while paging): a page, or 10 %. */
export function pagingSlack(claimedTotal: number, pageSize: number): number {
  return Math.max(pageSize, Math.ceil(claimedTotal * 0.1));
}

/**
 * After a page: `count` items arrived, `fresh` of them new (not received before), and the server
 * claims `total`.
 */
export function afterPage(state: PagingState, page: { count: number; fresh: number; total: number }): PagingStep {
  const claimedTotal = state.claimedTotal ?? Math.max(0, page.total);
  const received = state.received + page.fresh;
  const next: PagingState = { ...state, claimedTotal, received, next: state.next + page.count, pages: state.pages + 1 };
  if (page.count === 0) return { action: 'done', state: next };
  if (page.fresh === 0) return { action: 'fail', reason: `the server sent the same items again at position ${state.next} (its paging loops)` };
  const bound = claimedTotal + pagingSlack(claimedTotal, state.pageSize);
  if (received > bound) return { action: 'fail', reason: `the server sent more items (${received}) than the ${claimedTotal} it said the library holds` };
  // A short page is the last one. A full page asks once more even at the claimed total: a total
  // that is too low must not cut the library short (a full sync removes what it did not receive).
  if (page.count < state.pageSize) return { action: 'done', state: next };
  return { action: 'fetch', state: next };
}
