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
import { useApp, useRoute } from './lib/hooks';
import { restartLive, startLive } from './lib/live';
import { AddSourcePage } from './pages/AddSourcePage';
import { ApiKeyLogin } from './pages/ApiKeyLogin';
import { DemoPage } from './pages/DemoPage';
import { NotificationsPage } from './pages/NotificationsPage';
import { SourcesPage } from './pages/SourcesPage';

export function App() {
  const route = useRoute();
  const link = useApp((s) => s.link);
  const stopRef = useRef<(() => void) | null>(null);

  useEffect(() => {
    stopRef.current = startLive();
    return () => stopRef.current?.();
  }, []);

  // Move focus to the main heading on navigation, so keyboard and screen-reader users follow.
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (route.sourceId) return; // the sources page focuses the card itself
    const heading = mainRef.current?.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }, [route.page, route.addKind, route.sourceId]);

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
          <ErrorBoundary resetKey={`${route.page}/${route.addKind ?? ''}/${route.sourceId ?? ''}`}>
            {route.page === 'add' ? <AddSourcePage kind={route.addKind} /> : route.page === 'demo' ? <DemoPage /> : route.page === 'notifications' ? <NotificationsPage /> : <SourcesPage focusId={route.sourceId} />}
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
