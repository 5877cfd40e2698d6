import { useState } from 'react';
import type { ApiSource } from '../../api/types';
import { apiFetch, errorMessage } from '../lib/api';
import { navigate } from '../lib/hooks';
import { currentRoute } from '../lib/router';
import { FormError } from './FormError';
import { Modal } from './Modal';
import { asyncHandler } from '../lib/async-handler';

export function RemoveDialog({ source, onClose }: { source: ApiSource; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title={`Remove ${source.name}?`} onClose={onClose} testId="remove-dialog">
      <p>Marquee will stop watching this server and forget its sign-in. Nothing on the server itself is changed; you can add it again later.</p>
      <FormError message={error} />
      <div className="form-actions">
        <button type="button" className="button ghost" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          disabled={busy}
          data-testid="remove-confirm"
          onClick={asyncHandler(async () => {
            setBusy(true);
            try {
              await apiFetch(`sources/${encodeURIComponent(source.id)}`, { method: 'DELETE' });
              onClose();
              // Leave the removed source's page, but only if the user is still on it: the answer may
              // arrive after they went elsewhere (the sidebar already dropped it from the stream).
              const here = currentRoute();
              if (here.page === 'sources' && here.sourceId === source.id) navigate({ page: 'sources' });
            } catch (err) {
              setError(errorMessage(err));
              setBusy(false);
            }
          })}
        >
          {busy ? 'Removing…' : 'Remove'}
        </button>
      </div>
    </Modal>
  );
}
