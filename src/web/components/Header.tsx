import { href, useUi } from '../lib/hooks';
import { setNavOpen } from '../lib/ui-state';
import { MarqueeLogo, MenuIcon } from './Icons';
import { OverallIndicator } from './OverallIndicator';

export function Header() {
  const navOpen = useUi((s) => s.navOpen);
  return (
    <header className="app-header">
      <button
        type="button"
        className="icon-button nav-toggle"
        aria-label={navOpen ? 'Close menu' : 'Open menu'}
        aria-expanded={navOpen}
        aria-controls="sidebar"
        data-testid="nav-toggle"
        onClick={() => setNavOpen(!navOpen)}
      >
        <MenuIcon size={22} />
      </button>
      <a className="brand" href={href({ page: 'sources' })}>
        <MarqueeLogo />
        <span className="brand-name">Marquee</span>
      </a>
      <div className="header-spacer" />
      <OverallIndicator />
    </header>
  );
}
