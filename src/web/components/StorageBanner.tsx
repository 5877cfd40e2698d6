import { useApp } from '../lib/hooks';
import { storageWarning, type StorageHealth } from '../lib/state';
import { WarningIcon } from './Icons';

/** Presentational half, rendered in unit tests without a store. */
export function StorageBannerView({ health }: { health: StorageHealth | null }) {
  const text = storageWarning(health);
  if (!text) return null;
  return (
    <div className="storage-banner" role="alert" data-testid="storage-banner">
      <WarningIcon size={16} />
      <span>{text}</span>
    </div>
  );
}

/** Shown while the server cannot write its database; hides as soon as `event: health` says ok. */
export function StorageBanner() {
  const health = useApp((s) => s.health);
  return <StorageBannerView health={health} />;
}
