import { useState } from 'react';
import { toast } from 'sonner';
import type { ApiSource } from '../../api/types';
import { PlexPinFlow } from '../components/PlexPinFlow';
import { PlexServerPicker } from '../components/PlexServerPicker';
import { apiFetch, errorMessage } from '../lib/api';
import { navigate } from '../lib/hooks';
import type { ApiPlexServer } from '../../api/types';

export function PlexWizard() {
  const [found, setFound] = useState<{ pinId: number; servers: ApiPlexServer[] } | null>(null);
  return (
    <div className="wizard" data-testid="plex-wizard">
      <ol className="steps" aria-label="Steps">
        <li className={!found ? 'current' : 'done'} aria-current={!found ? 'step' : undefined}>Sign in with Plex</li>
        <li className={found ? 'current' : ''} aria-current={found ? 'step' : undefined}>Choose a server</li>
      </ol>
      {!found ? (
        <PlexPinFlow intro="Marquee uses Plex's own sign-in: you approve it on plex.tv, and Marquee never sees your password." onAuthorized={(pinId, servers) => setFound({ pinId, servers })} />
      ) : (
        <PlexServerPicker
          servers={found.servers}
          existingServerIds={new Set(found.servers.filter((s) => s.alreadyAdded).map((s) => s.serverId))}
          onPick={async (server) => {
            try {
              const source = await apiFetch<ApiSource>('sources', { method: 'POST', body: { kind: 'plex', serverId: server.serverId, pinId: found.pinId } });
              toast.success(`${source.name} added`, { description: 'Marquee is testing its routes now.' });
              navigate({ page: 'sources', sourceId: source.id });
            } catch (err) {
              throw new Error(errorMessage(err));
            }
          }}
        />
      )}
    </div>
  );
}
