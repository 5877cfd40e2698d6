import { href, useUi } from '../lib/hooks';
import { setNavOpen } from '../lib/ui-state';
import { MarqueeLogo, MenuIcon } from './Icons';
import { OverallIndicator } from './OverallIndicator';
import { SearchBox } from './SearchBox';

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
      <a className="brand" href={href({ page: 'home' })} aria-label="Marquee — Home">
        <MarqueeLogo />
        <span className="brand-name">Marquee</span>
      </a>
      <SearchBox />
      <div className="header-spacer" />
      <OverallIndicator />
    </header>
  );
}
