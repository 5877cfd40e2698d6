import { useState } from 'react';
import type { ApiSource } from '../../api/types';
import { apiFetch, errorMessage } from '../lib/api';
import { FormError } from './FormError';
import { Modal } from './Modal';
import { asyncHandler } from '../lib/async-handler';

export function RenameDialog({ source, onClose }: { source: ApiSource; onClose: () => void }) {
  const [name, setName] = useState(source.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const trimmed = name.trim();
  return (
    <Modal title={`Rename ${source.name}`} onClose={onClose} testId="rename-dialog">
      <form
        className="form"
        onSubmit={asyncHandler(async (e) => {
          e.preventDefault();
          if (!trimmed) return setError('Give the server a name.');
          setBusy(true);
          try {
            await apiFetch(`sources/${encodeURIComponent(source.id)}`, { method: 'PATCH', body: { name: trimmed } });
            onClose();
          } catch (err) {
            setError(errorMessage(err));
            setBusy(false);
          }
        })}
      >
        <label className="field">
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required data-autofocus data-testid="rename-input" />
        </label>
        <FormError message={error} />
        <div className="form-actions">
          <button type="button" className="button ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy || !trimmed} data-testid="rename-save">
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
