import { href } from '../lib/hooks';

/** An address under Marquee that no page answers (or a page this build does not have yet, such as the player). */
export function NotFoundPage({ what = 'This page does not exist.' }: { what?: string }) {
  return (
    <div className="page narrow" data-testid="not-found-page">
      <h1>Nothing here</h1>
      <p className="muted">{what}</p>
      <p>
        <a className="button" href={href({ page: 'home' })}>
          Go to Home
        </a>
      </p>
    </div>
  );
}
