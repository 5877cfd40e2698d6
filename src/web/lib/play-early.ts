// Imported first by main.tsx, so this runs before the rest of the app is evaluated: on a player
// address the play session is asked for now, while React and the pages load (lib/play-session.ts);
// and an in-app navigation to a player address (Play on an item page, next episode) asks for it as
// the click lands, not after the player page has rendered.
import { startPlayEarly } from './play-session';
import { onNavigationStart } from './router';

startPlayEarly();
onNavigationStart((target) => startPlayEarly(target));
