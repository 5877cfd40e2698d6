// UI-only state shared across components: the sign-in dialog, the live-region message, the
// mobile navigation drawer.
import { createStore } from './state';

export interface UiState {
  signInSourceId: string | null;
  announcement: { id: number; text: string };
  navOpen: boolean;
}

export const uiStore = createStore<UiState>({ signInSourceId: null, announcement: { id: 0, text: '' }, navOpen: false });

export function openSignIn(sourceId: string): void {
  uiStore.set((s) => ({ ...s, signInSourceId: sourceId }));
}

export function closeSignIn(): void {
  uiStore.set((s) => ({ ...s, signInSourceId: null }));
}

export function announce(text: string): void {
  uiStore.set((s) => ({ ...s, announcement: { id: s.announcement.id + 1, text } }));
}

export function setNavOpen(open: boolean): void {
  uiStore.set((s) => (s.navOpen === open ? s : { ...s, navOpen: open }));
}
