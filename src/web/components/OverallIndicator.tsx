import { href, useApp } from '../lib/hooks';
import { overallStatus } from '../lib/status';
import { CheckCircleIcon, OfflineIcon, ServerIcon, SpinnerIcon, WarningIcon } from './Icons';

export function OverallIndicator() {
  const sources = useApp((s) => s.sources);
  const loaded = useApp((s) => s.loaded);
  const view = overallStatus(sources);
  const state = loaded ? view.state : 'connecting';
  const icon =
    state === 'ok' ? <CheckCircleIcon /> : state === 'degraded' ? <WarningIcon /> : state === 'offline' ? <OfflineIcon /> : state === 'connecting' ? <SpinnerIcon /> : <ServerIcon />;
  const tone = state === 'ok' ? 'ok' : state === 'degraded' ? 'warn' : state === 'offline' ? 'error' : 'neutral';
  return (
    <a
      className={`overall-indicator tone-${tone}`}
      href={href({ page: 'sources' })}
      data-testid="header-indicator"
      data-state={state}
      title={loaded ? view.sentence : 'Loading…'}
    >
      {icon}
      <span className="overall-label">{loaded ? view.label : 'Loading…'}</span>
      <span className="visually-hidden">. {loaded ? view.sentence : ''} Open the servers page.</span>
    </a>
  );
}
