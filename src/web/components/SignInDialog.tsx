// "Sign in again" for an existing source: Plex by a new PIN, Jellyfin by password or Quick Connect.
import { toast } from 'sonner';
import type { ApiSource } from '../../api/types';
import { apiFetch } from '../lib/api';
import { useApp, useUi } from '../lib/hooks';
import { closeSignIn } from '../lib/ui-state';
import { useSourceDetail } from '../lib/use-source-detail';
import { JellyfinCredentials } from './JellyfinCredentials';
import { Modal } from './Modal';
import { PlexPinFlow } from './PlexPinFlow';

function signedIn(source: ApiSource) {
  toast.success(`Signed in to ${source.name} again`, { description: 'Marquee is checking the connection now.' });
  closeSignIn();
}

function JellyfinSignIn({ source }: { source: ApiSource }) {
  const { detail } = useSourceDetail(source.id);
  const url = source.route?.url ?? detail?.routes[0]?.url ?? null;
  if (!url) return <div className="skeleton short" />;
  return (
    <JellyfinCredentials
      url={url}
      sourceId={source.id}
      submitLabel="Sign in"
      onSubmit={async (credentials) => {
        await apiFetch(`sources/${encodeURIComponent(source.id)}/signin`, { method: 'POST', body: credentials });
        signedIn(source);
      }}
    />
  );
}

export function SignInDialog() {
  const sourceId = useUi((s) => s.signInSourceId);
  const source = useApp((s) => s.sources.find((x) => x.id === sourceId) ?? null);
  if (!sourceId || !source) return null;
  return (
    <Modal title={`Sign in to ${source.name} again`} onClose={closeSignIn} testId="signin-dialog">
      {source.kind === 'plex' ? (
        <PlexPinFlow
          intro="Approve Marquee on plex.tv with the account that has access to this server."
          onAuthorized={async (pinId) => {
            await apiFetch(`sources/${encodeURIComponent(source.id)}/signin`, { method: 'POST', body: { pinId } });
            signedIn(source);
          }}
        />
      ) : (
        <JellyfinSignIn source={source} />
      )}
    </Modal>
  );
}
