import { useEffect } from 'react';
import { href, useApp, useRoute, useUi } from '../lib/hooks';
import { setNavOpen } from '../lib/ui-state';
import { FlaskIcon, PlusIcon, ServerIcon } from './Icons';
import { SidebarSource } from './SidebarSource';

export function Sidebar() {
  const sources = useApp((s) => s.sources);
  const demo = useApp((s) => s.demo);
  const loaded = useApp((s) => s.loaded);
  const navOpen = useUi((s) => s.navOpen);
  const route = useRoute();
  const close = () => setNavOpen(false);

  // Esc closes the phone menu and returns focus to its button.
  useEffect(() => {
    if (!navOpen) return;
    document.querySelector<HTMLElement>('#sidebar a')?.focus({ preventScroll: true });
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setNavOpen(false);
      document.querySelector<HTMLElement>('[data-testid="nav-toggle"]')?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navOpen]);
  return (
    <>
      <div className={`nav-scrim${navOpen ? ' open' : ''}`} onClick={close} aria-hidden="true" />
      <nav id="sidebar" className={`sidebar${navOpen ? ' open' : ''}`} aria-label="Servers and libraries" data-testid="sidebar">
        <div className="sidebar-nav">
          <a className={`sidebar-nav-link${route.page === 'sources' && !route.sourceId ? ' active' : ''}`} href={href({ page: 'sources' })} onClick={close} data-testid="nav-sources">
            <ServerIcon /> Servers
          </a>
          {demo && (
            <a className={`sidebar-nav-link${route.page === 'demo' ? ' active' : ''}`} href={href({ page: 'demo' })} onClick={close} data-testid="nav-demo">
              <FlaskIcon /> Demo controls
            </a>
          )}
        </div>
        <h2 className="sidebar-heading">Sources</h2>
        {loaded && sources.length === 0 && <p className="sidebar-empty">No servers yet.</p>}
        <ul className="sidebar-sources">
          {sources.map((source) => (
            <SidebarSource key={source.id} source={source} active={route.page === 'sources' && route.sourceId === source.id} />
          ))}
        </ul>
        <a className="button ghost add-source" href={href({ page: 'add' })} onClick={close} data-testid="add-source-button">
          <PlusIcon /> Add a server
        </a>
      </nav>
    </>
  );
}
