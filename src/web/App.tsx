import { useEffect, useRef } from 'react';
import { Toaster } from 'sonner';
import { ConnectionBanner } from './components/ConnectionBanner';
import { DocumentTitle } from './components/DocumentTitle';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Header } from './components/Header';
import { LiveRegion } from './components/LiveRegion';
import { Sidebar } from './components/Sidebar';
import { StorageBanner } from './components/StorageBanner';
import { SignInDialog } from './components/SignInDialog';
import { useApp, useRoute, type Route } from './lib/hooks';
import { restartLive, startLive } from './lib/live';
import { interceptLinkClicks } from './lib/router';
import { AddSourcePage } from './pages/AddSourcePage';
import { ApiKeyLogin } from './pages/ApiKeyLogin';
import { DemoPage } from './pages/DemoPage';
import { HomePage } from './pages/HomePage';
import { ItemPage } from './pages/ItemPage';
import { LibraryPage } from './pages/LibraryPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SearchPage } from './pages/SearchPage';
import { NotificationsPage } from './pages/NotificationsPage';
import { SourcesPage } from './pages/SourcesPage';

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case 'add':
      return <AddSourcePage kind={route.addKind} />;
    case 'demo':
      return <DemoPage />;
    case 'notifications':
      return <NotificationsPage />;
    case 'sources':
      return <SourcesPage focusId={route.sourceId} />;
    case 'home':
      return <HomePage />;
    case 'library':
      return <LibraryPage key={`${route.sourceId}/${route.libraryId}`} sourceId={route.sourceId!} libraryId={route.libraryId!} search={route.search ?? ''} />;
    case 'item':
      return <ItemPage key={`${route.sourceId}/${route.itemId}`} sourceId={route.sourceId!} itemId={route.itemId!} />;
    case 'search':
      return <SearchPage query={route.query ?? ''} />;
    case 'play':
      return <NotFoundPage what="The player is not part of this build yet." />;
    case 'not-found':
      return <NotFoundPage />;
  }
}

export function App() {
  const route = useRoute();
  const link = useApp((s) => s.link);
  const stopRef = useRef<(() => void) | null>(null);

  useEffect(() => {
    stopRef.current = startLive();
    const stopLinks = interceptLinkClicks();
    return () => {
      stopRef.current?.();
      stopLinks();
    };
  }, []);

  // Move focus to the main heading on navigation, so keyboard and screen-reader users follow.
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (route.page === 'sources' && route.sourceId) return; // the sources page focuses the card itself
    // Typing in the header search opens the results page: the typing goes on, focus stays.
    if (document.activeElement?.closest('[role="search"]')) return;
    const heading = mainRef.current?.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }, [route.page, route.addKind, route.sourceId, route.libraryId, route.itemId]);

  if (link === 'unauthorized') {
    return <ApiKeyLogin onSignedIn={() => (stopRef.current = restartLive(stopRef.current ?? (() => {})))} />;
  }

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>
        Skip to content
      </a>
      <Header />
      <ConnectionBanner />
      <StorageBanner />
      <div className="app-body">
        <Sidebar />
        <main id="main" ref={mainRef} className="main" tabIndex={-1}>
          <ErrorBoundary resetKey={`${route.page}/${route.addKind ?? ''}/${route.sourceId ?? ''}/${route.libraryId ?? ''}/${route.itemId ?? ''}/${route.query ?? ''}`}>
            <PageFor route={route} />
          </ErrorBoundary>
        </main>
      </div>
      <SignInDialog />
      <DocumentTitle />
      <LiveRegion />
      <Toaster theme="system" position="bottom-right" richColors closeButton visibleToasts={4} duration={6000} toastOptions={{ className: 'mq-toast' }} />
    </div>
  );
}
