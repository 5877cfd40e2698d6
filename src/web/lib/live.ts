// The live link to Marquee: one EventSource on /api/events. The first message is a snapshot that
// replaces all state. After a drop, EventSource reconnects with Last-Event-ID and the server either
// resumes losslessly (the missed engine/source/removed messages) or sends a fresh snapshot when it
// cannot vouch for the gap — both paths end in the true current state.
// Side effects: damped toasts and live-region announcements.
import { toast } from 'sonner';
import type { ApiEventMessage, ApiLibraryUpdate, ApiSnapshot, ApiSource, ApiSourceRemoved, ApiSourceUpdate } from '../../api/types';
import { createToastPolicy, decideToast, forgetSource, sourceToastId, toastDismissed, toastDurationMs, visibleToast } from '../toast-policy';
import { apiUrl } from './api';
import { libraryChanged } from './library';
import { toastForEvent } from './notifications';
import { applyHealth, applySnapshot, createStore, initialState, removeSource, statusKey, upsertSource } from './state';
import { describeStatus } from './status';
import { announce, openSignIn } from './ui-state';

export const appStore = createStore(initialState);

/** Toast damping window, configurable for tests and impatient users via localStorage. */
function toastWindowMs(): number {
  try {
    const raw = window.localStorage.getItem('marquee:toastWindowMs');
    const value = raw === null ? Number.NaN : Number(raw);
    if (Number.isFinite(value) && value >= 0) return value;
  } catch {
    /* storage disabled */
  }
  return 60_000;
}

let policy = createToastPolicy({ windowMs: toastWindowMs() });

/** Events older than this (replayed after a long disconnect) update state but never toast. */
const STALE_EVENT_MS = 2 * 60_000;

function serverNow(): number {
  return Date.now() + appStore.get().clockOffsetMs;
}

function announceChange(before: ApiSource | undefined, after: ApiSource): void {
  if (before && statusKey(before) === statusKey(after)) return;
  if (!before && after.status === 'connecting') return;
  announce(describeStatus(after, serverNow()).sentence);
}

function showToast(message: ApiEventMessage): void {
  const { event } = message;
  if (event.type === 'AuthStatusChanged' && !event.authRequired && visibleToast(policy, event.sourceId, Date.now()) === 'auth') {
    // Signed in again: the sticky "Sign in to X again" toast is no longer true (the sign-in dialog says it worked).
    toast.dismiss(sourceToastId(event.sourceId));
    policy = toastDismissed(policy, event.sourceId);
    return;
  }
  const content = toastForEvent(message.event, message.source?.preferredRouteKind);
  if (!content) return;
  if (serverNow() - message.event.at > STALE_EVENT_MS) return;
  const sourceId = message.event.sourceId;
  // One toast slot per source: sonner rewrites the toast with this id in place instead of stacking
  // a new one, so the toast on screen always says the latest truth about its server.
  const id = sourceToastId(sourceId);
  const result = decideToast(policy, sourceId, content.kind, Date.now());
  policy = result.state;
  const { decision } = result;
  if (!decision.show) {
    // 'rate': the policy reckons this source's toast gone. Sonner pauses its timer while the
    // pointer is over the toasts or the tab is hidden, so one may linger: take it away rather
    // than leave it telling an old story.
    if (decision.why === 'rate') toast.dismiss(id);
    return;
  }
  const onGone = () => {
    policy = toastDismissed(policy, sourceId);
  };
  const common = {
    id,
    testId: id,
    duration: toastDurationMs(decision.kind),
    onDismiss: onGone,
    onAutoClose: onGone,
  };
  if (decision.kind === 'unstable') {
    toast.warning(`${message.event.sourceName} is unstable`, {
      ...common,
      description: 'Its connection keeps changing. Marquee stays quiet about it until it settles; the sidebar always shows its current state.',
      action: undefined,
    });
    return;
  }
  const options = {
    ...common,
    description: content.description,
    action: content.signIn ? { label: 'Sign in', onClick: () => openSignIn(sourceId) } : undefined,
  };
  if (content.tone === 'error') toast.error(content.title, options);
  else if (content.tone === 'success') toast.success(content.title, options);
  else toast.warning(content.title, options);
}

function parse<T>(event: MessageEvent): T | null {
  try {
    return JSON.parse(event.data as string) as T;
  } catch {
    return null;
  }
}

function sourceById(id: string): ApiSource | undefined {
  return appStore.get().sources.find((s) => s.id === id);
}

function onSnapshot(snapshot: ApiSnapshot): void {
  const before = appStore.get();
  appStore.set((s) => applySnapshot(s, snapshot, Date.now()));
  if (before.loaded) {
    // A resync after a lost link: say in words what changed meanwhile.
    for (const source of snapshot.sources) announceChange(before.sources.find((s) => s.id === source.id), source);
  }
}

function onEngine(message: ApiEventMessage): void {
  if (message.seq <= appStore.get().lastEventId) return; // already part of the snapshot
  appStore.set((s) => ({ ...s, lastEventId: message.seq }));
  if (message.source) {
    const before = sourceById(message.source.id);
    const after = message.source;
    appStore.set((s) => upsertSource(s, after));
    announceChange(before, after);
  }
  showToast(message);
}

function onSource(update: ApiSourceUpdate): void {
  const before = sourceById(update.source.id);
  appStore.set((s) => upsertSource(s, update.source));
  announceChange(before, update.source);
}

function onRemoved(removed: ApiSourceRemoved): void {
  const before = sourceById(removed.sourceId);
  appStore.set((s) => removeSource(s, removed.sourceId));
  policy = forgetSource(policy, removed.sourceId);
  toast.dismiss(sourceToastId(removed.sourceId)); // a sticky toast about a server that is gone
  if (before) announce(`${before.name} was removed.`);
}

/** Opens the live link; returns a function that closes it. */
export function startLive(): () => void {
  let source: EventSource | null = null;
  let retryTimer: number | undefined;
  let backoffMs = 1000;
  let stopped = false;

  const open = () => {
    if (stopped) return;
    // A manual reopen (after the browser gave up) asks for a resume too; the browser's own retries send Last-Event-ID.
    const { loaded, lastEventId } = appStore.get();
    source = new EventSource(apiUrl(loaded && lastEventId > 0 ? `events?lastEventId=${lastEventId}` : 'events'));
    source.addEventListener('open', () => {
      if (appStore.get().link !== 'open') appStore.set((s) => ({ ...s, link: 'open' }));
    });
    source.addEventListener('snapshot', (e) => {
      const snapshot = parse<ApiSnapshot>(e);
      if (!snapshot) return;
      backoffMs = 1000;
      onSnapshot(snapshot);
    });
    source.addEventListener('engine', (e) => {
      const message = parse<ApiEventMessage>(e);
      if (message) onEngine(message);
    });
    source.addEventListener('source', (e) => {
      const update = parse<ApiSourceUpdate>(e);
      if (update?.source) onSource(update);
    });
    source.addEventListener('health', (e) => {
      const health = parse<unknown>(e);
      if (health) appStore.set((s) => applyHealth(s, health));
    });
    // A library's cache changed (a sync finished, a server came back): pages showing it refetch in place.
    source.addEventListener('library', (e) => {
      const update = parse<ApiLibraryUpdate>(e);
      if (update && typeof update.sourceId === 'string' && typeof update.libraryId === 'string') libraryChanged(update.sourceId, update.libraryId);
    });
    source.addEventListener('removed', (e) => {
      const removed = parse<ApiSourceRemoved>(e);
      if (removed) onRemoved(removed);
    });
    source.addEventListener('error', () => {
      if (stopped || !source) return;
      if (appStore.get().link !== 'lost') appStore.set((s) => ({ ...s, link: 'lost' }));
      // CONNECTING: the browser retries by itself (sending Last-Event-ID). CLOSED: it gave up
      // (an HTTP error such as 401 or 502 from a proxy) — find out why and retry ourselves.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        void checkAuthThenRetry();
      }
    });
  };

  const checkAuthThenRetry = async () => {
    try {
      const response = await fetch(apiUrl('sources'), { credentials: 'same-origin' });
      if (response.status === 401) {
        appStore.set((s) => ({ ...s, link: 'unauthorized' }));
        return;
      }
    } catch {
      /* still unreachable: retry below */
    }
    retryTimer = window.setTimeout(open, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 15_000);
  };

  open();
  return () => {
    stopped = true;
    window.clearTimeout(retryTimer);
    source?.close();
  };
}

/** After a successful API-key sign-in. */
export function restartLive(stop: () => void): () => void {
  stop();
  appStore.set((s) => ({ ...s, link: 'connecting' }));
  return startLive();
}
