import { ArrowLeftIcon, JellyfinIcon, PlexIcon } from '../components/Icons';
import { href } from '../lib/hooks';
import { JellyfinWizard } from './JellyfinWizard';
import { PlexWizard } from './PlexWizard';

export function AddSourcePage({ kind }: { kind?: 'plex' | 'jellyfin' }) {
  return (
    <div className="page narrow" data-testid="add-source-page">
      <div className="page-head">
        <div>
          <a className="back-link" href={kind ? href({ page: 'add' }) : href({ page: 'sources' })}>
            <ArrowLeftIcon size={16} /> {kind ? 'Choose another kind' : 'Servers'}
          </a>
          <h1>{kind === 'plex' ? 'Add a Plex server' : kind === 'jellyfin' ? 'Add a Jellyfin server' : 'Add a server'}</h1>
        </div>
      </div>
      {!kind && (
        <div className="kind-choices">
          <a className="kind-choice" href={href({ page: 'add', addKind: 'plex' })} data-testid="wizard-choose-plex">
            <PlexIcon size={48} />
            <strong>Plex</strong>
            <span className="muted">Sign in with your Plex account; Marquee finds your servers and all their addresses.</span>
          </a>
          <a className="kind-choice" href={href({ page: 'add', addKind: 'jellyfin' })} data-testid="wizard-choose-jellyfin">
            <JellyfinIcon size={48} />
            <strong>Jellyfin</strong>
            <span className="muted">Enter your server's address, then sign in with a password or Quick Connect.</span>
          </a>
        </div>
      )}
      {kind === 'plex' && <PlexWizard />}
      {kind === 'jellyfin' && <JellyfinWizard />}
    </div>
  );
}
